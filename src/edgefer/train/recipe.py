"""Training recipes: a YAML file under ``configs/`` parsed into typed dataclasses.

Every field can be overridden from the command line with ``--set section.key=value`` (the value is read as
YAML, so ``--set train.lr=1e-3`` gives a float and ``--set data.fold=null`` gives None). Unknown keys, wrong
types and impossible values raise ``ConfigError`` before any data is read or any model is built.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from edgefer.data.splits import PROTOCOLS
from edgefer.errors import ConfigError, ModelError

if TYPE_CHECKING:
    from torch import nn

SCHEDULES = ("cosine", "step", "none")
OPTIMIZERS = ("adam", "adamw", "sgd")


@dataclass
class ModelConfig:
    name: str = "lightcnn"
    img_size: int | None = None  # None: the model's registered default
    in_chans: int = 1
    kwargs: dict[str, Any] = field(default_factory=dict)
    init: str | None = None  # weights file to fine-tune from (see train/finetune.py); None: random initialisation

    def build(self, num_classes: int) -> nn.Module:
        """A freshly initialised model of this configuration with ``num_classes`` outputs."""
        from edgefer.models.registry import create_model

        return create_model(
            self.name, num_classes=num_classes, in_chans=self.in_chans, img_size=self.img_size, **self.kwargs
        )


@dataclass
class DataConfig:
    dataset: str = "fer2013"
    root: str = "../shared/datasets/fer2013"
    protocol: str = "official"
    n_folds: int = 10
    fold: int | None = None  # None: every fold of the protocol, each trained from scratch
    seed: int = 0  # seed of the split itself, kept apart from the training seed
    classes: list[str] | None = None  # None: the classes present in the training split, in canonical order
    # A manifest (e.g. `edgefer data audit --clean-manifest`) that training images must be listed in; val and test
    # are never filtered, so results stay comparable with runs on the whole data set. None: train on all.
    train_manifest: str | None = None


@dataclass
class AugmentConfig:
    crop_padding: int = 4  # random crop after zero padding by this many pixels; 0 switches it off
    hflip: bool = True
    rotation: float = 10.0  # uniform in ±degrees; 0 switches it off
    erasing: float = 0.0  # probability of erasing one random rectangle per image; 0 switches it off
    mixup: float = 0.0  # alpha of mixup's Beta(alpha, alpha) mixing weight (0.2 is common); 0 switches it off

    @property
    def enabled(self) -> bool:
        """Whether a batch differs from epoch to epoch (so a teacher's outputs cannot be cached)."""
        return self.crop_padding > 0 or self.hflip or self.rotation > 0 or self.erasing > 0 or self.mixup > 0


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 64
    eval_batch_size: int = 256
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9  # SGD only
    schedule: str = "cosine"
    step_size: int = 10  # step schedule only
    gamma: float = 0.1  # step schedule only
    label_smoothing: float = 0.0
    # Decay of an exponential moving average of the weights, updated every step; the average is what is validated,
    # selected and saved (train/weight_average.py). 0 switches it off; 0.999 averages over about 1,000 steps.
    ema_decay: float = 0.0
    seed: int = 0
    device: str = "auto"  # auto: CUDA when present, else CPU
    threads: int = 0  # 0: leave PyTorch's default


@dataclass
class DistillConfig:
    # Weights file of the teacher, or a list of them to distil from their ensemble (teacher.py says how they are
    # combined); None trains with cross-entropy only. In a k-fold run, "{fold}" in a file name stands for each fold's
    # folder (fold_00, ...), so that every fold distils from a teacher trained on that fold's split: a teacher
    # trained on the whole data set would have seen the student's test subjects.
    teacher: str | list[str] | None = None
    alpha: float = 0.5  # weight of the response (KL) term, HCMTMM Eq. 11
    beta: float = 0.5  # weight of the feature (MSE) term, HCMTMM Eq. 11
    temperature: float = 4.0
    cache_teacher: bool = True  # precompute the teacher's outputs once when augmentation is off
    # Whether the teacher's input is shrunk from the student's size with an antialiasing filter (the right filter
    # for images cached from larger sources). false: plain bilinear, which nearly undoes the cache's enlargement of
    # images stored smaller than the student's size (FER2013's 48x48 at HCMTMM's 98x98, where the antialiased
    # blur costs the shipped dmsnet_light and lightcnn 1.9-2.8 points of PublicTest accuracy as teachers;
    # benchmarks/teacher_input.py).
    teacher_antialias: bool = True

    def __post_init__(self) -> None:
        # One spelling per recipe, so that a run resumed with --teacher a.pt matches one started from [a.pt], and an
        # empty --set distill.teacher= means no distillation, as an empty model.init means no initial weights.
        if self.teacher == "":
            self.teacher = None
        elif isinstance(self.teacher, list) and len(self.teacher) == 1:
            self.teacher = self.teacher[0]

    def teacher_files(self) -> list[str]:
        """The teacher weight files, one or several (empty without distillation)."""
        if self.teacher is None:
            return []
        return [self.teacher] if isinstance(self.teacher, str) else list(self.teacher)


@dataclass
class Recipe:
    name: str = "run"
    output_dir: str = "runs"
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)

    @property
    def run_dir(self) -> Path:
        return Path(self.output_dir) / self.name

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _check_type(value: Any, hint: Any, key: str) -> Any:
    """``value`` converted to ``hint`` where that is lossless (int → float), else ConfigError."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        inner = [option for option in options if option is not type(None)]
        errors = []
        for option in inner:  # e.g. str | list[str]: the first type the value fits
            try:
                return _check_type(value, option, key)
            except ConfigError as error:
                errors.append(error)
        # A list with a wrong item is best told about that item; any other value, about every type it could be.
        fitting = [
            error
            for option, error in zip(inner, errors, strict=True)
            if isinstance(value, typing.get_origin(option) or option)
        ]
        if len(fitting) == 1 or len(inner) == 1:
            raise (fitting or errors)[0]
        names = " or ".join(str(option) if typing.get_origin(option) else option.__name__ for option in inner)
        raise ConfigError(
            f"recipe key {key!r} must be of type {names}, got {value!r} ({type(value).__name__}); "
            "fix the recipe or the --set value"
        )
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"recipe key {key!r} must be a list, got {value!r}; write it as [a, b, ...]")
        (item,) = typing.get_args(hint)
        return [_check_type(element, item, key) for element in value]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"recipe key {key!r} must be a mapping, got {value!r}; write it as {{key: value}}")
        return dict(value)
    if hint is float:
        return _finite_float(value, key)
    if hint is int and isinstance(value, bool):
        raise ConfigError(f"recipe key {key!r} must be an integer, got {value!r}")
    if not isinstance(value, hint):
        raise ConfigError(
            f"recipe key {key!r} must be of type {hint.__name__}, got {value!r} ({type(value).__name__}); "
            "fix the recipe or the --set value"
        )
    return value


def _finite_float(value: Any, key: str) -> float:
    """A float, an integer or a numeric string (PyYAML follows YAML 1.1, where 5e-4 without a dot is a string) as a
    float; infinity and NaN are refused here, as no setting means anything with them."""
    number = None
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        with contextlib.suppress(ValueError, OverflowError):  # OverflowError: an integer beyond any float
            number = float(value)
    if number is None:
        raise ConfigError(
            f"recipe key {key!r} must be of type float, got {value!r} ({type(value).__name__}); "
            "fix the recipe or the --set value"
        )
    if not math.isfinite(number):
        raise ConfigError(
            f"recipe key {key!r} must be a finite number, got {value!r}; fix the recipe or the --set value"
        )
    return number


def _build(cls: type, data: Any, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(_not_a_mapping(cls, data, prefix.rstrip(".")))
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ConfigError(f"unknown recipe key {prefix + unknown[0]!r}; known keys in this section: {', '.join(names)}")
    values = {}
    for name, value in data.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            values[name] = _build(hint, value, f"{prefix}{name}.")
        else:
            values[name] = _check_type(value, hint, prefix + name)
    return cls(**values)


def _not_a_mapping(cls: type, data: Any, section: str) -> str:
    if not section:
        return f"a recipe must be a mapping of sections, got {data!r}; write it as `name: ...`, `model: {{...}}`, ..."
    key = dataclasses.fields(cls)[0].name
    return (
        f"recipe section {section!r} must be a mapping of its keys, got {data!r}; write it as "
        f"`{section}: {{{key}: ..., ...}}`, or set one key with --set {section}.{key}=VALUE"
    )


def _validate(recipe: Recipe) -> None:
    def need(condition: bool, message: str) -> None:
        if not condition:
            raise ConfigError(message)

    need(recipe.data.protocol in PROTOCOLS, f"data.protocol {recipe.data.protocol!r} is not one of {PROTOCOLS}")
    need(recipe.train.schedule in SCHEDULES, f"train.schedule {recipe.train.schedule!r} is not one of {SCHEDULES}")
    need(
        recipe.train.optimizer in OPTIMIZERS,
        f"train.optimizer {recipe.train.optimizer!r} is not one of {OPTIMIZERS}",
    )
    device = recipe.train.device
    need(
        device in ("auto", "cpu", "cuda") or device.startswith("cuda:"),
        f"train.device {device!r} must be auto, cpu, cuda or cuda:N",
    )
    for key, value in (
        ("train.epochs", recipe.train.epochs),
        ("train.batch_size", recipe.train.batch_size),
        ("train.eval_batch_size", recipe.train.eval_batch_size),
        ("train.step_size", recipe.train.step_size),
        ("data.n_folds", recipe.data.n_folds),
        ("model.in_chans", recipe.model.in_chans),
    ):
        need(value >= 1, f"{key} must be at least 1, got {value}")
    need(recipe.train.lr > 0, f"train.lr must be positive, got {recipe.train.lr}")
    need(
        recipe.train.weight_decay >= 0,
        f"train.weight_decay must be 0 (off) or positive, got {recipe.train.weight_decay}",
    )
    need(
        0 <= recipe.train.momentum < 1,
        f"train.momentum (SGD) must be in [0, 1), got {recipe.train.momentum}; e.g. 0.9, or 0 for none",
    )
    need(
        recipe.train.gamma > 0,
        f"train.gamma is the factor the lr is multiplied by every train.step_size epochs (step schedule) and must "
        f"be positive, got {recipe.train.gamma}; e.g. 0.1",
    )
    need(recipe.train.threads >= 0, f"train.threads must be 0 (default) or more, got {recipe.train.threads}")
    need(0 <= recipe.train.label_smoothing < 1, "train.label_smoothing must be in [0, 1)")
    need(
        0 <= recipe.train.ema_decay < 1,
        f"train.ema_decay must be in [0, 1) (0: no weight averaging; e.g. 0.999), got {recipe.train.ema_decay}",
    )
    need(recipe.distill.temperature > 0, "distill.temperature must be positive")
    teachers = recipe.distill.teacher_files()
    need(
        recipe.distill.teacher != [],
        "distill.teacher is an empty list; name one teacher file or several, or null for no distillation",
    )
    need(all(teachers), f"distill.teacher {recipe.distill.teacher!r} has an empty file name; name each weights file")
    need(
        len(set(teachers)) == len(teachers),
        f"distill.teacher {recipe.distill.teacher!r} names a file twice, which would weigh it double; name each once",
    )
    need(0 <= recipe.augment.erasing <= 1, "augment.erasing is a probability and must be in [0, 1]")
    need(recipe.augment.mixup >= 0, "augment.mixup is a Beta distribution's alpha and must be >= 0 (0 switches it off)")
    need(recipe.augment.crop_padding >= 0, "augment.crop_padding must be 0 (off) or more")
    need(recipe.augment.rotation >= 0, "augment.rotation must be 0 (off) or a positive number of degrees")
    need(recipe.model.img_size is None or recipe.model.img_size >= 8, "model.img_size must be at least 8")
    need(recipe.data.fold is None or recipe.data.fold >= 0, "data.fold must be null (all folds) or ≥ 0")
    need(
        bool(recipe.data.root.strip()),
        "data.root is empty; give the data set's folder or file, e.g. --set data.root=../shared/datasets/fer2013",
    )
    need(
        bool(recipe.output_dir.strip()),
        "output_dir is empty; give the folder runs are written under, e.g. --set output_dir=runs",
    )
    need(
        "/" not in recipe.name and recipe.name not in ("", ".", ".."),
        f"name {recipe.name!r} is not a folder name, and the run is written to output_dir/name; "
        "give a name without '/', e.g. --set name=lightcnn_fer2013",
    )
    _check_model_name(recipe.model.name)


def _check_model_name(name: str) -> None:
    """``model.name`` must be registered: an unknown one fails here, not after the data set is decoded."""
    from edgefer.models.registry import model_entry  # imports torch: only once a recipe is built

    try:
        model_entry(name)
    except ModelError as error:
        raise ModelError(f"model.name: {error}") from None


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"train.lr=1e-3"`` → (["train", "lr"], 0.001); the value is read as YAML."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r} is not of the form key=value (e.g. --set train.lr=0.001)")
    key, raw = text.split("=", 1)
    try:
        value = yaml.load(raw, Loader=_UniqueKeyLoader) if raw.strip() else ""  # a SafeLoader
    except yaml.constructor.ConstructorError as error:  # a key given twice
        raise ConfigError(f"--set {text!r}: {error.problem}; give each key once") from None
    except yaml.YAMLError as error:
        if raw.lstrip().startswith("["):  # meant as a list: kept as one string it would become one bogus value
            raise ConfigError(
                f"--set {text!r}: the list is not valid YAML {_yaml_problem(error)}; quote items that hold braces "
                'or commas, e.g. distill.teacher=["runs/t/{fold}/best.pt", b.pt]'
            ) from None
        value = raw  # e.g. {fold}/best.pt: a plain string that YAML would read as the start of a mapping
    return key.strip().split("."), value


def recipe_from_dict(data: dict[str, Any], overrides: list[str] = ()) -> Recipe:
    """Build and validate a recipe from a mapping plus ``key=value`` overrides."""
    data = yaml.safe_load(yaml.safe_dump(data or {}))  # a deep copy with plain types
    for text in overrides:
        path, value = parse_override(text)
        node = data
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {text!r}: {part!r} is not a section of the recipe")
            node = child
        node[path[-1]] = value
    recipe = _build(Recipe, data, "")
    _validate(recipe)
    return recipe


def load_recipe(path: str | Path, overrides: list[str] = ()) -> Recipe:
    """Read a recipe file and apply ``key=value`` overrides."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(
            f"recipe {str(path)!r} is a folder; pass a recipe YAML file, e.g. one of those under configs/"
        )
    if not path.is_file():
        raise ConfigError(f"recipe file {str(path)!r} does not exist; pass one of the files under configs/")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # a SafeLoader
    except yaml.YAMLError as error:
        raise ConfigError(
            f"recipe {str(path)!r} is not valid YAML {_yaml_problem(error)}; fix the file there"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"recipe {str(path)!r} cannot be read as text ({error}); pass a recipe YAML file") from None
    if data is None:
        raise ConfigError(
            f"recipe {str(path)!r} is empty; write the recipe's fields into it (start from a file under configs/)"
        )
    if not isinstance(data, dict):
        raise ConfigError(
            f"recipe {str(path)!r} holds a {type(data).__name__}, not a mapping of recipe sections; "
            "write it as `name: ...`, `model: {...}`, `data: {...}` (see configs/)"
        )
    return recipe_from_dict(data, overrides)


_MERGE_TAGS = ("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value")


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key written twice in one mapping, where PyYAML would keep the last one and
    drop the first silently (two ``train:`` sections in one recipe, say)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag in _MERGE_TAGS:  # `<<: *base` merges a mapping; its keys may be overridden
                continue
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, typing.Hashable):  # PyYAML's own construct_mapping refuses it
                continue
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark, f"found the key {key!r} twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(error: yaml.YAMLError) -> str:
    """Where and what a YAML error is, on one line: ``at line 4, column 6: expected ',' or ']', but got ':' (while
    parsing a flow sequence that starts at line 3, column 9)``."""

    def where(mark: Any) -> str:
        return f"line {mark.line + 1}, column {mark.column + 1}"

    problem, problem_mark = getattr(error, "problem", None), getattr(error, "problem_mark", None)
    context, context_mark = getattr(error, "context", None), getattr(error, "context_mark", None)
    if not problem:
        return " ".join(str(error).split())
    text = f"at {where(problem_mark)}: {problem}" if problem_mark is not None else str(problem)
    if context:
        text += f" ({context}" + (f" that starts at {where(context_mark)})" if context_mark is not None else ")")
    return " ".join(text.split())


def dump_recipe(recipe: Recipe, path: str | Path) -> Path:
    """Write the resolved recipe as YAML (the file ``load_recipe`` reads back into an equal recipe)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(recipe.to_dict(), sort_keys=False), encoding="utf-8")
    return path


# Settings that change how fast a run goes, or which of its folds one process trains, but not what it learns: a
# resumed run may change them (e.g. --resume --set train.threads=2). Any other change would mix two recipes in
# one run's checkpoints and fold summary, so check_run_folder refuses it.
RESUMABLE_SETTINGS = ("data.fold", "train.threads", "train.device", "train.eval_batch_size", "distill.cache_teacher")


def recipe_changes(earlier: Recipe, current: Recipe) -> list[tuple[str, Any, Any]]:
    """``(section.key, earlier value, current value)`` for every setting that differs, except ``RESUMABLE_SETTINGS``."""

    def flat(recipe: Recipe) -> dict[str, Any]:
        items: dict[str, Any] = {}
        for section, value in recipe.to_dict().items():
            if isinstance(value, dict):
                items.update({f"{section}.{key}": inner for key, inner in value.items()})
            else:
                items[section] = value
        return items

    before, after = flat(earlier), flat(current)
    return [
        (key, before.get(key), after.get(key))
        for key in dict.fromkeys([*before, *after])
        if key not in RESUMABLE_SETTINGS and before.get(key) != after.get(key)
    ]
