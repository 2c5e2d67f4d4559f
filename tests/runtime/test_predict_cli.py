import csv
import io
import json

import cv2
import numpy as np
import pytest

from edgefer.cli.main import main
from edgefer.evaluate.tta import TTA_MODES


def _predict(capsys, *args):
    code = main(["predict", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_no_source_runs_on_the_bundled_sample_and_saves_an_annotated_copy(capsys, weights_path, tmp_path):
    code, out, _ = _predict(capsys, "--model", str(weights_path), "--backend", "torch", "--save", str(tmp_path))
    assert code == 0
    (line,) = out.splitlines()
    result = json.loads(line)
    assert result["source"].endswith("astronaut.png") and len(result["faces"]) == 1
    assert sum(result["faces"][0]["scores"].values()) == pytest.approx(1.0, abs=1e-4)
    annotated = cv2.imread(str(tmp_path / "astronaut.png"))
    assert annotated.shape == (512, 512, 3)
    assert (tmp_path / "results.jsonl").read_text() == out


def test_tta_flip_scores_the_face_and_its_mirror(capsys, weights_path):
    model = ("--model", str(weights_path), "--backend", "torch")
    runs = {tta: _predict(capsys, *model, "--tta", tta) for tta in TTA_MODES}
    scores = {tta: json.loads(out)["faces"][0]["scores"] for tta, (code, out, _) in runs.items() if code == 0}
    assert list(scores) == list(TTA_MODES)
    assert all(sum(face.values()) == pytest.approx(1.0, abs=1e-4) for face in scores.values())
    assert scores["none"] != scores["flip"] != scores["multicrop"] != scores["none"]
    with pytest.raises(SystemExit) as exit_info:
        _predict(capsys, *model, "--tta", "rotate")
    assert exit_info.value.code == 2 and "--tta: invalid choice: 'rotate'" in capsys.readouterr().err


def test_video_to_csv_and_annotated_mp4(capsys, weights_path, sample_video, tmp_path):
    args = [str(sample_video), "--model", str(weights_path), "--backend", "torch", "--format", "csv"]
    code, out, _ = _predict(capsys, *args, "--save", str(tmp_path))
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 12 and {row["face_id"] for row in rows} == {"0"}
    capture = cv2.VideoCapture(str(tmp_path / "moving.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 12
    capture.release()


def test_folder_run_reports_bad_files_and_goes_on(capsys, weights_path, sample_bgr, tmp_path):
    cv2.imwrite(str(tmp_path / "good.png"), sample_bgr)
    (tmp_path / "zero.png").write_bytes(b"")
    code, out, err = _predict(capsys, str(tmp_path), "--model", str(weights_path), "--backend", "torch")
    assert code == 0
    assert len(out.splitlines()) == 1
    assert "skipped" in err and "zero.png" in err and "empty (0 bytes)" in err


def test_face_crops_without_a_detected_face_suggest_detector_none(capsys, weights_path, tmp_path):
    crop = tmp_path / "crop.png"
    cv2.imwrite(str(crop), np.full((48, 48), 128, np.uint8))  # too small and too plain for Viola-Jones to find a face
    model = ("--model", str(weights_path), "--backend", "torch")
    code, out, err = _predict(capsys, str(crop), *model)
    assert code == 0 and json.loads(out)["faces"] == []
    assert "haar detector found no face in 1 image(s); if they are already cropped faces, add --detector none" in err
    code, out, err = _predict(capsys, str(crop), *model, "--detector", "none")
    assert code == 0 and len(json.loads(out)["faces"]) == 1 and "found no face" not in err


def test_inputs_sharing_a_name_keep_separate_annotated_copies(capsys, weights_path, sample_bgr, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    cv2.imwrite(str(inputs / "x.png"), sample_bgr)
    cv2.imwrite(str(inputs / "x.jpg"), cv2.flip(sample_bgr, 1))
    save = tmp_path / "out"
    code, out, _ = _predict(
        capsys, str(inputs), "--model", str(weights_path), "--backend", "torch", "--save", str(save)
    )
    assert code == 0 and len(out.splitlines()) == 2
    first, second = cv2.imread(str(save / "x.png")), cv2.imread(str(save / "x-2.png"))
    assert first is not None and second is not None and not np.array_equal(first, second)


def _huge_png(path):
    import struct
    import zlib

    cv2.imwrite(str(path), np.zeros((1, 1, 3), np.uint8))
    data = bytearray(path.read_bytes())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", 20000, 20000)
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr : ihdr + 17])))
    path.write_bytes(bytes(data))
    return path


def _bad_input(kind, folder):
    """Make one kind of bad SOURCE under ``folder`` and return it as a command-line argument."""
    if kind == "missing":
        return str(folder / "absent.jpg")
    if kind == "zero-byte":
        (folder / "zero.jpg").write_bytes(b"")
        return str(folder / "zero.jpg")
    if kind == "not-an-image":
        (folder / "text.png").write_text("hello")
        return str(folder / "text.png")
    if kind == "huge":
        return str(_huge_png(folder / "huge.png"))
    if kind == "empty-folder":
        (folder / "empty").mkdir()
        return str(folder / "empty")
    if kind == "bad-video":
        (folder / "bad.avi").write_bytes(b"RIFF0000AVI junk")
        return str(folder / "bad.avi")
    return "42"  # a camera index that does not exist


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("missing", "does not exist"),
        ("zero-byte", "empty (0 bytes)"),
        ("not-an-image", "not an image"),
        ("huge", "has more than 50,000,000 pixels"),
        ("empty-folder", "holds no images"),
        ("bad-video", "bad.avi"),
        ("camera", "camera '42' will not open"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, weights_path, tmp_path, kind, message):
    code, out, err = _predict(capsys, _bad_input(kind, tmp_path), "--model", str(weights_path), "--backend", "torch")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err and err.startswith("edgefer predict: error:")


def test_show_without_a_display_is_a_clear_error(capsys, weights_path):
    code, _, err = _predict(capsys, "--model", str(weights_path), "--show")
    assert code == 2 and "--save DIR" in err


def test_missing_default_weights_names_the_fix(capsys, tmp_path, monkeypatch):
    import edgefer.weights

    monkeypatch.setattr(edgefer.weights, "WEIGHTS_DIR", tmp_path)
    code, _, err = _predict(capsys)
    assert code == 2 and "--model PATH.pt" in err
