from pathlib import Path

import pytest

from edgefer.errors import ConfigError, ModelError
from edgefer.train.recipe import dump_recipe, load_recipe, recipe_from_dict

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))


def test_overrides_are_typed_and_nested():
    recipe = recipe_from_dict(
        {"train": {"lr": 5e-4}},
        ["train.lr=1e-3", "train.epochs=2", "data.fold=null", "augment.hflip=false", "model.kwargs={depth: 2}"],
    )
    assert recipe.train.lr == 0.001 and recipe.train.epochs == 2 and recipe.data.fold is None
    assert recipe.augment.hflip is False and recipe.model.kwargs == {"depth": 2}


def test_integer_is_accepted_where_a_float_is_expected():
    assert recipe_from_dict({}, ["train.lr=1"]).train.lr == 1.0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["train.learning_rate=0.1"], "unknown recipe key 'train.learning_rate'"),
        (["train.epochs=ten"], "'train.epochs' must be of type int"),
        (["train.epochs=2.5"], "'train.epochs' must be of type int"),
        (["augment.hflip=3"], "'augment.hflip' must be of type bool"),
        (["train.schedule=linear"], "train.schedule 'linear' is not one of"),
        (["data.protocol=random"], "data.protocol 'random' is not one of"),
        (["train.lr=0"], "train.lr must be positive"),
        (["output_dir="], "output_dir is empty; give the folder runs are written under"),
        (["augment.rotation=inf"], r"'augment\.rotation' must be a finite number, got 'inf'"),
        (["distill.temperature=.nan"], r"'distill\.temperature' must be a finite number, got nan"),
        (["train.gamma=-.inf"], r"'train\.gamma' must be a finite number"),
        ([f"train.lr={10**400}"], r"'train\.lr' must be of type float, got 1000"),
        (["train={lr: 1, lr: 2}"], r"--set 'train=\{lr: 1, lr: 2\}': found the key 'lr' twice; give each key once"),
        (["train.weight_decay=-1"], r"train\.weight_decay must be 0 \(off\) or positive, got -1\.0"),
        (["train.optimizer=sgd", "train.momentum=-1"], r"train\.momentum \(SGD\) must be in \[0, 1\), got -1\.0"),
        (["train.schedule=step", "train.gamma=-1"], r"train\.gamma is the factor the lr is multiplied by .* got -1\.0"),
        (["train.gamma=0"], "train.gamma is the factor"),
        (["augment.mixup=-0.2"], r"augment\.mixup is a Beta distribution's alpha and must be >= 0"),
        (["train.ema_decay=1"], r"train\.ema_decay must be in \[0, 1\) \(0: no weight averaging; .*\), got 1\.0"),
        (["train=5"], r"section 'train' must be a mapping of its keys, got 5; .* --set train\.epochs=VALUE$"),
        (["name="], r"name '' is not a folder name, .*; give a name without '/', e\.g\. --set name="),
        (["name=a/b"], "name 'a/b' is not a folder name"),
        (["data.root= "], "data.root is empty; give the data set's folder or file"),
        (["trainer.lr=0.1"], "unknown recipe key 'trainer'"),
        (["train.lr"], "not of the form key=value"),
        (["data.classes=happy"], "'data.classes' must be a list"),
        (["model.name=lightcn"], "model.name: unknown model 'lightcn'; did you mean lightcnn"),
        (["distill.teacher=[]"], "distill.teacher is an empty list"),
        (["distill.teacher=5"], r"'distill.teacher' must be of type str or list\[str\], got 5 \(int\)"),
        (["distill.teacher=[a.pt, 5]"], "'distill.teacher' must be of type str, got 5"),
        (["distill.teacher=[a.pt, a.pt]"], "names a file twice"),
        (["distill.teacher=['', b.pt]"], "has an empty file name"),
        (["distill.teacher=[t/{fold}.pt, b.pt]"], "the list is not valid YAML .*; quote items that hold braces"),
    ],
)
def test_bad_recipe_values_raise_config_error(overrides, message):
    with pytest.raises((ConfigError, ModelError), match=message):
        recipe_from_dict({}, overrides)


def test_a_section_written_as_a_list_names_the_section_and_how_to_write_it(tmp_path):
    path = tmp_path / "recipe.yaml"
    path.write_text("train: [1, 2]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^recipe section 'train' must be .*, got \[1, 2\]; write it as `train: \{"):
        load_recipe(path)


def test_dumped_recipe_loads_back_equal(tmp_path):
    recipe = recipe_from_dict({"name": "x"}, ["train.lr=0.002", "distill.teacher=runs/t/best.pt"])
    assert load_recipe(dump_recipe(recipe, tmp_path / "recipe.yaml")) == recipe


def test_teacher_is_one_file_or_a_list_of_files():
    assert recipe_from_dict({}, ["distill.teacher=t.pt"]).distill.teacher_files() == ["t.pt"]
    assert recipe_from_dict({}, ["distill.teacher=[a.pt, b.pt]"]).distill.teacher_files() == ["a.pt", "b.pt"]
    assert recipe_from_dict({}).distill.teacher_files() == []


def test_teacher_has_one_spelling_so_a_resume_may_write_it_either_way():
    from edgefer.train.recipe import recipe_changes

    listed, named = recipe_from_dict({}, ["distill.teacher=[a.pt]"]), recipe_from_dict({}, ["distill.teacher=a.pt"])
    assert listed.distill.teacher == "a.pt" and recipe_changes(listed, named) == []
    assert recipe_from_dict({"distill": {"teacher": "a.pt"}}, ["distill.teacher="]).distill.teacher is None
    assert recipe_from_dict({}, ["distill.teacher={fold}/best.pt"]).distill.teacher == "{fold}/best.pt"


def test_missing_recipe_file_names_the_fix(tmp_path):
    with pytest.raises(ConfigError, match="does not exist; pass one of the files under configs/"):
        load_recipe(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty; write the recipe's fields into it"),
        ("# only a comment\n", "is empty"),
        ("- name: x\n", "holds a list, not a mapping of recipe sections"),
        ("name: x\nmodel: {name: [}\n", r"not valid YAML at line 2, column 16: expected the node content"),
        ("name: x\ntrain:\n  lr: 1\n epochs: 2\n", "not valid YAML at line 4, column 2"),
        ("train: {epochs: 1}\ntrain: {lr: 0.1}\n", "not valid YAML at line 2, column 1: found the key 'train' twice"),
        ("train:\n  lr: 1\n  lr: 2\n", "not valid YAML at line 3, column 3: found the key 'lr' twice"),
    ],
)
def test_an_empty_or_broken_recipe_file_names_the_file_and_line(tmp_path, text, message):
    path = tmp_path / "recipe.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_recipe(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_a_folder_is_not_a_recipe(tmp_path):
    with pytest.raises(ConfigError, match="is a folder; pass a recipe YAML file"):
        load_recipe(tmp_path)


@pytest.mark.parametrize("path", CONFIGS, ids=[path.stem for path in CONFIGS])
def test_every_shipped_recipe_is_valid_and_names_a_registered_model(path):
    from edgefer.models import model_entry

    recipe = load_recipe(path)
    assert recipe.name == path.stem
    model_entry(recipe.model.name)  # raises ModelError for a model that does not exist


def test_cuda_without_a_gpu_is_a_config_error(make_recipe, tmp_path):
    import torch

    from edgefer.train.trainer import Trainer

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ConfigError, match="sees no CUDA GPU"):
        Trainer(make_recipe("train.device=cuda"), ("angry", "happy"), tmp_path / "run")


def test_a_recipe_may_merge_a_mapping_and_override_its_keys(tmp_path):
    path = tmp_path / "recipe.yaml"
    path.write_text("name: merged\nmodel: {name: lightcnn}\ntrain: {<<: {epochs: 2, lr: 0.1}, lr: 0.2}\n")
    recipe = load_recipe(path)
    assert (recipe.train.epochs, recipe.train.lr) == (2, 0.2)
