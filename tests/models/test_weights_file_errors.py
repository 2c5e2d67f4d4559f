"""Weights files that are not what load_weights expects: one-line ModelErrors naming the file and the fix."""

import struct
import zipfile

import pytest
import torch

from edgefer.errors import ModelError
from edgefer.models import create_model, load_weights, save_weights
from edgefer.models.weights import sha256_of, state_sha256
from edgefer.weights import WEIGHTS_DIR


@pytest.fixture(scope="module")
def payload():
    return torch.load(WEIGHTS_DIR / "lightcnn.pt", map_location="cpu", weights_only=True)


def _broken(payload, tmp_path, change):
    """The shipped file changed by ``change``, its tensor digest written anew (as save_weights would write it for
    such a state), so that each check past the digest is reached."""
    copy = dict(payload, state_dict=dict(payload["state_dict"]), create_kwargs=dict(payload["create_kwargs"]))
    change(copy)
    if "state_dict" in copy:
        copy["state_sha256"] = state_sha256(copy["state_dict"])
    path = tmp_path / "broken.pt"
    torch.save(copy, path)
    return path


def _error(path):
    with pytest.raises(ModelError) as caught:
        load_weights(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and "edgefer train" in message
    return message


def test_the_shipped_file_loads(payload, tmp_path):
    model = load_weights(_broken(payload, tmp_path, lambda p: None))
    assert model.classes == tuple(payload["classes"])


@pytest.mark.parametrize("key", ["preprocess", "classes", "model", "create_kwargs", "state_dict", "meta"])
def test_a_missing_key_is_named(payload, tmp_path, key):
    message = _error(_broken(payload, tmp_path, lambda p: p.pop(key)))
    assert "not a complete edgefer weights file" in message and repr(key) in message


def test_a_malformed_preprocess_is_named(payload, tmp_path):
    message = _error(_broken(payload, tmp_path, lambda p: p.update(preprocess={"mean": (0.5,)})))
    assert "'input_size'" in message


@pytest.mark.parametrize("classes", [["angry", "happy", "sad"], [*"abcdefgh"]])
def test_classes_that_do_not_fit_the_outputs(payload, tmp_path, classes):
    message = _error(_broken(payload, tmp_path, lambda p: p.update(classes=classes)))
    assert f"names {len(classes)} classes" in message and "7 outputs" in message and "different model" in message


def test_a_shape_mismatch_names_the_parameters(payload, tmp_path):
    message = _error(_broken(payload, tmp_path, lambda p: p["create_kwargs"].update(num_classes=8)))
    assert "fc2.weight is [7, 64] in the file but [8, 64] in the model" in message
    assert "fc2.bias" in message and "different model" in message


def test_missing_and_unexpected_parameters_are_named(payload, tmp_path):
    def change(p):
        first = next(iter(p["state_dict"]))
        p["state_dict"]["stray.weight"] = p["state_dict"].pop(first)

    message = _error(_broken(payload, tmp_path, change))
    assert "is missing from the file" in message and "stray.weight is not in the model" in message


def test_non_finite_weights_are_refused_at_load_for_every_command(payload, tmp_path):
    def poison(copy):
        name = next(key for key, value in copy["state_dict"].items() if value.is_floating_point())
        copy["state_dict"][name] = torch.full_like(copy["state_dict"][name], float("inf"))

    assert "NaN or infinite" in _error(_broken(payload, tmp_path, poison))


def _flip_a_tensor_byte(path):
    """Flip one byte in the middle of the largest tensor stored in a weight file's zip archive, as a damaged disk
    or download would, leaving the archive itself readable."""
    with zipfile.ZipFile(path) as archive:
        entry = max(archive.infolist(), key=lambda info: info.file_size)
    raw = bytearray(path.read_bytes())
    name_length, extra_length = struct.unpack("<HH", raw[entry.header_offset + 26 : entry.header_offset + 30])
    raw[entry.header_offset + 30 + name_length + extra_length + entry.file_size // 2] ^= 0xFF
    path.write_bytes(bytes(raw))


def test_a_weight_file_damaged_after_it_was_written_is_refused(tmp_path):
    path = save_weights(tmp_path / "lightcnn.pt", create_model("lightcnn"))
    assert load_weights(path).model_name == "lightcnn"
    _flip_a_tensor_byte(path)
    assert torch.load(path, map_location="cpu", weights_only=True)["state_dict"]  # torch alone does not notice
    message = _error(path)
    assert "is damaged" in message and "re-run the `edgefer train` command" in message


def test_a_shipped_file_given_by_path_is_checked_against_its_recipe(tmp_path, monkeypatch):
    shipped = WEIGHTS_DIR / "lightcnn.pt"
    (tmp_path / "lightcnn.pt").write_bytes(shipped.read_bytes())
    (tmp_path / "lightcnn.yaml").write_text(f"sha256: '{sha256_of(shipped)}'\n", encoding="utf-8")
    monkeypatch.setattr("edgefer.weights.WEIGHTS_DIR", tmp_path.resolve())
    assert load_weights(tmp_path / "lightcnn.pt").model_name == "lightcnn"
    (tmp_path / "lightcnn.yaml").write_text(f"sha256: '{'0' * 64}'\n", encoding="utf-8")
    with pytest.raises(ModelError, match="does not match its recorded sha256"):
        load_weights(tmp_path / "lightcnn.pt")
    link = tmp_path / "elsewhere" / "hcmtmm.pt"  # checked as the file it points to, whatever its own name
    link.parent.mkdir()
    link.symlink_to(tmp_path / "lightcnn.pt")
    with pytest.raises(ModelError, match="does not match its recorded sha256"):
        load_weights(link)


def test_a_folder_given_as_weights_names_the_file_inside_it(tmp_path):
    weights = save_weights(tmp_path / "run" / "fold_00" / "best.pt", create_model("lightcnn"))
    assert f"is a folder; give a weights file `edgefer train` wrote in it, e.g. {weights}" in _error(tmp_path / "run")


def test_a_newer_weights_format_is_named_as_such(payload, tmp_path):
    message = _error(_broken(payload, tmp_path, lambda p: p.update(format="edgefer-weights/99")))
    assert "weights format 'edgefer-weights/99', which this edgefer does not read" in message
    assert "upgrade edgefer" in message


def test_an_onnx_file_given_as_weights_says_so(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"\x08\x07")  # never opened: the suffix says what it is
    with pytest.raises(ModelError, match=r"is an ONNX model, not edgefer weights; give the \.pt file"):
        load_weights(path)
