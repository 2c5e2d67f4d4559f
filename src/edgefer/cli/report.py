"""`edgefer report --run GROUP:LABEL=RUN_DIR ... [--out bars.png]`: finished training runs side by side, as a
markdown table of test accuracy (mean ± std over folds) and a grouped bar chart (the papers' ablation figures)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="put finished training runs side by side: accuracy table and grouped bar chart",
        description="Read each run's summary.json (written by `edgefer train`) and compare their test accuracy.",
    )
    parser.add_argument(
        "--run",
        dest="runs",
        action="append",
        required=True,
        metavar="GROUP:LABEL=RUN_DIR",
        help="a run under a group (data set) and a label (model), e.g. FER2013:Baseline=runs/hcmtmm_baseline "
        "(repeatable; groups and labels keep the order given)",
    )
    parser.add_argument("--out", help="write the bar chart to this PNG file")
    parser.add_argument("--title", help="title of the chart (with --out)")
    parser.add_argument("--force", action="store_true", help="replace earlier results (an existing --out file)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from edgefer.errors import ConfigError
    from edgefer.evaluate.runs import accuracy_markdown, parse_run_spec, read_run_accuracy, run_grid
    from edgefer.outputs import claim_output_file

    if args.title is not None and args.out is None:
        raise ConfigError("--title names the chart, which only --out writes; add --out FILE.png or drop --title")
    if args.force and args.out is None:
        raise ConfigError("--force lets --out replace an earlier chart; add --out FILE.png or drop --force")
    if args.out is not None:
        if not args.out.lower().endswith(".png"):
            raise ConfigError(f"--out {args.out!r} would hold a PNG chart; give a file name ending in .png")
        claim_output_file(args.out, args.force)
    grid = run_grid([read_run_accuracy(*parse_run_spec(spec)) for spec in args.runs])
    print(accuracy_markdown(grid), end="")
    if args.out is not None:
        from edgefer.evaluate.plots import plot_accuracy_bars

        print(f"chart: {plot_accuracy_bars(grid, args.out, args.title)}")
    return 0
