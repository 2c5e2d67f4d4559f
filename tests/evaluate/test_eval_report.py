import json

import numpy as np
import pytest
from PIL import Image

from edgefer.evaluate.metrics import classification_report
from edgefer.evaluate.plots import plot_confusion_matrix, plot_training_curves
from edgefer.evaluate.report import format_table, write_report
from edgefer.labels import EMOTIONS


def _report():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 7, 200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, 7, 200))
    return classification_report(y_true, y_pred, EMOTIONS)


def _png_size(path):
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


def test_report_table_lists_every_class_and_the_summary():
    report = _report()
    table = format_table(report)
    for name in EMOTIONS:
        assert f"\n{name} " in table
    assert f"accuracy {100 * report['accuracy']:.2f}%" in table
    assert f"macro-F1 {100 * report['macro_f1']:.2f}%" in table


def test_write_report_writes_json_and_png(tmp_path):
    report = _report()
    paths = write_report(report, tmp_path / "out")
    assert json.loads(paths["json"].read_text()) == report
    width, height = _png_size(paths["confusion_matrix"])
    assert width >= 500 and height >= 500


@pytest.mark.parametrize("normalize", [True, False])
def test_confusion_matrix_png_handles_an_empty_row(tmp_path, normalize):
    matrix = [[5, 1, 0], [0, 0, 0], [2, 0, 9]]
    path = plot_confusion_matrix(matrix, ["happy", "disgust", "neutral"], tmp_path / "cm.png", normalize=normalize)
    assert _png_size(path)[0] > 300


def test_training_curves_png_with_a_gap(tmp_path):
    history = [
        {
            "epoch": e,
            "train_loss": 2 / e,
            "train_acc": 0.3 + 0.05 * e,
            "val_loss": 2.2 / e,
            "val_acc": 0.3 + 0.04 * e,
            "lr": 1e-3 * 0.5**e,
            "seconds": 30.0,
        }
        for e in range(1, 6)
    ]
    history[2]["val_loss"] = None
    width, height = _png_size(plot_training_curves(history, tmp_path / "curves" / "curves.png"))
    assert width > 2 * height
    with pytest.raises(ValueError, match="empty"):
        plot_training_curves([], tmp_path / "none.png")


def test_training_curves_draw_the_live_weights_beside_their_average(tmp_path):
    history = [
        {"epoch": e, "train_loss": 1 / e, "train_acc": 0.5, "val_loss": 1 / e, "val_acc": 0.5, "lr": 1e-3, "seconds": 1}
        for e in range(1, 4)
    ]
    without = plot_training_curves(history, tmp_path / "without.png").read_bytes()
    for e, row in enumerate(history, start=1):
        row["live_val_acc"] = 0.4 + 0.01 * e
    assert plot_training_curves(history, tmp_path / "with.png").read_bytes() != without
