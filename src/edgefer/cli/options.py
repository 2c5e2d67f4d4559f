"""Command-line options shared by the modes that build a ``Recognizer`` (predict, serve)."""

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
        "classification time) or 10 crops (multicrop, 10×); +0.5 to 2.4 points on FER2013 (default none)",
    )
