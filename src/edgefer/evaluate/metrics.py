"""Classification metrics in pure numpy: accuracy, macro-F1, per-class precision/recall/F1, confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """(num_classes, num_classes) int64 counts; rows are true classes, columns predicted classes."""
    y_true = _as_labels(y_true, num_classes, "y_true")
    y_pred = _as_labels(y_pred, num_classes, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} labels but y_pred has {y_pred.size}")
    counts = np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).astype(np.int64)


def classification_report(y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix, JSON-ready.

    Labels are indices into ``classes``. A ratio whose denominator is zero (precision of a class never
    predicted, recall of a class with no images) is 0, as in scikit-learn. ``macro_f1`` averages F1 over the
    classes that occur in ``y_true`` or ``y_pred`` (scikit-learn's default label set): a class absent from both
    says nothing about the model and would otherwise pull the mean down with a meaningless 0.
    """
    classes = [str(name) for name in classes]
    matrix = confusion_matrix(y_true, y_pred, len(classes))
    true_positives = np.diag(matrix).astype(np.float64)
    support = matrix.sum(axis=1)  # images of each true class
    predicted = matrix.sum(axis=0)  # predictions of each class
    precision = _safe_ratio(true_positives, predicted)
    recall = _safe_ratio(true_positives, support)
    f1 = _safe_ratio(2 * precision * recall, precision + recall)
    present = (support + predicted) > 0
    n_images = int(matrix.sum())
    return {
        "accuracy": float(true_positives.sum() / n_images) if n_images else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class": {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(classes)
        },
        "confusion_matrix": matrix.tolist(),
        "n_images": n_images,
        "classes": classes,
    }


def _safe_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.zeros_like(numerator, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _as_labels(labels: np.ndarray, num_classes: int, name: str) -> np.ndarray:
    array = np.asarray(labels).reshape(-1)
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must hold integer class indices, got dtype {array.dtype}")
    array = array.astype(np.int64)
    if array.size and (array.min() < 0 or array.max() >= num_classes):
        raise ValueError(f"{name} holds labels outside 0..{num_classes - 1}")
    return array
