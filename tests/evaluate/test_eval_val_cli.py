"""``edgefer val`` end to end on generated data sets read through the data layer."""

import json
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from edgefer.cli.main import main
from edgefer.data import load_arrays, read_dataset
from edgefer.evaluate.inference import predict_probs
from edgefer.labels import EMOTIONS
from edgefer.models import create_model, load_weights, save_weights


def _write_images(folder, prefix, count, rng):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (24, 24), dtype=np.uint8)).save(folder / f"{prefix}_{i}.png")


@pytest.fixture
def weights(tmp_path, tiny_model_name, monkeypatch):
    monkeypatch.setenv("EDGEFER_CACHE", str(tmp_path / "cache"))
    return save_weights(tmp_path / "tiny.pt", create_model(tiny_model_name), classes=EMOTIONS)


@pytest.fixture
def fer_like(tmp_path):
    """FER2013's folder layout: the official split is the file-name prefix."""
    rng = np.random.default_rng(0)
    root = tmp_path / "fer"
    for emotion in ("angry", "happy", "neutral"):
        _write_images(root / "train" / emotion, "Training", 3, rng)
        _write_images(root / "test" / emotion, "PublicTest", 2, rng)
        _write_images(root / "test" / emotion, "PrivateTest", 4, rng)
    return root


def test_val_on_an_official_split_writes_json_and_png(weights, fer_like, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        ["val", "--weights", str(weights), "--data", f"fer2013={fer_like}", "--split", "privatetest", "--out", str(out)]
    )
    printed = capsys.readouterr().out
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    assert report["n_images"] == 12 and report["data"]["split"] == "PrivateTest"
    assert report["classes"] == ["angry", "happy", "neutral"]
    assert (out / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # The same figure computed independently from the data layer and the model.
    samples = [s for s in read_dataset("fer2013", fer_like) if s.split == "PrivateTest"]
    model = load_weights(weights)
    images, labels = load_arrays(samples, (16, 16))
    columns = [EMOTIONS.index(name) for name in ("angry", "happy", "neutral")]
    predicted = np.asarray(columns)[predict_probs(model, images)[:, columns].argmax(axis=1)]
    assert report["accuracy"] == pytest.approx(np.mean(predicted == labels))
    assert f"accuracy {100 * report['accuracy']:.2f}%" in printed and "PrivateTest" in printed


def test_val_on_all_images_of_a_data_set(weights, fer_like, tmp_path):
    out = tmp_path / "out"
    assert (
        main(["val", "--weights", str(weights), "--data", f"fer2013={fer_like}", "--split", "all", "--out", str(out)])
        == 0
    )
    report = json.loads((out / "report.json").read_text())
    assert report["n_images"] == 3 * (3 + 2 + 4) and report["data"]["split"] == "all images"
    assert report["data"]["unreadable_images"] == 0


def test_unreadable_images_are_counted_in_the_report(weights, fer_like, tmp_path, capsys):
    (fer_like / "test" / "happy" / "PrivateTest_broken.png").write_bytes(b"\x89PNG not really")
    out = tmp_path / "out"
    with pytest.warns(UserWarning, match="skipped 1 of 13 images that could not be read"):
        args = ["--data", f"fer2013={fer_like}", "--split", "PrivateTest", "--out", str(out)]
        code = main(["val", "--weights", str(weights), *args])
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    assert report["n_images"] == 12 and report["data"]["unreadable_images"] == 1
    assert ": 12 images (1 unreadable, not scored)" in capsys.readouterr().out


def test_val_on_a_manifest_written_by_data_split(weights, fer_like, tmp_path):
    """A manifest (recognised by its path column, or named manifest=) is a data set: here the official test part."""
    manifests = tmp_path / "manifests"
    assert main(["data", "split", f"fer2013={fer_like}", "--out", str(manifests)]) == 0
    for spec in (str(manifests / "test.csv"), f"manifest={manifests / 'test.csv'}"):
        out = tmp_path / "out" / str(len(spec))
        assert main(["val", "--weights", str(weights), "--data", spec, "--split", "all", "--out", str(out)]) == 0
        report = json.loads((out / "report.json").read_text())
        assert report["n_images"] == 3 * 4 and report["data"]["name"] == "manifest"


def test_default_folders_of_two_manifests_differ(weights, fer_like, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["data", "split", f"fer2013={fer_like}", "--out", "splits"]) == 0
    for part in ("val", "test"):
        assert main(["val", "--weights", str(weights), "--data", f"splits/{part}.csv", "--split", "all"]) == 0
    folders = sorted(path.name for path in (tmp_path / "runs" / "val").iterdir())
    assert folders == ["tiny_manifest-splits-test_all", "tiny_manifest-splits-val_all"]


def test_val_drops_classes_the_model_lacks_and_says_so(weights, tmp_path, capsys):
    rng = np.random.default_rng(1)
    root = tmp_path / "ck"
    for emotion in ("anger", "contempt", "happy", "sadness"):
        _write_images(root / emotion, "S010_001", 5, rng)
    code = main(
        [
            "val",
            "--weights",
            str(weights),
            "--data",
            f"folder={root}",
            "--protocol",
            "stratified_60_20_20",
            "--split",
            "test",
            "--out",
            str(tmp_path / "out"),
            "--json",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["classes"] == ["angry", "happy", "sad"]
    assert report["class_match"]["dropped_classes"] == ["contempt"]
    assert report["class_match"]["dropped_images"] == 1  # 20 % of contempt's 5 images
    assert report["n_images"] == 3 and "contempt dropped" in report["class_match"]["note"]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing_weights", "does not exist"),
        ("not_weights", "not a PyTorch file"),
        ("unknown_split", "unknown split 'Validation'"),
        ("missing_data", "fer2013"),
        ("bad_fold", "fold 12 is out of range"),
        ("fold_of_a_whole_split", "--fold, --split-seed choose part of a split protocol, but --split PrivateTest"),
        ("fold_without_k_folds", "--fold applies to the k-fold protocols"),
        ("seed_of_loso", "--split-seed does not change test of loso here (loso takes subjects in sorted order)"),
        ("seed_of_an_own_val_split", "--split-seed does not change val of official here (the data set has its own"),
        ("empty_out", "--out is empty; give the folder to write into"),  # not the current folder
    ],
)
def test_bad_input_is_one_line_and_exit_2(weights, fer_like, tmp_path, capsys, case, message):
    args = {"--weights": str(weights), "--data": f"fer2013={fer_like}", "--split": "PrivateTest"}
    if case == "missing_weights":
        args["--weights"] = str(tmp_path / "nope.pt")
    elif case == "not_weights":
        (tmp_path / "notes.pt").write_text("not a model")
        args["--weights"] = str(tmp_path / "notes.pt")
    elif case == "unknown_split":
        args["--split"] = "Validation"
    elif case == "missing_data":
        args["--data"] = f"fer2013={tmp_path / 'absent'}"
    elif case == "fold_of_a_whole_split":
        args.update({"--fold": "3", "--split-seed": "1"})
    elif case == "seed_of_loso":
        args.update({"--protocol": "loso", "--split-seed": "3", "--split": "test"})
    elif case == "seed_of_an_own_val_split":
        args.update({"--split-seed": "1", "--split": "val"})  # FER2013's val is PublicTest, whatever the seed
    elif case == "empty_out":
        args["--out"] = ""  # after the default --out below, so it wins
    elif case == "fold_without_k_folds":
        args.update({"--protocol": "stratified_60_20_20", "--fold": "3", "--split": "test"})
    else:
        args.update({"--protocol": "kfold", "--fold": "12", "--n-folds": "3", "--split": "test"})
    argv = ["val", "--out", str(tmp_path / "out")] + [item for pair in args.items() for item in pair]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1 and "Traceback" not in error
    assert not (tmp_path / "out").exists()  # a failed val leaves no empty report folder behind


def test_a_split_seed_draws_the_val_part_of_a_data_set_without_one(weights, tmp_path, monkeypatch, capsys):
    """RAF-DB's layout (train and test only): the official val part is drawn from train with --split-seed, and each
    seed gets its own default report folder."""
    from edgefer.data import write_manifest

    rng = np.random.default_rng(0)
    for emotion in ("angry", "happy"):
        _write_images(tmp_path / "fer" / "train" / emotion, "Training", 10, rng)
        _write_images(tmp_path / "fer" / "test" / emotion, "PrivateTest", 2, rng)
    renamed = {"Training": "train", "PrivateTest": "test"}
    samples = [replace(s, split=renamed[s.split]) for s in read_dataset("fer2013", tmp_path / "fer")]
    manifest = write_manifest(tmp_path / "raf_like.csv", samples)
    monkeypatch.chdir(tmp_path)
    for seed in ("1", "2"):
        argv = ["val", "--weights", str(weights), "--data", str(manifest), "--split", "val", "--split-seed", seed]
        assert main([*argv, "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["data"]["split_seed"] == int(seed) and report["n_images"] == 2  # 10 % of each class's train
        assert (tmp_path / "runs" / "val" / f"tiny_manifest-{tmp_path.name}-raf_like_seed{seed}_val").is_dir()


def test_earlier_results_are_kept_unless_forced_and_claimed_before_any_work(weights, fer_like, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["val", "--weights", str(weights), "--data", f"fer2013={fer_like}", "--out", str(out)]
    assert main(argv) == 0
    (out / "report.json").write_text("earlier")
    absent = ["val", "--weights", str(tmp_path / "absent.pt"), "--data", "fer2013=absent", "--out", str(out)]
    assert main(absent) == 2  # the output is claimed before the weights or the data are read
    error = capsys.readouterr().err
    assert "already holds confusion_matrix.png, report.json from an earlier run; pass --force" in error
    assert error.count("\n") == 1 and (out / "report.json").read_text() == "earlier"
    assert main([*argv, "--force", "--json"]) == 0
    assert json.loads((out / "report.json").read_text())["n_images"] == json.loads(capsys.readouterr().out)["n_images"]
    (tmp_path / "file.txt").write_text("mine")
    assert main([*argv[:-1], str(tmp_path / "file.txt")]) == 2
    error = capsys.readouterr().err
    assert "file.txt' is a file; give a folder" in error and error.count("\n") == 1


def test_default_folders_keep_each_setting_apart(weights, fer_like, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    best = (tmp_path / "myrun" / "best.pt").resolve()
    best.parent.mkdir()
    best.write_bytes(weights.read_bytes())
    base = ["val", "--weights", str(best), "--data", f"fer2013={fer_like}", "--split", "PrivateTest"]
    assert main(base) == 0
    assert main([*base, "--tta", "flip"]) == 0
    folders = sorted(path.name for path in (tmp_path / "runs" / "val").iterdir())
    assert folders == ["myrun-best_fer2013_PrivateTest", "myrun-best_fer2013_PrivateTest_tta-flip"]
    capsys.readouterr()
    assert main(base) == 2  # the same setting again: the earlier report is kept
    err = capsys.readouterr().err
    assert "already holds confusion_matrix.png, report.json" in err and "--force" in err
    assert main([*base, "--force"]) == 0
