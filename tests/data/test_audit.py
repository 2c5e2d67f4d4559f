import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
from datagen import write_image

from edgefer.cli.main import _edgefer_warnings_as_lines, main
from edgefer.data import DataWarning, audit_samples, clean_samples, read_dataset, read_manifest


@pytest.fixture
def flawed_fer(tmp_path):
    """A FER2013-layout folder with every kind of problem the audit looks for, each planted once."""
    root = tmp_path / "fer2013"
    rng = np.random.default_rng(0)
    face = [rng.integers(0, 256, (8, 8), dtype=np.uint8) for _ in range(4)]
    planted = {
        "train/happy/Training_1.png": face[0],  # within Training, same label
        "train/happy/Training_2.png": face[0],
        "train/sad/Training_3.png": face[1],  # Training and PrivateTest, same label: a leak
        "test/sad/PrivateTest_4.png": face[1],
        "train/angry/Training_5.png": face[2],  # conflicting labels, across splits
        "test/fear/PublicTest_6.png": face[2],
        "train/neutral/Training_7.png": np.zeros((8, 8), np.uint8),  # blank
        "train/neutral/Training_11.png": np.where(np.eye(8, dtype=bool), 0, 255).astype(np.uint8),  # a graphic
        "train/neutral/Training_8.png": face[3],
        "test/surprise/PublicTest_9.png": None,  # unique random image
    }
    for name, pixels in planted.items():
        write_image(root / name, pixels)
    (root / "test" / "surprise" / "PrivateTest_10.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    return root


def test_audit_finds_each_planted_problem(flawed_fer):
    report = audit_samples(read_dataset("fer2013", flawed_fer)).to_json()
    assert report["splits"] == {"Training": 7, "PublicTest": 2, "PrivateTest": 2}
    assert report["class_counts"]["PublicTest"] == {"fear": 1, "surprise": 1}
    group_names = [sorted(i["path"].rsplit("/", 1)[1] for i in g) for g in report["duplicate_groups"]]
    assert sorted(group_names) == [
        ["PrivateTest_4.png", "Training_3.png"],
        ["PublicTest_6.png", "Training_5.png"],
        ["Training_1.png", "Training_2.png"],
    ]
    assert report["duplicate_images"] == 6
    assert report["within_split_duplicate_groups"] == {"Training": 1, "PublicTest": 0, "PrivateTest": 0}
    assert len(report["cross_split_duplicate_groups"]) == 2
    (conflict,) = report["conflicting_label_groups"]
    assert {i["label"] for i in conflict} == {"angry", "fear"}
    assert [b["path"].rsplit("/", 1)[1] for b in report["blank_images"]] == ["Training_7.png"]
    assert [p["path"].rsplit("/", 1)[1] for p in report["suspected_placeholders"]] == ["Training_11.png"]
    (unreadable,) = report["unreadable_files"]
    assert unreadable["path"].endswith("PrivateTest_10.png") and "cannot decode" in unreadable["reason"]


def test_unreadable_reasons_are_stable_text(flawed_fer):
    (flawed_fer / "test" / "sad" / "PrivateTest_12.png").write_text("not an image")
    report = audit_samples(read_dataset("fer2013", flawed_fer)).to_json()
    reasons = {item["path"].rsplit("/", 1)[1]: item["reason"] for item in report["unreadable_files"]}
    assert reasons["PrivateTest_12.png"].endswith(": cannot decode (not an image file OpenCV or Pillow can read)")
    assert not any("0x" in reason or "BytesIO" in reason for reason in reasons.values())


def test_cli_shows_a_data_warning_as_one_line(jaffe_dir):
    """Run as a user runs it: under pytest, warnings are recorded by pytest rather than shown."""
    write_image(jaffe_dir / "holiday.tiff")
    command = [sys.executable, "-m", "edgefer", "data", "audit", str(jaffe_dir), "--dataset", "jaffe"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (line,) = [line for line in done.stderr.splitlines() if "warning" in line.lower()]
    assert line.startswith("edgefer data: warning: jaffe: skipped 1 file(s)") and line.endswith("holiday.tiff")
    assert "DataWarning" not in done.stderr and "readers" not in done.stderr


def test_the_cli_formats_only_edgefers_warnings_and_records_still_work():
    with _edgefer_warnings_as_lines("val"):
        assert warnings.formatwarning("a\n  b", DataWarning, "x.py", 1) == "edgefer val: warning: a b\n"
        assert warnings.formatwarning("c", UserWarning, "x.py", 1).startswith("x.py:1: UserWarning: c")
        with warnings.catch_warnings(record=True) as log:
            warnings.simplefilter("always")
            warnings.warn("kept", DataWarning, stacklevel=1)
    assert [str(entry.message) for entry in log] == ["kept"]
    assert warnings.formatwarning("a", DataWarning, "x.py", 1).startswith("x.py:1: DataWarning")


def test_clean_list_drops_leaks_conflicts_and_unreadable_keeping_test_copies(flawed_fer):
    report = audit_samples(read_dataset("fer2013", flawed_fer))
    kept = {s.path.rsplit("/", 1)[1] for s in clean_samples(report)}
    assert kept == {
        "Training_1.png",
        "Training_2.png",
        "PrivateTest_4.png",
        "Training_7.png",
        "Training_8.png",
        "PublicTest_9.png",
        "Training_11.png",  # suspected placeholders are reported for review, not dropped
    }
    assert "Training_7.png" not in {s.path.rsplit("/", 1)[1] for s in clean_samples(report, drop_blank=True)}


def test_cli_audit_json_and_clean_manifest(flawed_fer, tmp_path, capsys):
    out = tmp_path / "clean.csv"
    assert main(["data", "audit", str(flawed_fer), "--json", "--clean-manifest", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dataset"] == "fer2013"
    for key in (
        "splits",
        "duplicate_groups",
        "cross_split_duplicate_groups",
        "conflicting_label_groups",
        "blank_images",
        "suspected_placeholders",
        "unreadable_files",
    ):
        assert key in report
    assert len(read_manifest(out)) == 7
    assert main(["data", "audit", str(out)]) == 0  # a manifest can be audited too
    text = capsys.readouterr().out
    assert "manifest at" in text and "pixel-identical groups:  1 (2 images)" in text


def test_cli_table_lists_counts(flawed_fer, capsys):
    assert main(["data", "audit", str(flawed_fer), "--dataset", "fer2013"]) == 0
    text = capsys.readouterr().out
    assert "spanning splits:       2" in text and "conflicting labels:    1" in text
    assert "unreadable: " in text and "PrivateTest_10.png" in text


def test_cli_audit_of_a_set_with_no_decodable_image_exits_2(tmp_path, capsys):
    for name in ("train/happy/Training_1.png", "test/sad/PublicTest_2.png"):
        (tmp_path / name).parent.mkdir(parents=True)
        (tmp_path / name).write_bytes(b"\x89PNG\r\n\x1a\n broken")
    assert main(["data", "audit", str(tmp_path), "--dataset", "fer2013"]) == 2
    captured = capsys.readouterr()
    assert "unreadable files:        2" in captured.out  # the report is still printed
    assert f"none of the 2 images of {tmp_path} could be decoded (e.g. " in captured.err
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err


def test_cli_audit_of_a_manifest_that_lists_no_image_exits_2(tmp_path, capsys):
    manifest = tmp_path / "empty.csv"
    manifest.write_text("path,label,subject,split\n")
    assert main(["data", "audit", str(manifest)]) == 2
    err = capsys.readouterr().err
    assert f"manifest: found no labelled images in {manifest}" in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["data", "audit", "{tmp}/nowhere"], "nowhere' does not exist; check the path"),
        (["data", "audit", "{tmp}"], "holds; name it with --dataset NAME, NAME one of fer2013"),
        (["data", "audit", "{tmp}", "--dataset", "affectnet"], "unknown data set 'affectnet'"),
        (["data", "audit", "{tmp}", "--dataset", "jaffe"], "expected the layout jaffe/"),
        (["data", "split", "fer2013={tmp}", "--out", "{tmp}/o"], "found no labelled images"),
        (["data", "split", "{tmp}/x.csv", "--out", "{tmp}/o"], "lacks the column(s) pixels"),
        (["data", "split", "{tmp}/fer.csv", "--out", "{tmp}/o"], "fer.csv' does not exist; check the path"),
        (["data", "split", "{tmp}", "--out", "{tmp}/o"], "holds; name it as NAME={tmp} (e.g. fer2013={tmp})"),
        (["data", "split", "ckplus48={tmp}", "--n-folds", "5", "--out", "{tmp}/o"], "--n-folds applies to the k-fold"),
        (["data", "split", "ckplus48={tmp}", "--fold", "1", "--out", "{tmp}/o"], "--fold applies to the k-fold"),
        (["data", "split", "ckplus48={tmp}", "--out", "{tmp}/x.csv"], "x.csv' is a file; give a folder"),
        (["data", "split", "ckplus48={tmp}", "--out", ""], "--out is empty; give the folder to write into ('.' for"),
        (["data", "audit", "{tmp}", "--dataset", "jaffe", "--drop-blank"], "add --clean-manifest FILE"),
        (["data", "audit", "{tmp}", "--dataset", "jaffe", "--force"], "add --clean-manifest FILE or drop --force"),
        (["data", "audit", "{tmp}", "--dataset", "jaffe", "--workers", "-2"], "--workers must be at least 1"),
        (["data", "audit", "{tmp}", "--dataset", "jaffe", "--clean-manifest", "{tmp}"], "is a folder; give a file"),
        (["data", "audit", "{tmp}", "--dataset", "jaffe", "--clean-manifest", ""], "--clean-manifest is empty; give"),
        (["data", "audit", "{tmp}", "--dataset", "jaffe", "--clean-manifest", "", "--force"], "is empty; give"),
        (["data", "split", "ckplus48={tmp}", "--protocol", "random", "--out", "{tmp}/o"], "unknown split protocol"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, message):
    (tmp_path / "x.csv").write_text("emotion,Usage\n0,Training\n")
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message.replace("{tmp}", str(tmp_path)) in err and "Traceback" not in err and err.count("\n") == 1
    assert "--dataset" not in err or argv[1] == "audit"  # the advice names only options the command has


def test_cli_split_writes_manifests_per_fold(tmp_path, capsys):
    for subject in range(4):
        for label in ("anger", "happy"):
            write_image(tmp_path / "ck" / label / f"S{subject:03d}_001_0000000{label[0] == 'a'}.png")
    assert (
        main(["data", "split", f"ckplus48={tmp_path / 'ck'}", "--protocol", "loso", "--out", str(tmp_path / "out")])
        == 0
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"fold_{i:02d}" for i in range(4)]
    test = read_manifest(tmp_path / "out" / "fold_02" / "test.csv")
    assert {s.subject for s in test} == {"S002"} and len(test) == 2
    assert "fold_03: train 4" in capsys.readouterr().out

    argv = ["data", "split", f"ckplus48={tmp_path / 'ck'}", "--protocol", "loso", "--seed", "1"]
    assert main([*argv, "--out", str(tmp_path / "seeded")]) == 2
    error = capsys.readouterr().err
    assert "--seed does not change the loso split here (loso takes subjects in sorted order); drop --seed" in error
    assert error.count("\n") == 1 and not (tmp_path / "seeded").exists()


def _ck(folder):
    for subject in range(4):
        for label in ("anger", "happy"):
            write_image(folder / label / f"S{subject:03d}_001_0000000{label[0] == 'a'}.png")
    return folder


def test_cli_split_keeps_earlier_manifests_unless_forced(tmp_path, capsys, monkeypatch):
    data, out = f"ckplus48={_ck(tmp_path / 'ck')}", tmp_path / "out"
    assert main(["data", "split", data, "--protocol", "stratified_60_20_20", "--out", str(out)]) == 0
    (out / "train.csv").write_text("earlier")
    assert main(["data", "split", data, "--protocol", "stratified_60_20_20", "--out", str(out)]) == 2
    assert "already holds test.csv, train.csv, val.csv" in capsys.readouterr().err
    assert (out / "train.csv").read_text() == "earlier"
    assert main(["data", "split", data, "--protocol", "stratified_60_20_20", "--out", str(out), "--force"]) == 0
    assert len(read_manifest(out / "train.csv")) > 0
    # fold folders: all earlier ones block writing every fold; a new single fold is fine, an earlier one is not
    assert main(["data", "split", data, "--protocol", "loso", "--fold", "1", "--out", str(out)]) == 0
    assert main(["data", "split", data, "--protocol", "loso", "--out", str(out)]) == 2
    assert main(["data", "split", data, "--protocol", "loso", "--fold", "1", "--out", str(out)]) == 2
    assert main(["data", "split", data, "--protocol", "loso", "--fold", "2", "--out", str(out)]) == 0
    assert capsys.readouterr().err.count("already holds fold_01") == 2
    # --force over every fold: the earlier split's folds go, also those the new split does not write
    assert main(["data", "split", data, "--protocol", "loso", "--out", str(out), "--force"]) == 0
    assert sorted(path.name for path in out.glob("fold_*")) == ["fold_00", "fold_01", "fold_02", "fold_03"]
    split = ["data", "split", data, "--protocol", "subject_kfold", "--n-folds", "3", "--out", str(out), "--force"]
    assert main(split) == 0
    assert sorted(path.name for path in out.glob("fold_*")) == ["fold_00", "fold_01", "fold_02"]
    assert main(["data", "split", data, "--protocol", "kfold", "--n-folds", "0", "--out", str(tmp_path / "k")]) == 2
    assert "got 0; choose n_folds" in capsys.readouterr().err and not (tmp_path / "k").exists()

    def read_dataset(*args, **kwargs):
        raise AssertionError("the data set was read before the outputs were claimed")

    monkeypatch.setattr("edgefer.data.read_dataset", read_dataset)
    assert main(["data", "split", data, "--protocol", "loso", "--fold", "2", "--out", str(out)]) == 2


def test_cli_clean_manifest_is_kept_unless_forced(tmp_path, capsys, monkeypatch):
    data, clean = str(_ck(tmp_path / "ck")), tmp_path / "clean.csv"
    clean.write_text("earlier")
    monkeypatch.setattr("edgefer.cli.data._read_input", lambda *args: pytest.fail("data read before the claim"))
    assert main(["data", "audit", data, "--clean-manifest", str(clean)]) == 2
    err = capsys.readouterr().err
    assert "clean.csv' exists; pass --force" in err and err.count("\n") == 1
    assert clean.read_text() == "earlier"
    monkeypatch.undo()
    assert main(["data", "audit", data, "--clean-manifest", str(clean), "--force"]) == 0
    assert len(read_manifest(clean)) == 8


def test_cli_a_clean_manifest_with_no_image_left_is_refused_and_not_written(tmp_path, capsys):
    root = tmp_path / "ck"
    for emotion in ("happy", "sadness"):
        write_image(root / emotion / "S010_001_00000001.png", np.zeros((8, 8), np.uint8))  # blank
    clean = tmp_path / "clean.csv"
    argv = ["data", "audit", str(root), "--dataset", "ckplus48", "--clean-manifest", str(clean), "--drop-blank"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "no image of" in err and "nothing was written" in err and err.count("\n") == 1
    assert not clean.exists()
