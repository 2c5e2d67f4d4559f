import numpy as np
import pytest

from edgefer.errors import DatasetError
from edgefer.evaluate.evaluator import evaluate_arrays
from edgefer.evaluate.inference import predict_probs
from edgefer.labels import EMOTIONS, EMOTIONS_WITH_CONTEMPT
from edgefer.models import create_model

CKPLUS_LABELS = [EMOTIONS_WITH_CONTEMPT.index(name) for name in ("angry", "happy", "surprise", "contempt")]


def test_seven_class_model_on_data_with_contempt_and_no_neutral(tiny_model_name):
    model = create_model(tiny_model_name)
    model.classes = EMOTIONS
    rng = np.random.default_rng(1)
    labels = rng.choice(CKPLUS_LABELS, 40)
    images = rng.integers(0, 256, (40, 16, 16), dtype=np.uint8)

    report = evaluate_arrays(model, images, labels, dataset_labels=CKPLUS_LABELS)

    assert report["classes"] == ["angry", "happy", "surprise"]
    kept = labels != EMOTIONS_WITH_CONTEMPT.index("contempt")
    assert report["n_images"] == kept.sum()
    assert report["class_match"]["dropped_images"] == (~kept).sum()
    assert report["class_match"]["dropped_classes"] == ["contempt"]
    # neutral and the other classes CK+ lacks are not candidates: the prediction is the best shared class.
    assert report["class_match"]["ignored_outputs"] == ["disgust", "fear", "sad", "neutral"]
    probs = predict_probs(model, images[kept])[:, [0, 3, 5]]
    y_true = np.array([{0: 0, 3: 1, 5: 2}[label] for label in labels[kept]])
    assert report["accuracy"] == np.mean(probs.argmax(axis=1) == y_true)


def test_dataset_labels_default_to_those_present(tiny_model_name):
    model = create_model(tiny_model_name, num_classes=8)  # no stored classes: canonical order with contempt
    labels = np.array([0, 7, 7, 6])
    images = np.zeros((4, 16, 16), np.uint8)
    report = evaluate_arrays(model, images, labels)
    assert report["classes"] == ["angry", "neutral", "contempt"]
    assert report["class_match"]["dropped_images"] == 0


def test_a_split_with_only_dropped_classes_raises(tiny_model_name):
    model = create_model(tiny_model_name)
    contempt = EMOTIONS_WITH_CONTEMPT.index("contempt")
    with pytest.raises(DatasetError, match="none of the 2 images"):
        evaluate_arrays(model, np.zeros((2, 16, 16), np.uint8), np.array([contempt] * 2), dataset_labels=[0, contempt])
