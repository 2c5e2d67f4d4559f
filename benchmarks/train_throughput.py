"""Training throughput: images/s of one epoch of the tiny models on FER2013's Training split, at 1 and 2 threads,
plain and distilled (teacher outputs cached vs computed live), with the share of the epoch spent preparing
batches (reading the memory-mapped cache, augmentation, normalisation).

    .venv/bin/python benchmarks/train_throughput.py [--root ../shared/datasets/fer2013] [--images N]
        [--models lightcnn hcmtmm_baseline hcmtmm] [--threads 1 2] [--teacher vgg16_bn]

``--images N`` times the first N images of a shuffled Training split instead of all 28,709 (a whole epoch of every
row takes a long time on a small CPU). The teacher is an untrained model of the given architecture: only its
speed matters here. "cached" precomputes the teacher's outputs once (the run's choice when augmentation is off;
the precomputation time is shown separately), "live" runs the teacher on every batch (the choice when
augmentation is on). Augmentation is off in the distilled rows so that both see the same work, and on (crop,
flip, rotation, erasing) in the plain rows.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from edgefer.data import load_arrays, read_dataset, split_samples
from edgefer.labels import EMOTIONS
from edgefer.models import create_model, save_weights
from edgefer.train.recipe import recipe_from_dict
from edgefer.train.run import model_image_size
from edgefer.train.trainer import ArraySplit, Trainer

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "fer2013"
AUGMENT_OFF = {"crop_padding": 0, "hflip": False, "rotation": 0.0, "erasing": 0.0}
AUGMENT_ON = {"crop_padding": 4, "hflip": True, "rotation": 10.0, "erasing": 0.25}


def epoch_row(model: str, split: ArraySplit, threads: int, teacher: Path | None, cache: bool, out: Path) -> dict:
    recipe = recipe_from_dict(
        {
            "name": "bench",
            "output_dir": str(out),
            "model": {"name": model},
            "train": {"epochs": 1, "batch_size": 64, "threads": threads, "device": "cpu"},
            "augment": AUGMENT_OFF if teacher else AUGMENT_ON,
            "distill": {"teacher": str(teacher) if teacher else None, "cache_teacher": cache},
        }
    )
    trainer = Trainer(
        recipe,
        EMOTIONS,
        out / f"{model}-{threads}-{cache}-{teacher is not None}",
        show_progress=False,
        write_curves=False,
    )
    started = time.perf_counter()
    trainer.fit(split, None)
    total = time.perf_counter() - started
    row = trainer.history[-1]
    return {
        "seconds": row["seconds"],
        "img_s": len(split) / row["seconds"],
        "data_share": row["data_seconds"] / row["seconds"],
        "precompute": total - row["seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--images", type=int, default=0, help="images per epoch (default: the whole split)")
    parser.add_argument("--models", nargs="+", default=["lightcnn", "hcmtmm_baseline", "hcmtmm"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--teacher", default="vgg16_bn", help="teacher architecture (untrained)")
    args = parser.parse_args()

    train = split_samples(read_dataset("fer2013", args.root), "official")["train"]
    print(
        f"torch {torch.__version__}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print("| model | threads | loss | images | s/epoch | img/s | batch preparation | teacher precompute |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="edgefer-train-bench-") as tmp:
        out = Path(tmp)
        torch.manual_seed(0)
        teacher = save_weights(out / "teacher.pt", create_model(args.teacher, num_classes=len(EMOTIONS)), EMOTIONS)
        for model in args.models:
            images, labels = load_arrays(train, model_image_size(recipe_from_dict({"model": {"name": model}})))
            order = np.random.default_rng(0).permutation(len(labels))[: args.images or None]
            split = ArraySplit(np.asarray(images[np.sort(order)]), labels[np.sort(order)])
            for threads in args.threads:
                for label, teacher_path, cache in (
                    ("CE, augmented", None, True),
                    ("distilled, cached teacher", teacher, True),
                    ("distilled, live teacher", teacher, False),
                ):
                    result = epoch_row(model, split, threads, teacher_path, cache, out)
                    precompute = f"{result['precompute']:.1f} s" if teacher_path and cache else "-"
                    print(
                        f"| {model} | {threads} | {label} | {len(split)} | {result['seconds']:.1f} | "
                        f"{result['img_s']:.0f} | {100 * result['data_share']:.1f} % | {precompute} |",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
