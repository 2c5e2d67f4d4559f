"""The canonical class order and the names data sets use for each class.

Every reader maps its own label codes into ``EMOTIONS`` at read time, so nothing downstream ever sees a
data set's own codes. ``contempt`` is an optional 8th class (CK+, RaFD, KDEF do not all have it).
"""

from __future__ import annotations

from edgefer.errors import DatasetError

# FER2013's order, the one most FER code and papers use.
EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
CONTEMPT = "contempt"
EMOTIONS_WITH_CONTEMPT: tuple[str, ...] = (*EMOTIONS, CONTEMPT)

_SYNONYMS: dict[str, str] = {
    "anger": "angry",
    "angry": "angry",
    "an": "angry",
    "disgust": "disgust",
    "disgusted": "disgust",
    "fear": "fear",
    "fearful": "fear",
    "afraid": "fear",
    "happy": "happy",
    "happiness": "happy",
    "joy": "happy",
    "sad": "sad",
    "sadness": "sad",
    "surprise": "surprise",
    "surprised": "surprise",
    "neutral": "neutral",
    "contempt": "contempt",
    "contemptuous": "contempt",
}


def class_names(with_contempt: bool = False) -> tuple[str, ...]:
    """The canonical class names, optionally with contempt as the 8th class."""
    return EMOTIONS_WITH_CONTEMPT if with_contempt else EMOTIONS


def canonical_name(name: str) -> str:
    """Map a data set's spelling of an expression (``anger``, ``Sadness``, ``surprised``) to ours."""
    key = name.strip().lower()
    if key not in _SYNONYMS:
        raise DatasetError(
            f"unknown expression name {name!r}; expected one of {', '.join(EMOTIONS_WITH_CONTEMPT)} "
            "(or a common synonym such as anger, sadness, happiness)"
        )
    return _SYNONYMS[key]


def label_index(name: str) -> int:
    """The index of an expression in ``EMOTIONS_WITH_CONTEMPT`` (contempt is 7)."""
    return EMOTIONS_WITH_CONTEMPT.index(canonical_name(name))
