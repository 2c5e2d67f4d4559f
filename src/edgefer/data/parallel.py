"""An ordered map over a process pool with a tqdm bar, in-process for small inputs."""

from __future__ import annotations

import multiprocessing
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import TypeVar

from tqdm import tqdm

from edgefer.data.records import DataWarning

T = TypeVar("T")
R = TypeVar("R")

# Below this many images starting worker processes costs more than it saves.
MIN_ITEMS_FOR_POOL = 1000


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextmanager
def _single_threaded_opencv() -> Iterator[None]:
    """OpenCV at one thread while worker processes start, so that forked workers inherit one thread (and this
    process gets its own setting back as soon as they have started). Setting it
    in a forked worker instead hangs whenever the parent's OpenCV thread pool has run: the pool's threads and
    lock do not survive the fork."""
    import cv2

    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(previous)


def _set_opencv_threads_to_one() -> None:
    """Initializer of spawned workers (not Linux), which start a fresh OpenCV."""
    import cv2

    cv2.setNumThreads(1)


def progress_map(
    function: Callable[[T], R], items: Sequence[T], desc: str, workers: int | None = None, progress: bool = True
) -> Iterator[R]:
    """``map(function, items)`` in order, spread over ``workers`` processes, with a progress bar (unless not
    ``progress``).

    ``function`` must be a module-level function (it is pickled). On Linux the pool forks, as PyTorch's
    DataLoader does: "spawn" would re-run the caller's script in every worker unless it has a
    ``if __name__ == "__main__"`` guard. Should the pool break anyway, the remaining items run in-process.
    """
    workers = default_workers() if workers is None else max(1, workers)
    bar = tqdm(total=len(items), desc=desc, unit="img", leave=False, dynamic_ncols=True, disable=not progress)
    done = 0
    try:
        if workers > 1 and len(items) >= MIN_ITEMS_FOR_POOL:
            chunk = max(16, min(512, len(items) // (workers * 8)))
            context = _context()
            initializer = None if context.get_start_method() == "fork" else _set_opencv_threads_to_one
            try:
                with ProcessPoolExecutor(workers, mp_context=context, initializer=initializer) as pool:
                    with _single_threaded_opencv():  # map submits every chunk, which starts every worker
                        results = pool.map(function, items, chunksize=chunk)
                    for result in results:
                        yield result
                        done += 1
                        bar.update()
            except BrokenProcessPool as error:
                warnings.warn(
                    f"{desc}: the worker processes failed ({error}); going on in this process",
                    DataWarning,
                    stacklevel=2,
                )
        for item in items[done:]:
            yield function(item)
            bar.update()
    finally:
        bar.close()


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if sys.platform == "linux" and "fork" in methods else "spawn")
