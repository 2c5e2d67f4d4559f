"""`edgefer predict` on bad options, outputs and models: one-line errors, exit 2, no lost or wrong results."""

import json
import os
import subprocess
import sys

import cv2
import pytest
import torch
from runtime_media import cut_video, moving_face_frames, write_video

from edgefer.cli.main import main
from edgefer.errors import ModelError
from edgefer.models import load_weights, save_weights
from edgefer.runtime.sources import SourceWarning


def _predict(capsys, *args):
    code = main(["predict", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _one_line_error(code, err, *parts):
    assert code == 2
    (line,) = [line for line in err.splitlines() if line.startswith("edgefer predict:")]
    assert line.startswith("edgefer predict: error:") and all(part in line for part in parts), err
    assert "Traceback" not in err


def test_a_second_save_into_the_same_folder_needs_force(capsys, weights_path, tmp_path):
    model = ["--model", str(weights_path), "--backend", "torch"]
    assert _predict(capsys, *model, "--save", str(tmp_path / "out"))[0] == 0
    results = tmp_path / "out" / "results.jsonl"
    results.write_text("earlier\n")
    code, out, err = _predict(capsys, *model, "--save", str(tmp_path / "out"), "--format", "csv")
    _one_line_error(code, err, "results.jsonl", "--force")
    assert out == "" and results.read_text() == "earlier\n"
    code, out, _ = _predict(capsys, *model, "--save", str(tmp_path / "out"), "--force")
    assert code == 0 and results.read_text() == out


@pytest.mark.parametrize(("target", "message"), [("file", "is a file"), ("/proc/edgefer-x", "cannot create")])
def test_an_unusable_save_path_is_one_line(capsys, weights_path, tmp_path, target, message):
    if target == "file":
        target = tmp_path / "file"
        target.write_text("")
    code, out, err = _predict(capsys, "--model", str(weights_path), "--backend", "torch", "--save", str(target))
    _one_line_error(code, err, message)
    assert out == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([""], "the source is empty; give an image, a folder ('.' for the current one)"),
        (["--save", ""], "--save is empty; give the folder to write into"),
        (["--model", ""], "--model is empty; give a shipped model name"),
    ],
)
def test_empty_arguments_are_refused_not_taken_as_the_working_folder(
    capsys, weights_path, sample_bgr, tmp_path, monkeypatch, args, message
):
    cv2.imwrite(str(tmp_path / "a.png"), sample_bgr)
    monkeypatch.chdir(tmp_path)  # where "" would otherwise be read from (and, for --save, written to)
    model = [] if "--model" in args else ["--model", str(weights_path)]
    code, out, err = _predict(capsys, *args, *model, "--backend", "torch")
    _one_line_error(code, err, message)
    assert out == "" and sorted(path.name for path in tmp_path.iterdir()) == ["a.png"]


def test_a_run_folder_as_model_names_the_weights_inside_it(capsys, weights_path, tmp_path):
    code, _, err = _predict(capsys, "--model", str(weights_path.parent))
    _one_line_error(code, err, "is a folder; give a weights file `edgefer train` wrote in it", f"e.g. {weights_path}")
    code, _, err = _predict(capsys, "--model", str(tmp_path))
    _one_line_error(code, err, "is a folder;", f"e.g. {tmp_path / 'best.pt'}")


def test_a_truncated_video_gives_its_frames_and_a_one_line_warning(capsys, weights_path, sample_bgr, tmp_path):
    whole = write_video(tmp_path / "whole.avi", moving_face_frames(sample_bgr, 20), fourcc="MJPG")
    cut = cut_video(whole, tmp_path / "cut.avi", "head")
    with pytest.warns(SourceWarning, match=f"{cut}: decoding stopped after 10 of its 20 frames"):
        code, out, _ = _predict(capsys, str(cut), "--model", str(weights_path), "--backend", "torch")
    assert code == 0 and len(out.splitlines()) == 10  # the CLI prints it as one line (tests/data/test_audit.py)


def test_force_without_save_is_refused(capsys, weights_path):
    code, _, err = _predict(capsys, "--model", str(weights_path), "--force")
    _one_line_error(code, err, "--save DIR")


def test_save_never_replaces_the_input_image(capsys, weights_path, sample_bgr, tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), sample_bgr)
    before = (tmp_path / "a.png").read_bytes()
    for source in (tmp_path / "a.png", tmp_path, tmp_path / "*.png"):
        code, _, err = _predict(capsys, str(source), "--model", str(weights_path), "--save", str(tmp_path))
        _one_line_error(code, err, "choose another folder")
    assert (tmp_path / "a.png").read_bytes() == before and sorted(tmp_path.iterdir()) == [tmp_path / "a.png"]


def test_a_folder_of_only_unreadable_files_is_an_error(capsys, weights_path, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "zero.png").write_bytes(b"")
    (tmp_path / "in" / "text.jpg").write_text("hello")
    args = [str(tmp_path / "in"), "--model", str(weights_path), "--backend", "torch", "--save", str(tmp_path / "out")]
    code, out, err = _predict(capsys, *args)
    _one_line_error(code, err, "none of the 2 input files could be read as images")
    assert out == "" and not (tmp_path / "out" / "results.jsonl").exists()


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--detect-width", "-5", "--detect-width must be at least 64"),
        ("--detect-width", "0", "--detect-width must be at least 64"),
        ("--detect-every", "0", "--detect-every must be 1 or more"),
        ("--margin", "-0.1", "--margin must be between 0 and 1"),
        ("--margin", "nan", "--margin must be between 0 and 1"),
        ("--margin", "100", "--margin must be between 0 and 1"),
        ("--smoothing", "0", "--smoothing must be in (0, 1]"),
        ("--smoothing", "nan", "--smoothing must be in (0, 1]"),
        ("--max-pixels", "0", "--max-pixels must be a positive integer"),
    ],
)
def test_out_of_range_options_stop_before_any_work(capsys, sample_video, tmp_path, option, value, message):
    save = tmp_path / "out"
    # A model that does not exist: the option must be refused before the model is even looked at.
    args = [str(sample_video), "--model", str(tmp_path / "absent.pt"), "--save", str(save), option, value]
    code, out, err = _predict(capsys, *args)
    _one_line_error(code, err, message)
    assert out == "" and not save.exists()


def test_a_small_detect_width_still_runs_on_video(capsys, weights_path, sample_video):
    args = [str(sample_video), "--model", str(weights_path), "--backend", "torch", "--detect-width", "64"]
    code, out, _ = _predict(capsys, *args)
    assert code == 0 and len(out.splitlines()) == 12


def _nan_copy(weights_path, path):
    model = load_weights(weights_path)
    with torch.no_grad():
        model[-1].weight.fill_(float("nan"))
    return model, save_weights(path, model)


def test_nan_weights_are_refused_not_printed_as_nan(capsys, weights_path, tmp_path):
    _, path = _nan_copy(weights_path, tmp_path / "nan.pt")
    code, out, err = _predict(capsys, "--model", str(path), "--backend", "torch")
    _one_line_error(code, err, "NaN or infinite", "nan.pt")
    assert "NaN" not in out


def test_non_finite_scores_are_an_error(weights_path, sample_bgr, tmp_path):
    from edgefer import Recognizer

    model, _ = _nan_copy(weights_path, tmp_path / "nan.pt")
    recognizer = Recognizer(model, backend="torch")  # a module passed in is not checked at load: scores are
    with pytest.raises(ModelError, match="the model produced non-finite scores; its weights are corrupt"):
        recognizer.predict(sample_bgr)


def test_results_stay_valid_json(capsys, weights_path):
    code, out, _ = _predict(capsys, "--model", str(weights_path), "--backend", "torch")
    assert code == 0 and json.loads(out)["faces"][0]["confidence"] > 0


def test_save_expands_the_home_folder(capsys, weights_path, sample_bgr, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    cv2.imwrite(str(tmp_path / "a.png"), sample_bgr)
    code, _, _ = _predict(capsys, "a.png", "--model", str(weights_path), "--backend", "torch", "--save", "~/out")
    assert code == 0
    assert sorted(path.name for path in (tmp_path / "home" / "out").iterdir()) == ["a.png", "results.jsonl"]
    assert not (tmp_path / "~").exists()


def test_a_video_that_will_not_open_prints_only_our_line(sample_video, tmp_path):
    """FFmpeg writes to the process's stderr, which capsys does not see: run the command as a user would."""
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(sample_video.read_bytes()[: sample_video.stat().st_size // 2])  # the index is at the end
    command = [sys.executable, "-m", "edgefer", "predict", str(broken), "--model", "lightcnn", "--backend", "torch"]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"edgefer predict: error: video {str(broken)!r} will not open; check that it is a video file (mp4, avi, mkv, "
        "...) that is not corrupt"
    ]
