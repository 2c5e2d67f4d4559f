"""Accuracy of each shipped model as a distillation teacher, on the images its student sees.

    .venv/bin/python benchmarks/teacher_input.py [--root ../shared/datasets/fer2013] [--split PublicTest]
        [--student-size 98] [--teachers dmsnet_light lightcnn vgg16_bn]

A student trained at a larger size than its teacher (HCMTMM at 98x98, the shipped 48x48 models as teachers) reads
the tensor cache at its own size, so FER2013's 48x48 faces reach it enlarged (bilinear); the trainer shrinks each
batch, after augmentation, back to the teacher's size before the teacher sees it. This prints each teacher's
accuracy on the split at its own size (the accuracy `edgefer val` reports) and through that round trip, with the
antialiased filter (`distill.teacher_antialias: true`, the default) and with plain bilinear (`false`), measured by
the trainer's own `Teacher.accuracy`.
"""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

import torch

from edgefer.data import load_arrays, read_dataset
from edgefer.models import load_weights
from edgefer.train.teacher import Teacher
from edgefer.weights import shipped_weights

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "fer2013"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--split", default="PublicTest", help="FER2013 split to score on (the selection split)")
    parser.add_argument("--student-size", type=int, default=98, help="the student's input side (HCMTMM: 98)")
    parser.add_argument("--teachers", nargs="+", default=["dmsnet_light", "lightcnn", "vgg16_bn"])
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()

    samples = [sample for sample in read_dataset("fer2013", args.root) if sample.split == args.split]
    side = args.student_size
    print(
        f"torch {torch.__version__}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"FER2013 {args.split}, {len(samples)} faces, student images {side}x{side}"
    )
    print(f"| teacher | own size | {side}→own, antialiased (default) | {side}→own, plain bilinear |")
    print("|---|---|---|---|")
    device = torch.device("cpu")
    student_images, student_labels = load_arrays(samples, (side, side), progress=False)
    for name in args.teachers:
        shipped = shipped_weights(name)
        model = load_weights(shipped.path, shipped.sha256)
        own = model.preprocess.image_size
        own_images, own_labels = load_arrays(samples, own, progress=False)
        accuracies = [
            Teacher([model], device).accuracy(own_images, own_labels, args.batch_size),
            Teacher([model], device, antialias=True).accuracy(student_images, student_labels, args.batch_size),
            Teacher([model], device, antialias=False).accuracy(student_images, student_labels, args.batch_size),
        ]
        cells = " | ".join(f"{100 * accuracy:.2f} %" for accuracy in accuracies)
        print(f"| {name} ({own[0]}x{own[1]}) | {cells} |", flush=True)


if __name__ == "__main__":
    main()
