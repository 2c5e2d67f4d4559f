"""Where ESP-DL quantisation loses a model's accuracy: each activation's quantised range against its float values.

    python benchmarks/espdl_ranges.py [--weights src/edgefer/weights/hcmtmm.pt] [--fer2013 PATH] [--calib-count 100]
                                      [--count 256] [--target esp32s3] [--top 6]

Needs ``pip install 'edgefer[espdl]'`` and FER2013. The weights are exported three ways: esp-ppq's default KL
activation ranges with int8 throughout, percentile ranges with int8 throughout, and percentile ranges with the Mamba
scan's element-wise operators in int16 (what ``edgefer export --format espdl`` does). For each: flash, top-1 agreement
with PyTorch and accuracy on ``--count`` PrivateTest faces (esp-ppq's PC simulation), then the activations whose
float values (esp-ppq's graph run with quantisation switched off) fall outside their quantised range most often:
operator, bits, the range, the float extremes and the share of values clipped; and how many faces have two
logits at the top of the logits' range, where clipping could change the class. Calibration: ``--calib-count``
Training faces; both draws use seed 0.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np
import torch

from edgefer.data import draw_samples, load_arrays, read_dataset
from edgefer.export.espdl import TARGETS, EspdlExport, export_espdl
from edgefer.models import load_weights

VARIANTS: tuple[tuple[str, str, bool], ...] = (
    ("KL ranges, int8", "kl", False),
    ("percentile ranges, int8", "percentile", False),
    ("percentile ranges, int16 scan (shipped export)", "percentile", True),
)


@dataclass
class Clipping:
    """One quantised activation and how often its float values leave the quantised range."""

    operator: str
    bits: int
    low: float  # the quantised range, scale × quant_min … scale × quant_max
    high: float
    float_min: float
    float_max: float
    clipped: float  # share of values outside [low, high]


def clipping(export: EspdlExport, inputs: np.ndarray) -> list[Clipping]:
    """Every activated output range of the quantised graph against the float values the same graph computes on
    ``inputs`` with quantisation switched off (one image at a time, as on the device)."""
    from esp_ppq.core import QuantizationStates
    from esp_ppq.executor import TorchExecutor
    from esp_ppq.IR import QuantableOperation

    quantised = [op for op in export.graph.operations.values() if isinstance(op, QuantableOperation)]
    outputs = {}
    for op in quantised:
        for config, variable in zip(op.output_quant_config, op.outputs, strict=True):
            if config.state == QuantizationStates.ACTIVATED:
                scale = float(config.scale.flatten()[0])
                low, high = scale * config.quant_min, scale * config.quant_max
                outputs[variable.name] = (op.name, config.num_of_bits, low, high)
    names = list(outputs)
    values: dict[str, list[np.ndarray]] = {name: [] for name in names}
    executor = TorchExecutor(graph=export.graph, device="cpu")
    for op in quantised:
        op.dequantize()
    try:
        for image in inputs:
            computed = executor.forward(torch.from_numpy(image[None]), output_names=names)
            for name, value in zip(names, computed, strict=True):
                values[name].append(value.numpy().ravel())
    finally:
        for op in quantised:
            op.restore_quantize_state()
    report = []
    for name, (operator, bits, low, high) in outputs.items():
        flat = np.concatenate(values[name])
        outside = float(np.mean((flat < low) | (flat > high)))
        report.append(Clipping(operator, bits, low, high, float(flat.min()), float(flat.max()), outside))
    return sorted(report, key=lambda row: -row.clipped)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", type=Path, default=Path("src/edgefer/weights/hcmtmm.pt"))
    parser.add_argument("--fer2013", type=Path, default=Path("../shared/datasets/fer2013"))
    parser.add_argument("--calib-count", type=int, default=100)
    parser.add_argument("--count", type=int, default=256, help="PrivateTest faces to check and to measure ranges on")
    parser.add_argument("--target", choices=TARGETS, default="esp32s3")
    parser.add_argument("--top", type=int, default=6, help="activations listed per variant")
    args = parser.parse_args()
    if not args.fer2013.is_dir():
        parser.error(f"{args.fer2013} is not a folder; pass --fer2013 with the FER2013 data set")
    model = load_weights(args.weights).eval()
    size = model.preprocess.image_size
    samples = read_dataset("fer2013", args.fer2013)
    training = [sample for sample in samples if sample.split == "Training"]
    private = [sample for sample in samples if sample.split == "PrivateTest"]
    calibration = model.preprocess.apply(load_arrays(draw_samples(training, args.calib_count), size)[0])
    images, labels = load_arrays(draw_samples(private, args.count), size)
    check = model.preprocess.apply(images)
    with torch.no_grad():
        reference = model(torch.from_numpy(check)).argmax(1).numpy()
    print(
        f"{args.weights} on {args.count} FER2013 PrivateTest faces (calibration: {args.calib_count} Training faces), "
        f"esp-ppq {version('esp-ppq')}, target {args.target}"
    )
    float_accuracy = np.mean(reference == labels)
    print(f"PyTorch fp32: accuracy {float_accuracy:.2%}")
    with tempfile.TemporaryDirectory(prefix="edgefer-espdl-ranges-") as scratch:
        for title, ranges, int16_scan in VARIANTS:
            export = export_espdl(
                model, calibration, Path(scratch) / "model.espdl", args.target, check, ranges, int16_scan
            )
            predicted = export.logits.argmax(1)
            accuracy = np.mean(predicted == labels)
            print(
                f"\n{title}: {export.flash_bytes / 1024:.1f} KB, {export.int16_operators} int16 operators, "
                f"agreement {np.mean(predicted == reference):.1%}, accuracy {accuracy:.2%} "
                f"({(accuracy - float_accuracy) * 100:+.2f} pp)"
            )
            # A clipped output layer changes the top-1 class only where two logits both reach the range's end.
            tied = int(np.sum((export.logits >= export.logits.max() - 1e-6).sum(axis=1) >= 2))
            print(f"faces with two logits at the largest simulated logit (the range's end when clipped): {tied}")
            print("operator | bits | quantised range | float min … max | clipped")
            for row in clipping(export, check)[: args.top]:
                print(
                    f"{row.operator} | {row.bits} | {row.low:.3g} … {row.high:.3g} | "
                    f"{row.float_min:.3g} … {row.float_max:.3g} | {row.clipped:.1%}"
                )


if __name__ == "__main__":
    main()
