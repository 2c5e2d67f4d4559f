import json

import numpy as np
import pytest
from PIL import Image
from runtime_media import SAMPLE_FACE_BOX

from edgefer import EMOTIONS, Recognizer
from edgefer.assets import SAMPLE_IMAGE
from edgefer.errors import ConfigError, ImageError, ModelError
from edgefer.models import save_weights
from edgefer.models.weights import sha256_of
from edgefer.runtime.tracking import iou
from edgefer.weights import default_model_name, shipped_models, shipped_weights


def test_predict_finds_the_face_in_the_sample_photo(recognizer):
    faces = recognizer.predict(SAMPLE_IMAGE)
    assert len(faces) == 1
    face = faces[0]
    assert iou(face.box, SAMPLE_FACE_BOX) > 0.8
    assert face.scores.shape == (7,) and face.scores.sum() == pytest.approx(1.0, abs=1e-5)
    assert face.classes == EMOTIONS and face.label in EMOTIONS
    assert json.loads(json.dumps(face.to_dict()))["label"] == face.label


def test_path_bgr_rgb_and_pil_inputs_agree(recognizer, sample_bgr):
    reference = recognizer.predict(sample_bgr)[0].scores
    rgb = np.ascontiguousarray(sample_bgr[:, :, ::-1])
    np.testing.assert_allclose(recognizer.predict(rgb, color="rgb")[0].scores, reference, atol=1e-6)
    np.testing.assert_allclose(recognizer.predict(Image.fromarray(rgb))[0].scores, reference, atol=1e-6)
    np.testing.assert_allclose(recognizer.predict(str(SAMPLE_IMAGE))[0].scores, reference, atol=1e-6)


def test_no_face_is_an_empty_result(recognizer):
    assert recognizer.predict(np.full((240, 320, 3), 200, np.uint8)) == []


def test_detector_none_classifies_the_whole_image(weights_path, sample_bgr):
    x, y, w, h = SAMPLE_FACE_BOX
    (face,) = Recognizer(weights_path, detector="none", backend="torch").predict(sample_bgr[y : y + h, x : x + w])
    assert face.box == (0, 0, w, h)


def test_tta_averages_the_scores_of_the_crop_and_its_mirror(weights_path):
    plain = Recognizer(weights_path, detector="none", backend="torch")
    height, width = plain.backend.preprocess.image_size
    crop = np.random.default_rng(0).integers(0, 256, (height, width, 3)).astype(np.uint8)  # no resize: exact views
    (face,) = plain.predict(crop)
    (mirrored,) = plain.predict(np.ascontiguousarray(crop[:, ::-1]))
    (flipped,) = Recognizer(weights_path, detector="none", backend="torch", tta="flip").predict(crop)
    np.testing.assert_allclose(flipped.scores, (face.scores + mirrored.scores) / 2, atol=1e-6)
    assert not np.allclose(face.scores, mirrored.scores, atol=1e-3)  # the mirror is a different view
    (multicrop,) = Recognizer(weights_path, detector="none", backend="torch", tta="multicrop").predict(crop)
    assert multicrop.scores.sum() == pytest.approx(1.0, abs=1e-5)
    assert not np.allclose(multicrop.scores, flipped.scores, atol=1e-4)


def test_onnxruntime_and_torch_backends_agree(weights_path, recognizer, sample_bgr):
    onnx = Recognizer(weights_path, backend="onnxruntime")
    assert onnx.backend.name == "onnxruntime"
    np.testing.assert_allclose(onnx.predict(sample_bgr)[0].scores, recognizer.predict(sample_bgr)[0].scores, atol=1e-5)
    assert Recognizer(weights_path, backend="auto").backend.name in ("onnxruntime", "torch")


def test_bad_options_and_models(weights_path, tmp_path):
    with pytest.raises(ConfigError, match="unknown backend"):
        Recognizer(weights_path, backend="tensorrt")
    with pytest.raises(ConfigError, match="detect_every"):
        Recognizer(weights_path, detect_every=0)
    with pytest.raises(ConfigError, match="tta must be one of none, flip, multicrop, not 'rotate'"):
        Recognizer(weights_path, tta="rotate")
    with pytest.raises(ModelError, match="does not exist"):
        Recognizer(tmp_path / "absent.pt")
    with pytest.raises(ImageError, match="does not exist"):
        Recognizer(weights_path, backend="torch").predict(tmp_path / "absent.png")


def test_shipped_weights_lookup(tiny_model, tmp_path):
    with pytest.raises(ModelError, match="no trained weights ship"):
        default_model_name(tmp_path)
    weights = save_weights(tmp_path / "tiny.pt", tiny_model)
    (tmp_path / "tiny.yaml").write_text(f"sha256: {sha256_of(weights)}\n")
    assert shipped_models(tmp_path) == ["tiny"]
    found = shipped_weights("default", tmp_path)
    assert (found.name, found.path) == ("tiny", weights)
    with pytest.raises(ModelError, match="no shipped model named 'other'"):
        shipped_weights("other", tmp_path)
    second = save_weights(tmp_path / "second.pt", tiny_model)
    (tmp_path / "second.yaml").write_text(f"sha256: '{sha256_of(second)}'\ndefault: true\n")
    assert default_model_name(tmp_path) == "second"


def test_shipped_weights_are_checked_against_their_recipe(tiny_model, tmp_path, monkeypatch):
    import edgefer.weights

    weights = save_weights(tmp_path / "tiny.pt", tiny_model)
    (tmp_path / "tiny.yaml").write_text("sha256: " + "ab" * 32 + "\n")
    monkeypatch.setattr(edgefer.weights, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(ModelError, match="does not match its recorded sha256"):
        Recognizer("tiny", backend="torch")
    (tmp_path / "tiny.yaml").write_text(f"sha256: {sha256_of(weights)}\n")
    assert Recognizer("default", backend="torch").classes == EMOTIONS


def test_default_recognizer_on_the_sample_photo():
    """The shipped default model end to end: a wrong colour order or preprocessing would show as a wrong label."""
    if not shipped_models():
        pytest.skip("no trained weights ship in this checkout")
    (face,) = Recognizer().predict(SAMPLE_IMAGE)
    assert iou(face.box, SAMPLE_FACE_BOX) > 0.8
    assert face.scores.sum() == pytest.approx(1.0, abs=1e-5)
    assert face.label == "happy"  # the astronaut smiles broadly
