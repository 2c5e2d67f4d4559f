"""Evaluate a model on labelled uint8 face arrays: class matching, inference (with TTA), metrics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from torch import nn

from edgefer.evaluate.classes import match_labels
from edgefer.evaluate.inference import predict_probs
from edgefer.evaluate.metrics import classification_report
from edgefer.models.weights import model_classes


def evaluate_arrays(
    model: nn.Module,
    images: np.ndarray,
    labels: np.ndarray,
    dataset_labels: Sequence[int] | None = None,
    tta: str = "none",
    batch_size: int = 256,
    progress: bool | None = None,
) -> dict[str, Any]:
    """``classification_report`` of ``model`` on uint8 (N, H, W) ``images`` with canonical ``labels``.

    ``labels`` index ``EMOTIONS_WITH_CONTEMPT``; ``dataset_labels`` are the labels the whole data set has
    (default: those in ``labels``), so that a class missing from one split still counts as the data set's.
    Classes are matched by ``edgefer.evaluate.classes.match_labels``; the report's ``class_match`` entry says
    what was dropped or ignored and how many images that removed.
    """
    match, keep, y_true = match_labels(model_classes(model), labels, dataset_labels)
    kept = images if keep.all() else images[keep]
    probs = match.restrict(predict_probs(model, kept, batch_size=batch_size, tta=tta, progress=progress))
    report = classification_report(y_true, probs.argmax(axis=1), match.classes)
    report["class_match"] = {
        "dropped_classes": list(match.dropped),
        "ignored_outputs": list(match.ignored),
        "dropped_images": int((~keep).sum()),
        "note": match.describe(),
    }
    return report
