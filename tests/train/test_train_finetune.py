"""Fine-tuning from another run's weights (``model.init``): every weight but the classifier is copied, and the
classifier's rows are copied for the classes both runs share."""

import pytest
import torch
from tinymodels import TINY, TINY_WIDE

from edgefer.errors import DatasetError, ModelError
from edgefer.models import create_model, save_weights
from edgefer.train import run
from edgefer.train.trainer import Trainer

SOURCE_CLASSES = ("angry", "happy", "neutral", "surprise")  # like FER2013: neutral, no contempt
TARGET_CLASSES = ("angry", "contempt", "happy", "surprise")  # like CK+: contempt, no neutral


def _source(tmp_path, name=TINY):
    torch.manual_seed(1)
    model = create_model(name, num_classes=len(SOURCE_CLASSES))
    return model, save_weights(tmp_path / "source.pt", model, SOURCE_CLASSES)


def test_init_copies_the_body_and_the_shared_classes_rows(make_recipe, tmp_path):
    source, path = _source(tmp_path)
    trainer = Trainer(make_recipe(f"model.init={path}"), TARGET_CLASSES, tmp_path / "run", show_progress=False)
    target = trainer.model
    for (name, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items(), strict=True):
        if not name.startswith("head."):
            assert torch.equal(a, b), name
    for name in ("angry", "happy", "surprise"):
        row, source_row = TARGET_CLASSES.index(name), SOURCE_CLASSES.index(name)
        assert torch.equal(target.head.weight[row], source.head.weight[source_row])
        assert torch.equal(target.head.bias[row], source.head.bias[source_row])
    contempt = target.head.weight[TARGET_CLASSES.index("contempt")]
    assert not any(torch.equal(contempt, row) for row in source.head.weight)
    assert trainer.meta["init"]["shared_classes"] == ["angry", "happy", "surprise"]
    assert len(trainer.meta["init"]["sha256"]) == 64


def test_init_from_another_architecture_is_refused(make_recipe, tmp_path):
    _, path = _source(tmp_path, TINY_WIDE)
    with pytest.raises(ModelError, match=f"holds a {TINY_WIDE} but the recipe trains a {TINY}"):
        Trainer(make_recipe(f"model.init={path}"), TARGET_CLASSES, tmp_path / "run", show_progress=False)


def test_init_from_another_configuration_is_refused(make_recipe, tmp_path):
    torch.manual_seed(1)
    model = create_model(TINY, num_classes=4, in_chans=3)
    path = save_weights(tmp_path / "rgb.pt", model, SOURCE_CLASSES)
    with pytest.raises(ModelError, match="does not fit the recipe's"):
        Trainer(make_recipe(f"model.init={path}"), TARGET_CLASSES, tmp_path / "run", show_progress=False)


@pytest.mark.parametrize(
    ("override", "error", "message"),
    [
        ("model.init={wide}", ModelError, f"holds a {TINY_WIDE} but the recipe trains a {TINY}"),
        ("distill.teacher={missing}", ModelError, "missing.pt"),
        ("data.train_manifest={missing_csv}", DatasetError, "missing.csv does not exist"),
    ],
)
def test_a_wrong_named_file_fails_before_any_image_is_read(
    make_recipe, tmp_path, monkeypatch, override, error, message
):
    _, wide = _source(tmp_path, TINY_WIDE)
    override = override.format(wide=wide, missing=tmp_path / "missing.pt", missing_csv=tmp_path / "missing.csv")
    recipe = make_recipe(override, "data.dataset=fer2013", f"data.root={tmp_path}")

    def read_dataset(*args, **kwargs):
        raise AssertionError("the data set was read before the recipe's files were checked")

    monkeypatch.setattr(run, "read_dataset", read_dataset)
    with pytest.raises(error, match=message):
        run.run_recipe(recipe, show_progress=False)
    assert not recipe.run_dir.exists()
