"""`edgefer crossval --config configs/X.yaml --data fer2013=PATH --data ckplus48=PATH [--protocol NAME=PROTOCOL]`:
train on each data set, test on every data set, write the matrix as markdown, JSON and a heat-map PNG."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "crossval",
        help="cross-data-set matrix: train on each data set, test on every other (shared classes only)",
        description="Train a recipe's model on each data set and test it on every data set's test split.",
    )
    parser.add_argument("--config", required=True, help="recipe YAML file (model, optimiser, epochs ...)")
    parser.add_argument(
        "--data",
        action="append",
        required=True,
        metavar="NAME=PATH",
        help="a data set, e.g. fer2013=../shared/datasets/fer2013 (give two or more)",
    )
    parser.add_argument(
        "--protocol",
        action="append",
        default=[],
        metavar="NAME=PROTOCOL",
        help="split of one data set (default: official if it has one, else subject_kfold fold 0 "
        "if it names subjects, else stratified_60_20_20)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a recipe field, e.g. --set train.epochs=5 (repeatable)",
    )
    parser.add_argument("--resume", action="store_true", help="continue an interrupted matrix")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from edgefer.data.readers import parse_data_spec
    from edgefer.errors import ConfigError
    from edgefer.train.crossval import matrix_markdown, run_crossval
    from edgefer.train.recipe import load_recipe

    recipe = load_recipe(args.config, args.overrides)
    datasets = [parse_data_spec(spec) for spec in args.data]
    protocols = {}
    for spec in args.protocol:
        name, sep, protocol = spec.partition("=")
        if not sep:
            raise ConfigError(f"--protocol {spec!r} is not NAME=PROTOCOL (e.g. --protocol ckplus48=subject_kfold)")
        protocols[name.strip().lower()] = protocol.strip()
    result = run_crossval(recipe, datasets, protocols, resume=args.resume, show_progress=not args.quiet)
    print(matrix_markdown(result), end="")
    print(f"outputs in {recipe.run_dir}")
    return 0
