"""Batch-1, one-thread latency of the tiny models in PyTorch (eager) and ONNX Runtime.

    .venv/bin/python benchmarks/tiny_latency.py [--runs 200] [--warmup 50] [--models hcmtmm lightcnn]

Each model is built at its default input size, exported with ``edgefer.export.onnx.export_onnx`` (opset 17) and
timed on one thread. Target: ``hcmtmm`` ≤ 1 ms median in ONNX Runtime. On a shared machine the figures move with
the load: compare models within one run, and quote the p90 beside the median.
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

import torch

from edgefer.export.onnx import export_onnx
from edgefer.models import create_model
from edgefer.profile.counting import count_macs, count_parameters
from edgefer.profile.latency import time_onnxruntime, time_torch

TINY_MODELS = ("hcmtmm_baseline", "hcmtmm_msa", "hcmtmm", "lightcnn")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(TINY_MODELS))
    parser.add_argument("--runs", type=int, default=200, help="timed runs per model and backend (≥ 50)")
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()
    if args.runs < 50:
        parser.error("--runs must be at least 50")

    print(
        f"{'model':16} {'input':>10} {'params':>8} {'MACs':>10}  {'torch median/p90 ms':>20}  {'ORT median/p90 ms':>18}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            model = create_model(name).eval()
            example = torch.rand(1, *model.preprocess.input_size)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the exporter's deprecation and tracer notes
                onnx_path = export_onnx(model, Path(tmp) / f"{name}.onnx")
            macs = count_macs(model, example).total
            eager = time_torch(model, example, threads=1, runs=args.runs, warmup=args.warmup)
            ort = time_onnxruntime(onnx_path, example, threads=1, runs=args.runs, warmup=args.warmup)
            size = "×".join(str(s) for s in model.preprocess.input_size)
            print(
                f"{name:16} {size:>10} {count_parameters(model):>8} {macs:>10}  "
                f"{eager.median_ms:>11.3f} / {eager.p90_ms:<6.3f}  {ort.median_ms:>9.3f} / {ort.p90_ms:<6.3f}"
            )


if __name__ == "__main__":
    main()
