"""`edgefer train --config configs/X.yaml [--set key=value ...] [--teacher WEIGHTS] [--resume]`.

Under ``torchrun --nproc_per_node N -m edgefer train ...`` the same command trains with DistributedDataParallel.
"""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a model from a recipe (all folds of its protocol), then test it",
        description="Train a model from a recipe file; every recipe field can be overridden with --set.",
    )
    parser.add_argument("--config", required=True, help="recipe YAML file (see configs/)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a recipe field, e.g. --set train.lr=1e-3 --set data.fold=0 (repeatable)",
    )
    parser.add_argument(
        "--teacher",
        metavar="WEIGHTS",
        action="append",
        help="distil from this teacher weight file (same as --set distill.teacher=WEIGHTS); repeat it to distil "
        "from the ensemble of several (same as --set distill.teacher=[A,B])",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in runs/<name>/ from its last checkpoint (finished folds are kept) with the recipe it "
        "started with; only data.fold and speed settings may change (a refusal names them)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from edgefer.train.distributed import init_from_env, shutdown
    from edgefer.train.recipe import load_recipe
    from edgefer.train.run import run_recipe, summary_markdown

    teacher = [f"distill.teacher={json.dumps(args.teacher)}"] if args.teacher else []  # JSON is YAML, {fold} quoted
    recipe = load_recipe(args.config, [*args.overrides, *teacher])  # checked like any other setting
    context = init_from_env(recipe.train.device)
    try:
        summary = run_recipe(recipe, resume=args.resume, context=context, show_progress=not args.quiet)
    finally:
        shutdown(context)
    if context.is_main:
        print(summary_markdown(recipe, summary), end="")
        print(f"outputs in {recipe.run_dir}")
    return 0
