"""Command-line options shared by several modes: those of a ``Recognizer`` (predict, serve), the split's fold
options (val, data split) and output paths."""

from __future__ import annotations

import argparse

from edgefer.evaluate.tta import TTA_MODES


def add_recognizer_options(parser: argparse.ArgumentParser) -> None:
    """``--model``, ``--detector`` and ``--backend``: the three parts of a ``Recognizer``; ``--tta``: how it scores."""
    parser.add_argument(
        "--model",
        default="default",
        help="shipped model name, weights .pt or exported .onnx (default: the shipped default)",
    )
    parser.add_argument(
        "--detector",
        default="haar",
        help="haar (default), dlib, mediapipe, none (inputs are face crops) or a YuNet .onnx path",
    )
    parser.add_argument(
        "--backend",
        default="auto",
        choices=("auto", "torch", "onnxruntime"),
        help="inference backend (default auto: the fastest that reproduces the model)",
    )
    parser.add_argument(
        "--tta",
        choices=TTA_MODES,
        default="none",
        help="test-time augmentation: average each face's scores over its crop and mirror (flip, 2× the "
        "classification time) or 10 crops (multicrop, 10×); with the shipped models on FER2013 flip adds 0.3 to 1.6 "
        "points, multicrop -0.1 to +1.0 (default none)",
    )


def refuse_fold_options(protocol: str, fold: int | None, n_folds: int | None) -> None:
    """``--fold`` and ``--n-folds`` choose among k folds: refused for a protocol without folds, which ignores them."""
    from edgefer.data.splits import FOLD_PROTOCOLS
    from edgefer.errors import ConfigError

    for option, value in (("--fold", fold), ("--n-folds", n_folds)):
        if value is not None and protocol not in FOLD_PROTOCOLS:
            raise ConfigError(
                f"{option} applies to the k-fold protocols ({', '.join(FOLD_PROTOCOLS)}), not {protocol}; "
                f"drop {option} or choose one of them with --protocol"
            )


def refuse_empty_output(option: str, value: str | None, kind: str = "folder") -> None:
    """An empty output path (often an unset shell variable: ``--out "$DIR"``) would otherwise become the current
    folder, or fall back to the default, without a word."""
    from edgefer.errors import ConfigError

    if value is not None and not value.strip():
        where = " ('.' for the current one)" if kind == "folder" else ""
        raise ConfigError(f"{option} is empty; give the {kind} to write into{where}")
