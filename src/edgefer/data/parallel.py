"""An ordered map over a process pool with a tqdm bar, in-process for small inputs."""

from __future__ import annotations

import multiprocessing
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
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


def _single_threaded_opencv() -> None:
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
            try:
                with ProcessPoolExecutor(workers, mp_context=_context(), initializer=_single_threaded_opencv) as pool:
                    for result in pool.map(function, items, chunksize=chunk):
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
