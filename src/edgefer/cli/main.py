"""Entry point of the `edgefer` command.

Each mode lives in its own module of this package (``edgefer/cli/<mode>.py``) and exposes
``register(subparsers)``, which adds its sub-parser and sets ``run=<callable(args) -> int>``. Modules import
their heavy dependencies inside ``run`` so that ``edgefer --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import warnings
from collections.abc import Iterator, Sequence

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
    """Format edgefer's own warnings (their classes live in edgefer's modules) as one ``warning:`` line each, not as
    Python's ``file:line: Category: ...`` report with a source line. Only the formatting changes, so recorded
    warnings (``catch_warnings(record=True)``, pytest) are still recorded; other warnings keep Python's form."""
    original = warnings.formatwarning

    def one_line(
        message: Warning | str, category: type[Warning], filename: str, lineno: int, line: str | None = None
    ) -> str:
        if not category.__module__.startswith("edgefer."):
            return original(message, category, filename, lineno, line)
        return f"edgefer {command}: warning: {' '.join(str(message).split())}\n"

    warnings.formatwarning = one_line
    try:
        yield
    finally:
        warnings.formatwarning = original


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # FFmpeg inside OpenCV prints its own complaint about a broken video ("moov atom not found") before ours;
    # fatal messages only, unless the user asks for more.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "8")
    try:
        with _edgefer_warnings_as_lines(args.command):
            return int(args.run(args) or 0)
    except EdgeferError as error:
        print(f"edgefer {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"edgefer {args.command}: interrupted", file=sys.stderr)
        return 130
