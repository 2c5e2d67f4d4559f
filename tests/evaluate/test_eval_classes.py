import numpy as np
import pytest

from edgefer.errors import DatasetError
from edgefer.evaluate.classes import match_classes
from edgefer.labels import EMOTIONS, EMOTIONS_WITH_CONTEMPT

CKPLUS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "contempt")


def test_seven_class_model_on_ckplus_drops_contempt_and_ignores_neutral():
    match = match_classes(EMOTIONS, CKPLUS, [EMOTIONS_WITH_CONTEMPT.index(name) for name in CKPLUS])
    assert match.classes == ("angry", "disgust", "fear", "happy", "sad", "surprise")
    assert match.dropped == ("contempt",) and match.ignored == ("neutral",)
    assert "contempt dropped" in match.describe() and "neutral output ignored" in match.describe()

    labels = np.array([7, 0, 5, 7, 3])  # contempt, angry, surprise, contempt, happy
    keep, remapped = match.select(labels)
    assert keep.tolist() == [False, True, True, False, True]
    assert remapped.tolist() == [0, 5, 3]

    probs = np.array([[0.1, 0.0, 0.0, 0.1, 0.0, 0.1, 0.7]])  # neutral is the model's top class
    restricted = match.restrict(probs)
    assert restricted.shape == (1, 6)
    np.testing.assert_allclose(restricted, [[1 / 3, 0, 0, 1 / 3, 0, 1 / 3]])


def test_same_classes_match_one_to_one_in_model_order():
    match = match_classes(("b", "a"), ("a", "b"))
    assert match.classes == ("b", "a") and match.model_columns == (0, 1) and match.data_labels == (1, 0)
    assert match.describe() == ""


def test_disjoint_classes_raise():
    with pytest.raises(DatasetError, match="none in common"):
        match_classes(("a",), ("b",))
