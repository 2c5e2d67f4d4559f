import pytest

from edgefer.errors import DatasetError
from edgefer.labels import EMOTIONS, EMOTIONS_WITH_CONTEMPT, canonical_name, label_index


def test_canonical_order_is_fer2013_order_with_contempt_last():
    assert EMOTIONS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    assert EMOTIONS_WITH_CONTEMPT[-1] == "contempt" and len(EMOTIONS_WITH_CONTEMPT) == 8


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("anger", "angry"),
        ("Sadness", "sad"),
        ("happiness", "happy"),
        ("surprised", "surprise"),
        ("contempt", "contempt"),
    ],
)
def test_synonyms_map_to_canonical_names(spelling, expected):
    assert canonical_name(spelling) == expected


def test_label_index_and_unknown_name():
    assert label_index("neutral") == 6
    assert label_index("contempt") == 7
    with pytest.raises(DatasetError, match="unknown expression"):
        canonical_name("bored")
