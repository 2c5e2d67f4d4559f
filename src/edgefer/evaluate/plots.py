"""PNG figures: confusion matrix, training curves and accuracy bars of several runs.

Figures are built on ``matplotlib.figure.Figure`` and rendered by the Agg canvas directly, without pyplot:
no global backend is switched, no window can open, and nothing leaks between calls or threads.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from edgefer.evaluate.runs import RunGrid


def plot_confusion_matrix(
    cm: Sequence[Sequence[int]] | np.ndarray,
    classes: Sequence[str],
    path: str | Path,
    normalize: bool = True,
    title: str | None = None,
) -> Path:
    """Heat map of a confusion matrix (rows = true class) written as PNG.

    With ``normalize`` each row is divided by its support, so the diagonal reads as per-class recall; each
    cell shows the percentage and, below it, the image count.
    """
    counts = np.asarray(cm, dtype=np.int64)
    support = counts.sum(axis=1, keepdims=True)
    values = counts / np.where(support > 0, support, 1) if normalize else counts.astype(np.float64)
    size = len(classes)
    side = max(4.5, 0.75 * size + 2.0)
    figure = Figure(figsize=(side + 1.0, side), dpi=120, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    vmax = 1.0 if normalize else max(float(values.max(initial=0)), 1.0)
    image = axes.imshow(values, cmap="Blues", vmin=0.0, vmax=vmax)
    colorbar = figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    colorbar.set_label("fraction of the true class" if normalize else "images")
    axes.set_xticks(range(size), labels=list(classes), rotation=45, ha="right", rotation_mode="anchor")
    axes.set_yticks(range(size), labels=list(classes))
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    for row in range(size):
        for col in range(size):
            text = f"{100 * values[row, col]:.0f}%\n{counts[row, col]}" if normalize else f"{counts[row, col]}"
            colour = "white" if values[row, col] > 0.55 * vmax else "black"
            axes.text(col, row, text, ha="center", va="center", color=colour, fontsize=8)
    accuracy = np.trace(counts) / max(int(counts.sum()), 1)
    title = title or f"confusion matrix (accuracy {100 * accuracy:.2f}%, {int(counts.sum())} images)"
    axes.set_title(textwrap.fill(title, width=int(12 * side)))
    return _save(figure, path)


def plot_training_curves(history: Sequence[dict], path: str | Path, title: str | None = None) -> Path:
    """Loss and accuracy per epoch (train vs val) and the learning rate, side by side, written as PNG.

    ``history`` rows have ``epoch, train_loss, train_acc, val_loss, val_acc, lr, seconds``; a missing or None
    value leaves a gap in its curve. A dotted line marks the epoch of the best validation accuracy. Rows of a run
    with weight averaging also have ``live_val_acc`` (the live weights'; ``val_acc`` is the average's), drawn
    beside it.
    """
    if not history:
        raise ValueError("no epochs to plot: history is empty")
    epochs = [row["epoch"] for row in history]
    figure = Figure(figsize=(13.0, 4.0), dpi=120, layout="constrained")
    FigureCanvasAgg(figure)
    loss_axes, acc_axes, lr_axes = figure.subplots(1, 3)
    val_acc = np.asarray(_column(history, "val_acc"))
    best = int(np.nanargmax(val_acc)) if not np.isnan(val_acc).all() else None
    for axes, metric, label in ((loss_axes, "loss", "loss"), (acc_axes, "acc", "accuracy")):
        for split, style in (("train", "o-"), ("val", "s-")):
            axes.plot(epochs, _column(history, f"{split}_{metric}"), style, markersize=3, label=split)
        if metric == "acc" and any("live_val_acc" in row for row in history):
            axes.plot(epochs, _column(history, "live_val_acc"), "^--", markersize=3, label="val, live weights")
        if best is not None:
            axes.axvline(epochs[best], color="grey", linestyle=":", label=f"best val acc (epoch {epochs[best]})")
        axes.set_title(label)
        axes.legend()
    acc_axes.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    lr = _column(history, "lr")
    lr_axes.plot(epochs, lr, "-", color="tab:green")
    if all(value > 0 for value in lr if not math.isnan(value)):
        lr_axes.set_yscale("log")
    lr_axes.set_title("learning rate")
    for axes in (loss_axes, acc_axes, lr_axes):
        axes.set_xlabel("epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
    seconds = sum(value for value in _column(history, "seconds") if not math.isnan(value))
    summary = f"{len(history)} epochs, " + (f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.1f} s")
    if best is not None:
        summary += f", best val acc {100 * val_acc[best]:.2f}% at epoch {epochs[best]}"
    figure.suptitle(f"{title}: {summary}" if title else summary)
    return _save(figure, path)


def plot_accuracy_bars(grid: RunGrid, path: str | Path, title: str | None = None) -> Path:
    """Grouped bars of test accuracy: a group per data set (x axis), a bar per label within it, the value written
    above it and, for runs of several folds, the sample std over folds as an error bar; written as PNG."""
    groups, labels, cells = grid.groups, grid.labels, grid.cells
    width = 0.8 / len(labels)
    figure = Figure(figsize=(max(5.0, 2.5 + 0.55 * len(groups) * len(labels)), 4.5), dpi=120, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    top = 100.0
    for index, label in enumerate(labels):
        offset = (index - (len(labels) - 1) / 2) * width
        placed = [(g + offset, cells[(group, label)]) for g, group in enumerate(groups) if (group, label) in cells]
        axes.bar([x for x, _ in placed], [100 * run.mean for _, run in placed], width, label=label)
        for x, run in placed:
            spread = 100 * run.std if run.folds > 1 else 0.0
            if spread:
                axes.errorbar(x, 100 * run.mean, yerr=spread, fmt="none", ecolor="black", capsize=3, linewidth=1)
            axes.text(x, 100 * run.mean + spread + 1.0, f"{100 * run.mean:.1f}", ha="center", va="bottom", fontsize=7)
            top = max(top, 100 * run.mean + spread)
    axes.set_xticks(range(len(groups)), labels=groups)
    axes.set_ylabel("test accuracy")
    axes.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    axes.set_ylim(0, top + 6)
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes.set_title("test accuracy (error bars: std over folds)" if title is None else title)
    return _save(figure, path)


def _column(history: Sequence[dict], key: str) -> list[float]:
    return [math.nan if row.get(key) is None else float(row[key]) for row in history]


def _save(figure: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path
