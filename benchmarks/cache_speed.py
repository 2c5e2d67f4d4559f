"""First (decode) vs second (memory-mapped cache) load of FER2013 through ``edgefer.data.load_arrays``.

    .venv/bin/python benchmarks/cache_speed.py [--root ../shared/datasets/fer2013] [--size 48] [--workers N]

The cache goes to a fresh temporary folder, so the first load always decodes. Target: second load ≥ 10× faster.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from edgefer.data import load_cached, read_dataset

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "fer2013"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--size", type=int, default=48, help="square image side")
    parser.add_argument("--workers", type=int, help="decoding processes (default: all cores)")
    args = parser.parse_args()

    samples = read_dataset("fer2013", args.root)
    size = (args.size, args.size)
    with tempfile.TemporaryDirectory(prefix="edgefer-cache-bench-") as cache_dir:
        start = time.perf_counter()
        first = load_cached(samples, size, Path(cache_dir), workers=args.workers)
        first_s = time.perf_counter() - start
        start = time.perf_counter()
        second = load_cached(samples, size, Path(cache_dir), workers=args.workers)
        checksum = int(second.images.sum(dtype=np.uint64))  # touch every cached byte
        second_s = time.perf_counter() - start
        assert np.array_equal(first.images, second.images) and np.array_equal(first.labels, second.labels)

    print(
        f"samples: {len(samples)}; images loaded: {len(second.images)} of shape {second.images.shape[1:]}, "
        f"skipped: {len(second.skipped)}; pixel checksum {checksum}"
    )
    print(f"first load (decode + write cache): {first_s:.2f} s")
    print(f"second load (memory-mapped cache, every byte read): {second_s:.3f} s")
    print(f"speed-up: {first_s / second_s:.1f}x (target >= 10x)")


if __name__ == "__main__":
    main()
