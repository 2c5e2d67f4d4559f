"""Cross-data-set matrix: train on each data set, test on the test split of every data set (seed 003, Tables 3–8).

Classes are the intersection of the data sets' label sets, in canonical order; images of any other class are left
out of both training and testing. FER2013 (7 classes, neutral, no contempt) with CK+48 (contempt, no neutral)
gives the 6 shared classes angry, disgust, fear, happy, sad, surprise: FER2013's neutral images and CK+48's
contempt images are dropped, and every model is a 6-class model, so no output has to be ignored at test time.

Each data set is split by its own standard protocol unless told otherwise: ``official`` when every sample has an
official split (FER2013: train on Training, select on PublicTest, test on PrivateTest), ``subject_kfold`` (fold 0)
when every sample has a subject (CK+: no subject in both train and test), else ``stratified_60_20_20``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from edgefer.data.readers import read_dataset
from edgefer.data.records import Sample
from edgefer.data.splits import OFFICIAL_ROLES, PROTOCOLS, split_samples
from edgefer.errors import ConfigError, DatasetError
from edgefer.labels import EMOTIONS_WITH_CONTEMPT
from edgefer.train.distributed import DistContext
from edgefer.train.recipe import Recipe, dump_recipe
from edgefer.train.run import (
    RECIPE_FILE,
    check_fold_teachers,
    check_named_files,
    check_run_folder,
    keep_classes,
    model_image_size,
    recipe_written,
    test_model,
    to_split,
    train_fold,
)


def default_protocol(samples: Sequence[Sample]) -> str:
    """The standard protocol a data set supports, judged from what its samples carry (see the module docstring)."""
    if all((sample.split or "").lower() in OFFICIAL_ROLES for sample in samples):
        return "official"
    if all(sample.subject for sample in samples):
        return "subject_kfold"
    return "stratified_60_20_20"


def shared_classes(samples_by_set: dict[str, Sequence[Sample]]) -> tuple[str, ...]:
    """The classes every data set has, in canonical order."""
    present = [{EMOTIONS_WITH_CONTEMPT[s.label] for s in samples} for samples in samples_by_set.values()]
    shared = set.intersection(*present)
    if len(shared) < 2:
        raise DatasetError(
            f"the data sets share {len(shared)} class(es) ({', '.join(sorted(shared)) or 'none'}); "
            "a cross-data-set matrix needs at least 2 classes in common"
        )
    return tuple(name for name in EMOTIONS_WITH_CONTEMPT if name in shared)


def plot_matrix(matrix: list[list[float]], names: Sequence[str], path: Path, title: str) -> Path:
    """Heat map of test accuracy, rows = training set, columns = test set."""
    size = len(names)
    figure = Figure(figsize=(2.0 + 1.3 * size, 1.5 + 1.1 * size), dpi=120, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="viridis", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04).set_label("test accuracy")
    axes.set_xticks(range(size), labels=list(names), rotation=30, ha="right", rotation_mode="anchor")
    axes.set_yticks(range(size), labels=list(names))
    axes.set_xlabel("tested on")
    axes.set_ylabel("trained on")
    for row in range(size):
        for col in range(size):
            value = matrix[row][col]
            axes.text(
                col, row, f"{100 * value:.1f}%", ha="center", va="center", color="black" if value > 0.6 else "white"
            )
    axes.set_title(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def matrix_markdown(result: dict[str, Any]) -> str:
    names = result["datasets"]
    lines = [
        f"# Cross-data-set matrix: {result['model']} ({result['recipe']})",
        "",
        f"Classes ({len(result['classes'])}, the intersection of all label sets): {', '.join(result['classes'])}. "
        "Images of other classes are left out of training and testing.",
        "",
        "Protocols: " + ", ".join(f"{name} {result['protocols'][name]}" for name in names) + ".",
        "",
        "Test accuracy (macro-F1), rows = trained on, columns = tested on the test split of:",
        "",
        "| trained on \\ tested on | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for source in names:
        cells = [
            f"{100 * result['accuracy'][source][t]:.2f}% ({100 * result['macro_f1'][source][t]:.2f}%)" for t in names
        ]
        lines.append(f"| {source} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def run_crossval(
    recipe: Recipe,
    datasets: Sequence[tuple[str, Path]],
    protocols: dict[str, str] | None = None,
    resume: bool = False,
    show_progress: bool = True,
    figures: bool = True,
) -> dict[str, Any]:
    """Train ``recipe``'s model on each data set and test it on every data set; write JSON, markdown and the
    heat-map PNG (``figures=False`` skips the per-run curves and confusion matrices, not the heat map)."""
    names = [name for name, _ in datasets]
    if names.count("manifest") > 1:
        raise ConfigError(
            "crossval names its runs after each data set, and every manifest CSV reads as the data set 'manifest'; "
            "give at most one manifest, the other data sets as NAME=PATH"
        )
    if len(set(names)) != len(names) or len(names) < 2:
        raise ConfigError(
            f"crossval needs at least two different data sets, got {names}; pass --data NAME=PATH once per data set"
        )
    protocols = dict(protocols or {})
    unknown = sorted(set(protocols) - set(names))
    if unknown:
        raise ConfigError(f"--protocol names {unknown[0]!r}, which is not among the data sets {names}")
    for name, protocol in protocols.items():
        if protocol not in PROTOCOLS:
            raise ConfigError(f"--protocol {name}={protocol}: not one of {', '.join(PROTOCOLS)}")
    if recipe.data.train_manifest:
        raise ConfigError(
            f"data.train_manifest {recipe.data.train_manifest!r} lists one data set's training images, but crossval "
            "trains on each data set in turn; drop it (--set data.train_manifest=null) or train with edgefer train"
        )
    check_named_files(recipe)
    check_fold_teachers(recipe, [None])  # no folds here: a teacher per fold is refused
    run_dir = recipe.run_dir
    # before anything is written
    check_run_folder(run_dir, [run_dir / f"train_{name}" for name in names], resume, recipe)
    samples = {name: read_dataset(name, root) for name, root in datasets}
    classes = shared_classes(samples)
    for name in names:
        protocols.setdefault(name, default_protocol(samples[name]))
    with recipe_written(recipe, resume, DistContext()) as started:  # a failure before any training takes it back
        started.append(run_dir)  # the whole folder is this run's: no part of it is resumed by another process
        parts = {
            name: split_samples(
                samples[name],
                protocols[name],
                recipe.data.seed,
                0,
                None if protocols[name] == "loso" else recipe.data.n_folds,
            )
            for name in names
        }
        kept = {name: keep_classes(parts[name]["test"], classes) for name in names}
        empty = [name for name in names if not kept[name]]
        if empty:
            raise DatasetError(
                f"crossval: {empty[0]}'s test split ({protocols[empty[0]]} protocol) holds no image of the classes "
                f"the data sets share ({', '.join(classes)}); give it a protocol with a test split it fills "
                f"(--protocol {empty[0]}=...) or check its data"
            )
        size = model_image_size(recipe)
        tests = {name: to_split(kept[name], classes, size, show_progress) for name in names}
        accuracy: dict[str, dict[str, float]] = {}
        macro_f1: dict[str, dict[str, float]] = {}
        for source, root in datasets:
            data = dataclasses.replace(recipe.data, dataset=source, root=str(root), protocol=protocols[source], fold=0)
            source_recipe = dataclasses.replace(recipe, name=f"train_{source}", output_dir=str(run_dir), data=data)
            out_dir = source_recipe.run_dir
            dump_recipe(source_recipe, out_dir / RECIPE_FILE)
            train_fold(
                source_recipe,
                parts[source],
                out_dir,
                resume,
                DistContext(),
                classes=classes,
                show_progress=show_progress,
                figures=figures,
            )
            accuracy[source], macro_f1[source] = {}, {}
            for target in names:
                report = test_model(
                    out_dir / "best.pt",
                    tests[target],
                    classes,
                    out_dir / f"test_on_{target}",
                    recipe.train.eval_batch_size,
                    f"trained on {source}, tested on {target}",
                    figures,
                )
                accuracy[source][target] = report["accuracy"]
                macro_f1[source][target] = report["macro_f1"]
    result = {
        "recipe": recipe.name,
        "model": recipe.model.name,
        "datasets": names,
        "classes": list(classes),
        "protocols": protocols,
        "test_images": {name: len(tests[name]) for name in names},
        "accuracy": accuracy,
        "macro_f1": macro_f1,
    }
    (run_dir / "crossval.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (run_dir / "crossval.md").write_text(matrix_markdown(result), encoding="utf-8")
    plot_matrix(
        [[accuracy[s][t] for t in names] for s in names],
        names,
        run_dir / "crossval.png",
        f"{recipe.model.name}: cross-data-set test accuracy",
    )
    return result
