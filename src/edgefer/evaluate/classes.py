"""Matching a model's classes to a data set's: evaluation runs on the classes both have.

The rule, for a model trained on one label set and tested on another (e.g. a 7-class FER2013 model on CK+48,
which has contempt and no neutral):

- images of a class the model cannot output (CK+ contempt) are dropped: no answer of the model could be right;
- outputs of a class the data set does not have (neutral on CK+) are ignored: the prediction is the most
  probable of the shared classes, so the model is scored as a classifier over the shared label set;
- classes keep the model's order.

This is the usual cross-data-set protocol (the label sets are intersected); ``ClassMatch.describe`` says in
words what was dropped and ignored so that a report never hides it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edgefer.errors import DatasetError
from edgefer.labels import EMOTIONS_WITH_CONTEMPT


@dataclass(frozen=True)
class ClassMatch:
    classes: tuple[str, ...]  # shared classes, in the model's order
    model_columns: tuple[int, ...]  # column of each shared class in the model's output
    data_labels: tuple[int, ...]  # data-set label of each shared class
    dropped: tuple[str, ...]  # data-set classes the model lacks: their images are not evaluated
    ignored: tuple[str, ...]  # model classes the data set lacks: their outputs are not considered

    def select(self, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(keep mask over ``labels``, labels of the kept images as indices into ``classes``)."""
        labels = np.asarray(labels, dtype=np.int64)
        lookup = np.full(max(max(self.data_labels), int(labels.max(initial=0))) + 1, -1, np.int64)
        lookup[list(self.data_labels)] = np.arange(len(self.classes))
        remapped = lookup[labels]
        keep = remapped >= 0
        return keep, remapped[keep]

    def restrict(self, probs: np.ndarray) -> np.ndarray:
        """Model probabilities (N, model classes) → (N, shared classes), renormalised to sum to 1."""
        shared = np.asarray(probs)[:, list(self.model_columns)]
        total = shared.sum(axis=1, keepdims=True)
        return shared / np.where(total > 0, total, 1.0)

    def describe(self) -> str:
        """One line for reports; empty when the model and the data set have the same classes."""
        parts = []
        if self.dropped:
            parts.append(f"images of {', '.join(self.dropped)} dropped (the model has no such class)")
        if self.ignored:
            parts.append(f"the model's {', '.join(self.ignored)} output ignored (the data set has no such class)")
        if not parts:
            return ""
        return f"evaluated on the {len(self.classes)} shared classes: " + "; ".join(parts)


def match_classes(
    model_classes: Sequence[str], data_classes: Sequence[str], data_labels: Sequence[int] | None = None
) -> ClassMatch:
    """Intersect a model's class names with a data set's.

    ``data_labels`` gives the label index of each entry of ``data_classes`` (default: its position), so a data
    set whose labels index a longer list (``EMOTIONS_WITH_CONTEMPT``) can pass only the classes it has.
    """
    data_labels = list(range(len(data_classes))) if data_labels is None else list(data_labels)
    label_of = dict(zip(data_classes, data_labels, strict=True))
    shared = [name for name in model_classes if name in label_of]
    if not shared:
        raise DatasetError(
            f"the model's classes ({', '.join(model_classes)}) and the data set's ({', '.join(data_classes)}) "
            "have none in common; evaluate the model on a data set labelled with its classes"
        )
    return ClassMatch(
        classes=tuple(shared),
        model_columns=tuple(list(model_classes).index(name) for name in shared),
        data_labels=tuple(label_of[name] for name in shared),
        dropped=tuple(name for name in data_classes if name not in shared),
        ignored=tuple(name for name in model_classes if name not in label_of),
    )


def match_labels(
    model_classes: Sequence[str], labels: np.ndarray, dataset_labels: Sequence[int] | None = None
) -> tuple[ClassMatch, np.ndarray, np.ndarray]:
    """Match a model to labelled images: (match, keep mask over ``labels``, kept labels as indices into
    ``match.classes``).

    ``labels`` index ``EMOTIONS_WITH_CONTEMPT``; ``dataset_labels`` are the labels the whole data set has (default:
    those in ``labels``), so that a class missing from one split still counts as the data set's. Raises
    DatasetError when none of the images belongs to a class of the model."""
    labels = np.asarray(labels, dtype=np.int64)
    present = sorted(set(labels.tolist()) if dataset_labels is None else set(dataset_labels))
    match = match_classes(model_classes, [EMOTIONS_WITH_CONTEMPT[i] for i in present], present)
    keep, kept_labels = match.select(labels)
    if not keep.any():
        raise DatasetError(
            f"none of the {len(labels)} images belongs to a class of the model ({', '.join(match.classes)} are "
            "shared with the data set); evaluate on another split or data set"
        )
    return match, keep, kept_labels
