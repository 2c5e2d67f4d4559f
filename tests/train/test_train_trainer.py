import pytest
import torch
from tinymodels import TINY, TINY_WIDE

from edgefer.errors import ModelError
from edgefer.models import create_model, load_weights, save_weights
from edgefer.train.trainer import Trainer, TrainingError

CLASSES = ("angry", "happy", "surprise")


def _trainer(recipe, out_dir, **kwargs) -> Trainer:
    return Trainer(recipe, CLASSES, out_dir, show_progress=False, write_curves=False, **kwargs)


def _max_difference(a: torch.nn.Module, b: torch.nn.Module) -> float:
    pairs = zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    return max((x.float() - y.float()).abs().max().item() for x, y in pairs)


def test_training_reduces_the_loss_and_writes_weights_that_load(make_recipe, arrays, tmp_path):
    trainer = _trainer(make_recipe("train.epochs=4"), tmp_path / "run")
    history = trainer.fit(*arrays)
    assert history[-1]["train_loss"] < history[0]["train_loss"] * 0.9
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]
    best = load_weights(tmp_path / "run" / "best.pt")
    assert best.classes == CLASSES and best.weights_meta["recipe"]["model"]["name"] == TINY
    assert best.weights_meta["epoch"] == trainer.best_epoch
    assert (tmp_path / "run" / "last.pt").is_file() and (tmp_path / "run" / "history.json").is_file()


def test_curves_png_is_written_after_each_epoch(make_recipe, arrays, tmp_path):
    trainer = Trainer(make_recipe("train.epochs=1"), CLASSES, tmp_path / "run", show_progress=False)
    trainer.fit(*arrays)
    assert (tmp_path / "run" / "curves.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(("ema_decay", "mixup"), [(0.0, 0.0), (0.9, 0.0), (0.0, 0.4)])
def test_resume_after_interruption_equals_an_uninterrupted_run(make_recipe, arrays, tmp_path, ema_decay, mixup):
    recipe = make_recipe(
        "train.epochs=4", "model.kwargs={dropout: 0.3}", f"train.ema_decay={ema_decay}", f"augment.mixup={mixup}"
    )
    straight = _trainer(recipe, tmp_path / "straight")
    straight.fit(*arrays)

    interrupted = _trainer(recipe, tmp_path / "resumed")
    save = interrupted._save

    def save_then_die(epoch: int, improved: bool) -> None:
        save(epoch, improved)
        if epoch == 2:
            raise KeyboardInterrupt  # killed right after the checkpoint of epoch 2

    interrupted._save = save_then_die
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(*arrays)
    resumed = _trainer(recipe, tmp_path / "resumed")
    resumed.resume()
    assert resumed.start_epoch == 2
    resumed.fit(*arrays)
    assert _max_difference(straight.model, resumed.model) <= 1e-6
    assert _max_difference(straight.selected_model, resumed.selected_model) <= 1e-6
    assert [row["train_loss"] for row in resumed.history] == [row["train_loss"] for row in straight.history]
    assert [row["val_acc"] for row in resumed.history] == [row["val_acc"] for row in straight.history]


def test_with_weight_averaging_the_average_is_validated_and_saved_and_the_live_weights_train_on(
    make_recipe, arrays, tmp_path
):
    trainer = _trainer(make_recipe("train.epochs=3", "train.ema_decay=0.9"), tmp_path / "run")
    history = trainer.fit(*arrays)
    assert _max_difference(trainer.model, trainer.selected_model) > 1e-4  # two sets of weights
    last = load_weights(tmp_path / "run" / "last.pt")
    assert _max_difference(last, trainer.selected_model) == 0.0
    _, val = arrays
    assert trainer.evaluate(val)[1] == history[-1]["val_acc"]
    assert trainer.evaluate(val, trainer.model)[1] == history[-1]["live_val_acc"]
    plain = _trainer(make_recipe("train.epochs=3"), tmp_path / "plain")
    plain.fit(*arrays)
    assert _max_difference(plain.model, trainer.model) == 0.0  # averaging leaves the live weights' training alone
    assert [row["val_acc"] for row in plain.history] == [row["live_val_acc"] for row in history]


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(make_recipe, arrays, tmp_path):
    trainer = _trainer(make_recipe("train.epochs=3"), tmp_path / "run")
    train, val = arrays
    trainer.fit(train, val)
    good = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["model"]
    again = _trainer(make_recipe("train.epochs=5"), tmp_path / "run")
    again.resume()
    with torch.no_grad():
        next(again.model.parameters()).fill_(float("nan"))
    with pytest.raises(TrainingError, match=r"loss became nan at epoch 4.*last good epoch is kept.*new --set name=NEW"):
        again.fit(train, val)
    kept = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert kept["epoch"] == 3 and all(torch.equal(kept["model"][k], good[k]) for k in good)


def test_resuming_from_another_models_checkpoint_is_refused(make_recipe, arrays, tmp_path):
    _trainer(make_recipe("train.epochs=1"), tmp_path / "run").fit(*arrays)
    other = _trainer(make_recipe(f"model.name={TINY_WIDE}"), tmp_path / "other")
    with pytest.raises(ModelError, match=f"written for model '{TINY}'.*this recipe trains '{TINY_WIDE}'"):
        other.resume(tmp_path / "run" / "checkpoint.pt")


def _teacher(tmp_path, classes=CLASSES, name=TINY_WIDE, seed=0):
    torch.manual_seed(seed)
    model = create_model(name, num_classes=len(classes))
    return save_weights(tmp_path / f"teacher_{name}_{seed}.pt", model, classes)


def test_teacher_with_other_classes_is_refused(make_recipe, tmp_path):
    teacher = _teacher(tmp_path, ("angry", "happy", "neutral"))
    with pytest.raises(ModelError, match=r"teacher .* predicts \['angry', 'happy', 'neutral'\]"):
        _trainer(make_recipe(f"distill.teacher={teacher}"), tmp_path / "run")


@pytest.mark.parametrize("augment", [True, False], ids=["live-teacher", "cached-teacher"])
def test_distillation_trains_a_projection_that_stays_out_of_the_weights(make_recipe, arrays, tmp_path, augment):
    overrides = [f"distill.teacher={_teacher(tmp_path)}", "train.epochs=2"]
    if not augment:
        overrides += ["augment.crop_padding=0", "augment.hflip=false", "augment.rotation=0", "augment.erasing=0"]
    trainer = _trainer(make_recipe(*overrides), tmp_path / "run")
    assert isinstance(trainer.step_module.projection, torch.nn.Linear)  # 16 → 24 features
    history = trainer.fit(*arrays)
    assert (trainer.teacher.cache is not None) == (not augment)
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    weights = torch.load(tmp_path / "run" / "best.pt", weights_only=True)["state_dict"]
    assert not any(key.startswith("projection") for key in weights)
    assert set(weights) == set(create_model(TINY, num_classes=3).state_dict())
    checkpoint = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert checkpoint["projection"]["weight"].shape == (24, 16)


def test_with_mixup_the_teacher_sees_the_mixed_images_live(make_recipe, arrays, tmp_path, monkeypatch):
    from edgefer.train import trainer as trainer_module

    overrides = ["augment.crop_padding=0", "augment.hflip=false", "augment.rotation=0", "augment.erasing=0"]
    recipe = make_recipe(f"distill.teacher={_teacher(tmp_path)}", "train.epochs=2", "augment.mixup=0.4", *overrides)
    trainer = _trainer(recipe, tmp_path / "run")
    seen, mixed = [], []
    outputs = trainer.teacher.outputs
    monkeypatch.setattr(trainer.teacher, "outputs", lambda index, pixels: seen.append(pixels) or outputs(index, pixels))
    mixup_batch = trainer_module.mixup_batch
    monkeypatch.setattr(trainer_module, "mixup_batch", lambda *args: mixed.append(mixup_batch(*args)) or mixed[-1])
    history = trainer.fit(*arrays)
    assert trainer.teacher.cache is None  # mixed images are new images: no cached teacher outputs
    assert len(seen) == len(mixed) > 0 and all(torch.equal(p, m[0]) for p, m in zip(seen, mixed, strict=True))
    assert history[-1]["train_loss"] < history[0]["train_loss"]


def test_cached_teacher_outputs_equal_live_ones(make_recipe, arrays, tmp_path):
    from edgefer.train.inputs import pixel_batch
    from edgefer.train.teacher import Teacher

    teacher = Teacher.load([str(_teacher(tmp_path))], CLASSES, torch.device("cpu"))
    train, _ = arrays
    index = torch.tensor([5, 0, 17])
    pixels = pixel_batch(train.images, index.numpy(), torch.device("cpu"))
    live = teacher.outputs(index, pixels)
    teacher.precompute(train.images, batch_size=50, show_progress=False)
    cached = teacher.outputs(index, pixels)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(live, cached, strict=True))


def test_an_ensemble_teacher_averages_logits_and_concatenates_normalised_features(arrays, tmp_path):
    from edgefer.train.inputs import model_input, pixel_batch
    from edgefer.train.teacher import Teacher

    files = [str(_teacher(tmp_path, name=TINY_WIDE)), str(_teacher(tmp_path, name=TINY, seed=1))]
    ensemble = Teacher.load(files, CLASSES, torch.device("cpu"))
    pixels = pixel_batch(arrays[0].images, [3, 1, 4], torch.device("cpu"))
    logits, features = ensemble(pixels)
    expected_logits, expected_features = [], []
    for path in files:
        model = load_weights(path).eval()
        with torch.no_grad():
            own = model.forward_features(model_input(pixels, model.preprocess))
            expected_logits.append(model.forward_head(own))
        expected_features.append(torch.nn.functional.normalize(own, dim=1))
    assert torch.allclose(logits, (expected_logits[0] + expected_logits[1]) / 2, atol=1e-5)
    assert torch.allclose(features, torch.cat(expected_features, dim=1), atol=1e-5)
    assert ensemble.feature_dim() == 24 + 16
    single = Teacher.load(files[:1], CLASSES, torch.device("cpu"))
    assert torch.allclose(single(pixels)[0], expected_logits[0], atol=1e-5)  # one teacher: its own outputs


def test_the_recipe_chooses_how_the_teacher_shrinks_the_students_images(make_recipe, tmp_path):
    from edgefer.train.inputs import model_input

    teacher_file = _teacher(tmp_path)
    pixels = torch.rand(2, 1, 24, 24, generator=torch.Generator().manual_seed(0))  # twice the tiny teacher's size
    model = load_weights(teacher_file).eval()
    for antialias in (True, False):
        recipe = make_recipe(f"distill.teacher={teacher_file}", f"distill.teacher_antialias={str(antialias).lower()}")
        teacher = _trainer(recipe, tmp_path / f"run_{antialias}").teacher
        with torch.no_grad():
            expected = model(model_input(pixels, model.preprocess, antialias=antialias))
        assert torch.allclose(teacher(pixels)[0], expected, atol=1e-5)
    with torch.no_grad():
        assert not torch.allclose(model(model_input(pixels, model.preprocess, antialias=True)), expected, atol=1e-3)


def test_distilling_from_an_ensemble_records_the_teachers_validation_accuracy(make_recipe, arrays, tmp_path):
    from edgefer.train.inputs import model_input, pixel_batch

    files = [str(_teacher(tmp_path, name=TINY_WIDE)), str(_teacher(tmp_path, name=TINY, seed=1))]
    trainer = _trainer(make_recipe(f"distill.teacher=[{files[0]}, {files[1]}]", "train.epochs=1"), tmp_path / "run")
    assert trainer.step_module.projection.weight.shape == (40, 16)  # student 16 → 24 + 16 ensemble features
    train, val = arrays
    trainer.fit(train, val)
    recorded = load_weights(tmp_path / "run" / "best.pt").weights_meta["teacher_val_acc"]
    pixels = pixel_batch(val.images, list(range(len(val))), torch.device("cpu"))
    mean_logits = 0
    for path in files:
        model = load_weights(path).eval()
        with torch.no_grad():
            mean_logits = mean_logits + model(model_input(pixels, model.preprocess)) / len(files)
    assert recorded == pytest.approx((mean_logits.argmax(dim=1).numpy() == val.labels).mean())
