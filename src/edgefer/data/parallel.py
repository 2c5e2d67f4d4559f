"""An ordered map over a process pool with a tqdm bar, in-process for small inputs."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")
R = TypeVar("R")

# Below this many items a pool costs more to start (spawning imports numpy and OpenCV) than it saves.
MIN_ITEMS_FOR_POOL = 2000


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _single_threaded_opencv() -> None:
    import cv2

    cv2.setNumThreads(1)


def progress_map(function: Callable[[T], R], items: Sequence[T], desc: str, workers: int | None = None) -> Iterator[R]:
    """``map(function, items)`` in order, spread over ``workers`` processes, with a progress bar.

    ``function`` must be a module-level function (it is pickled). Pools use "spawn", which is safe next to the
    threads PyTorch starts, on every platform.
    """
    workers = default_workers() if workers is None else max(1, workers)
    bar = tqdm(total=len(items), desc=desc, unit="img", leave=False, dynamic_ncols=True)
    try:
        if workers == 1 or len(items) < MIN_ITEMS_FOR_POOL:
            for item in items:
                yield function(item)
                bar.update()
            return
        context = multiprocessing.get_context("spawn")
        chunk = max(16, min(512, len(items) // (workers * 8)))
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_single_threaded_opencv) as pool:
            for result in pool.map(function, items, chunksize=chunk):
                yield result
                bar.update()
    finally:
        bar.close()
