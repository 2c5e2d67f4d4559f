"""An evaluation report as a text table, and on disk as JSON plus a confusion-matrix PNG."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def mean_std_percent(mean: float, std: float) -> str:
    """Fractions written as ``82.74 % ± 8.90``: the one way summaries, ``edgefer report`` and the docs write them."""
    return f"{100 * mean:.2f} % ± {100 * std:.2f}"


def format_table(report: dict[str, Any]) -> str:
    """Per-class precision/recall/F1/support, then accuracy and macro-F1, from ``classification_report``."""
    width = max(len("class"), *(len(name) for name in report["per_class"]))
    lines = [f"{'class':<{width}}  {'precision':>9}  {'recall':>7}  {'f1':>7}  {'support':>7}"]
    for name, row in report["per_class"].items():
        lines.append(
            f"{name:<{width}}  {_pct(row['precision']):>9}  {_pct(row['recall']):>7}  {_pct(row['f1']):>7}  "
            f"{row['support']:>7}"
        )
    lines.append(
        f"accuracy {_pct(report['accuracy'])}   macro-F1 {_pct(report['macro_f1'])}   ({report['n_images']} images)"
    )
    return "\n".join(lines)


def write_report(report: dict[str, Any], out_dir: str | Path, title: str | None = None) -> dict[str, Path]:
    """Write ``report.json`` and ``confusion_matrix.png`` into ``out_dir``; return their paths."""
    from edgefer.evaluate.plots import plot_confusion_matrix  # matplotlib only when figures are written

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "report.json"
    json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    png_path = plot_confusion_matrix(
        report["confusion_matrix"], report["classes"], out_dir / "confusion_matrix.png", title=title
    )
    return {"json": json_path, "confusion_matrix": png_path}


def _pct(value: float) -> str:
    return f"{100 * value:.2f}%"
