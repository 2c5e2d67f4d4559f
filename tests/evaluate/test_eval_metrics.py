import numpy as np
import pytest

from edgefer.evaluate.metrics import classification_report, confusion_matrix

CLASSES = ["a", "b", "c", "d", "e"]


def test_hand_computed_report_with_unpredicted_and_empty_classes():
    # c has images but is never predicted; d has no images but is predicted once; e has neither.
    y_true = np.array([0, 0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 0, 1, 1, 3, 0, 1])
    report = classification_report(y_true, y_pred, CLASSES)

    assert report["confusion_matrix"] == [
        [2, 1, 0, 0, 0],
        [0, 1, 0, 1, 0],
        [1, 1, 0, 0, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
    ]
    assert report["accuracy"] == pytest.approx(3 / 7)
    per = report["per_class"]
    assert per["a"] == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3})
    assert per["b"] == pytest.approx({"precision": 1 / 3, "recall": 1 / 2, "f1": 0.4, "support": 2})
    assert per["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 2}
    assert per["d"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert per["e"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    # e occurs in neither y_true nor y_pred, so the macro mean is over a, b, c, d.
    assert report["macro_f1"] == pytest.approx((2 / 3 + 0.4 + 0 + 0) / 4)
    assert report["n_images"] == 7 and report["classes"] == CLASSES


def test_perfect_predictions():
    labels = np.array([2, 0, 1, 1, 0])
    report = classification_report(labels, labels, ["x", "y", "z"])
    assert report["accuracy"] == 1.0 and report["macro_f1"] == 1.0
    assert report["confusion_matrix"] == [[2, 0, 0], [0, 2, 0], [0, 0, 1]]


def test_confusion_matrix_rows_are_true_classes():
    matrix = confusion_matrix(np.array([0, 0, 1]), np.array([1, 1, 1]), 2)
    assert matrix.tolist() == [[0, 2], [0, 1]]


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        ([0, 3], [0, 1], "outside"),
        ([0, 1], [0, -1], "outside"),
        ([0.0, 1.0], [0, 1], "integer"),
        ([0, 1, 1], [0, 1], "labels but"),
    ],
)
def test_bad_labels_raise(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        classification_report(np.array(y_true), np.array(y_pred), ["x", "y", "z"])
