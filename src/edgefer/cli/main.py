"""Entry point of the `edgefer` command.

Each mode lives in its own module of this package (``edgefer/cli/<mode>.py``) and exposes
``register(subparsers)``, which adds its sub-parser and sets ``run=<callable(args) -> int>``. Modules import
their heavy dependencies inside ``run`` so that ``edgefer --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from edgefer import __version__
from edgefer.errors import EdgeferError

COMMANDS: tuple[str, ...] = ("bench", "crossval", "data", "export", "predict", "report", "serve", "train", "val")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgefer",
        description="Facial expression recognition for edge, IoT and Web-of-Things devices.",
    )
    parser.add_argument("--version", action="version", version=f"edgefer {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="MODE", required=True)
    for name in COMMANDS:
        importlib.import_module(f"edgefer.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except EdgeferError as error:
        print(f"edgefer {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"edgefer {args.command}: interrupted", file=sys.stderr)
        return 130
