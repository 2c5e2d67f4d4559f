"""Test accuracy of finished training runs, read from their ``summary.json``, for tables and bar charts that put
several runs side by side (the papers' ablation figures)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from edgefer.errors import ConfigError
from edgefer.evaluate.report import mean_std_percent


@dataclass(frozen=True)
class RunAccuracy:
    """One bar: a run's test accuracy (mean and sample std over its tested folds, fractions) under a group and a
    label."""

    group: str
    label: str
    run_dir: Path
    mean: float
    std: float
    folds: int


@dataclass(frozen=True)
class RunGrid:
    """Runs laid out as a table: groups (columns, data sets) and labels (rows, models) in the order first given."""

    groups: list[str]
    labels: list[str]
    cells: dict[tuple[str, str], RunAccuracy]


def parse_run_spec(spec: str) -> tuple[str, str, Path]:
    """``GROUP:LABEL=RUN_DIR`` (e.g. ``FER2013:Baseline=runs/hcmtmm_baseline``) into its three parts."""
    key, sep, run_dir = spec.partition("=")
    group, colon, label = key.partition(":")
    if not sep or not colon or not group.strip() or not label.strip() or not run_dir.strip():
        raise ConfigError(
            f"--run {spec!r} is not GROUP:LABEL=RUN_DIR; write e.g. --run FER2013:Baseline=runs/hcmtmm_baseline"
        )
    return group.strip(), label.strip(), Path(run_dir.strip())


def read_run_accuracy(group: str, label: str, run_dir: str | Path) -> RunAccuracy:
    """The test accuracy in ``run_dir/summary.json``, as written by ``edgefer train`` when every fold is done."""
    run_dir = Path(run_dir)
    path = run_dir / "summary.json"
    if not path.is_file():
        if (run_dir / "crossval.json").is_file():
            raise ConfigError(
                f"{str(run_dir)!r} is an `edgefer crossval` run (crossval.json), not a training run; give one of "
                "its training runs, or read its matrix in crossval.json"
            )
        raise ConfigError(
            f"no summary.json in {str(run_dir)!r}: not a finished training run; train it with "
            "`edgefer train --config ...` (or --resume an interrupted one) or check the path"
        )
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ConfigError(
            f"{str(path)!r} is not valid JSON ({error}); it was damaged after `edgefer train` wrote it: "
            "re-run the training to rewrite it"
        ) from None
    try:
        accuracy = summary["accuracy"]
        tested = sum(1 for result in summary["results"] if result["test"])
        return RunAccuracy(group, label, run_dir, float(accuracy["mean"]), float(accuracy["std"]), tested)
    except (ValueError, KeyError, TypeError) as error:
        raise ConfigError(
            f"{str(path)!r} has no test accuracy ({type(error).__name__}: {error}); re-run `edgefer train` to "
            "rewrite it (a run without a test split has none)"
        ) from None


def run_grid(runs: Sequence[RunAccuracy]) -> RunGrid:
    """Lay ``runs`` out by group and label; a group and label given twice is refused (one would hide the other)."""
    cells: dict[tuple[str, str], RunAccuracy] = {}
    for run in runs:
        taken = cells.setdefault((run.group, run.label), run)
        if taken is not run:
            raise ConfigError(
                f"--run {run.group}:{run.label} is given twice ({taken.run_dir}, {run.run_dir}); "
                "give each GROUP:LABEL once"
            )
    groups = list(dict.fromkeys(run.group for run in runs))
    labels = list(dict.fromkeys(run.label for run in runs))
    return RunGrid(groups, labels, cells)


def accuracy_markdown(grid: RunGrid) -> str:
    """A table with a row per label and a column per group: ``mean ± std (folds)`` in percent."""
    lines = ["| | " + " | ".join(grid.groups) + " |", "|---|" + "---|" * len(grid.groups)]
    for label in grid.labels:
        row = [_cell(grid.cells.get((group, label))) for group in grid.groups]
        lines.append(f"| {label} | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def _cell(run: RunAccuracy | None) -> str:
    if run is None:
        return "–"
    if run.folds == 1:
        return f"{100 * run.mean:.2f} %"
    return f"{mean_std_percent(run.mean, run.std)} ({run.folds} folds)"
