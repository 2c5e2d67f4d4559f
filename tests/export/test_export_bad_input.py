"""`edgefer export` on bad input: one-line errors before any work, and --force never deleting what no export
wrote."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgefer.cli.main import main
from edgefer.errors import ExportError
from edgefer.export.pipeline import MANIFEST, ExportInputs, export_model
from edgefer.models import create_model, save_weights


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    return save_weights(tmp_path_factory.mktemp("weights") / "lightcnn.pt", create_model("lightcnn"))


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_force_replaces_an_earlier_export_only(weights, tmp_path, capsys):
    out = tmp_path / "export"
    assert main(["export", "--weights", str(weights), "--out", str(out)]) == 0
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["files"] == ["model.onnx"] and manifest["model"] == "lightcnn"
    assert main(["export", "--weights", str(weights), "--out", str(out)]) == 2
    assert "holds an earlier export; pass --force" in _one_line_error(capsys)
    assert main(["export", "--weights", str(weights), "--out", str(out), "--force"]) == 0
    capsys.readouterr()

    (out / "notes.txt").write_text("mine")  # added to an earlier export: --force must not delete it
    assert main(["export", "--weights", str(weights), "--out", str(out), "--force"]) == 2
    assert "also notes.txt, which no export wrote" in _one_line_error(capsys)
    assert (out / "notes.txt").read_text() == "mine" and (out / "model.onnx").is_file()


def test_force_replaces_an_export_made_before_export_json(weights, tmp_path, capsys):
    out = tmp_path / "old"
    (out / "firmware").mkdir(parents=True)
    (out / "model_int8.tflite").write_bytes(b"old")
    assert main(["export", "--weights", str(weights), "--out", str(out)]) == 2
    assert "holds an earlier export; pass --force" in _one_line_error(capsys)
    assert main(["export", "--weights", str(weights), "--out", str(out), "--force"]) == 0
    assert sorted(path.name for path in out.iterdir()) == [MANIFEST, "model.onnx"]


@pytest.mark.parametrize("where", ["folder", "cwd"])
def test_force_never_replaces_a_folder_that_is_no_export(where, weights, tmp_path, capsys, monkeypatch):
    user = tmp_path / "work"
    user.mkdir()
    (user / "keep.txt").write_text("mine")
    out = str(user)
    if where == "cwd":
        monkeypatch.chdir(user)
        out = "."
    assert main(["export", "--weights", str(weights), "--out", out, "--force"]) == 2
    assert "holds no earlier export" in _one_line_error(capsys)
    assert [path.name for path in tmp_path.iterdir()] == ["work"]
    assert [path.name for path in user.iterdir()] == ["keep.txt"]


def test_out_naming_a_file_is_refused(weights, tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.write_text("mine")
    assert main(["export", "--weights", str(weights), "--out", str(taken), "--force"]) == 2
    assert "is a file; give a folder" in _one_line_error(capsys)
    assert taken.read_text() == "mine"


def test_a_failed_forced_export_keeps_the_earlier_one(tmp_path, monkeypatch):
    import edgefer.export.quantize as quantize

    model = create_model("lightcnn")
    out = tmp_path / "out"
    export_model(model, "onnx", out, int8=False, inputs=ExportInputs())

    def broken(*args, **kwargs):
        raise ExportError("quantiser broke")

    monkeypatch.setattr(quantize, "quantize_int8", broken)
    inputs = ExportInputs(calibration=np.zeros((2, 1, 48, 48), np.float32))
    with pytest.raises(ExportError, match="quantiser broke"):
        export_model(model, "onnx", out, int8=True, inputs=inputs, force=True)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"]
    assert sorted(path.name for path in out.iterdir()) == [MANIFEST, "model.onnx"]
    with pytest.raises(ExportError, match="quantiser broke"):  # a new --out under a new folder: both vanish
        export_model(model, "onnx", tmp_path / "new" / "out", int8=True, inputs=inputs)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"]


def test_eval_split_advice_names_exports_own_options(weights, face_folder, tmp_path, capsys):
    args = ["export", "--weights", str(weights), "--eval", f"folder={face_folder}", "--out", str(tmp_path / "x")]
    assert main(args) == 2  # the default --eval-split PrivateTest: this data set has no official splits
    err = _one_line_error(capsys)
    assert "unknown split 'PrivateTest'" in err and "--eval-split" in err and "--protocol" not in err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--calib", "folder=x"], "--calib calibrates int8 quantisation, which --format onnx does only with --int8"),
        (["--target", "esp32"], "--target chooses the chip of --format espdl, not of --format onnx"),
        (["--format", "tflite", "--calib", "folder=x", "--target", "esp32"], "not of --format tflite"),
        (["--eval", "folder=x", "--eval-count", "-1"], "--eval-count must be at least 1, got -1"),
        (["--eval", "folder=x", "--eval-count", "0"], "--eval-count must be at least 1, got 0"),
        (["--eval-count", "5"], "--eval-count applies to --eval data"),
        (["--eval-split", "test"], "--eval-split applies to --eval data"),
        (["--format", "mcu"], "needs calibration images: pass --calib"),
        (["--out", ""], "--out is empty; give the folder to write into ('.' for the current one)"),  # not cwd
    ],
)
def test_ignored_or_impossible_options_are_refused_before_any_work(options, expected, tmp_path, capsys):
    missing = tmp_path / "absent.pt"  # the weights are never opened: the options are checked first
    assert main(["export", "--weights", str(missing), "--out", str(tmp_path / "x"), *options]) == 2
    assert expected in _one_line_error(capsys)
    assert not (tmp_path / "x").exists()


def test_a_failed_export_leaves_no_folder_behind(tmp_path, capsys):
    out = tmp_path / "new" / "export"
    assert main(["export", "--weights", str(tmp_path / "absent.pt"), "--out", str(out)]) == 2
    assert "absent.pt" in _one_line_error(capsys)
    assert list(tmp_path.iterdir()) == []  # not even --out's parent
