"""Flash and RAM needs of the tiny models on microcontrollers, from untrained (seed-0) models.

    python benchmarks/mcu_footprint.py [--format mcu|espdl] [--models hcmtmm lightcnn] [--fer2013 PATH] [--count 64]

``--format mcu`` (default; needs ``pip install 'edgefer[mcu]'``): int8 TFLite, the TFLite Micro interpreter on this
PC measuring the tensor arena, and the ESP32-CAM firmware folder. ``--format espdl`` (needs ``pip install
'edgefer[espdl]'``): the ESP32-S3 ``.espdl`` file; esp-ppq gives no RAM figure, and its agreement is that of its PC
simulation of the int8 graph. Each model is built with ``torch.manual_seed(0)``, exported by ``export_model`` and
checked against PyTorch. Calibration and check images are ``--count`` FER2013 Training and PrivateTest faces
(random pixels when the data set is absent). Flash and arena depend mainly on the architecture, so an untrained model
gives a device's needs to within a few KB of the trained one; its top-1 agreement says only that the int8 graph
computes what PyTorch does.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from edgefer.data import Sample, draw_samples, load_arrays, read_dataset
from edgefer.errors import ExportError
from edgefer.export.pipeline import ExportInputs, export_model
from edgefer.models import create_model

TINY_MODELS = ("hcmtmm_baseline", "hcmtmm_msa", "hcmtmm", "lightcnn")


def fer2013_splits(root: Path) -> dict[str, list[Sample]] | None:
    """FER2013's Training and PrivateTest samples, read once for every model (None when the data set is absent)."""
    if not root.is_dir():
        return None
    samples = read_dataset("fer2013", root)
    return {split: [sample for sample in samples if sample.split == split] for split in ("Training", "PrivateTest")}


def drawn_faces(samples: list[Sample], count: int, image_size: tuple[int, int]) -> np.ndarray:
    """``count`` of ``samples``, drawn with seed 0, as greyscale pixels of ``image_size``."""
    images, _ = load_arrays(draw_samples(samples, count), image_size)
    return images


def export_inputs(model: torch.nn.Module, fer2013: dict[str, list[Sample]] | None, count: int) -> ExportInputs:
    size = model.preprocess.image_size
    if fer2013 is not None:
        calibration = drawn_faces(fer2013["Training"], count, size)
        check = drawn_faces(fer2013["PrivateTest"], count, size)
        name = f"{count} FER2013 PrivateTest faces"
    else:
        rng = np.random.default_rng(0)
        calibration, check = (rng.integers(0, 256, size=(count, *size), dtype=np.uint8) for _ in range(2))
        name = f"{count} random images"
    apply = model.preprocess.apply
    return ExportInputs(calibration=apply(calibration), check=apply(check), check_name=name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", choices=("mcu", "espdl"), default="mcu")
    parser.add_argument("--models", nargs="+", default=list(TINY_MODELS))
    parser.add_argument("--fer2013", type=Path, default=Path("../shared/datasets/fer2013"))
    parser.add_argument("--count", type=int, default=64, help="calibration and check images (default: 64)")
    args = parser.parse_args()

    fer2013 = fer2013_splits(args.fer2013)
    lines = []  # printed after every export: the converter writes its own progress to the console
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            torch.manual_seed(0)
            model = create_model(name).eval()
            inputs = export_inputs(model, fer2013, args.count)
            size = "×".join(str(side) for side in model.preprocess.image_size)
            try:
                row = export_model(model, args.format, Path(tmp) / name, int8=False, inputs=inputs).rows[-1]
            except ExportError as error:  # an operator the target lacks: a finding of this table, not a crash
                lines.append(f"{name:16} {size:>8}  refused: {error}")
                continue
            arena = f"{row['arena_bytes'] / 1024:.1f}" if "arena_bytes" in row else "-"
            lines.append(
                f"{name:16} {size:>8} {row['flash_bytes'] / 1024:>9.1f} {arena:>9} "
                f"{row['top1_agreement']:>15.1%}  {inputs.check_name}"
                + (f"; left in float: {', '.join(row['float_operators'])}" if row.get("float_operators") else "")
            )
    print(f"\n{'model':16} {'input':>8} {'flash KB':>9} {'arena KB':>9} {'top-1 agreement':>16}  checked on")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
