"""Entry point of the `edgefer` command.

Each mode lives in its own module of this package (``edgefer/cli/<mode>.py``) and exposes
``register(subparsers)``, which adds its sub-parser and sets ``run=<callable(args) -> int>``. Modules import
their heavy dependencies inside ``run`` so that ``edgefer --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import warnings
from collections.abc import Iterator, Sequence
from typing import TextIO

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


@contextlib.contextmanager
def _edgefer_warnings_as_lines(command: str) -> Iterator[None]:
    """Show edgefer's own warnings (their classes live in edgefer's modules) as one ``warning:`` line each, not as
    Python's ``file:line: Category: ...`` report with a source line; other warnings, and library use, keep
    Python's way."""
    original = warnings.showwarning

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if not category.__module__.startswith("edgefer."):
            original(message, category, filename, lineno, file, line)
            return
        from tqdm import tqdm

        text = " ".join(str(message).split())
        tqdm.write(f"edgefer {command}: warning: {text}", file=file or sys.stderr)  # above any progress bar

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = original


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with _edgefer_warnings_as_lines(args.command):
            return int(args.run(args) or 0)
    except EdgeferError as error:
        print(f"edgefer {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"edgefer {args.command}: interrupted", file=sys.stderr)
        return 130
