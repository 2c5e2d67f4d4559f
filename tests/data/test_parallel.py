import contextlib
import os

import pytest

from edgefer.data import DataWarning, parallel

PARENT = os.getpid()


def _double_or_die_in_worker(value: int) -> int:
    if os.getpid() != PARENT:
        os._exit(1)
    return 2 * value


def _double(value: int) -> int:
    return 2 * value


@pytest.fixture
def always_pool(monkeypatch):
    monkeypatch.setattr(parallel, "MIN_ITEMS_FOR_POOL", 0)


def test_pool_keeps_order(always_pool):
    assert list(parallel.progress_map(_double, list(range(50)), "test", workers=2)) == list(range(0, 100, 2))


def test_broken_pool_finishes_in_process_with_a_warning(always_pool):
    with pytest.warns(DataWarning, match="worker processes failed"):
        results = list(parallel.progress_map(_double_or_die_in_worker, list(range(20)), "test", workers=2))
    assert results == list(range(0, 40, 2))


def _opencv_threads(_: int) -> int:
    import cv2

    return cv2.getNumThreads()


# Run in a child interpreter with a deadline: before the fix, a pool started after OpenCV's own thread pool had run
# hung (a worker set its thread count after the fork) in most runs of these 150 rounds.
FORK_AFTER_OPENCV_THREADS = """
import cv2, numpy as np
from edgefer.data import parallel
from tests.data.test_parallel import _opencv_threads
parallel.MIN_ITEMS_FOR_POOL = 0
image = np.random.default_rng(0).integers(0, 255, (1500, 1500), dtype=np.uint8)
threads = cv2.getNumThreads()
for _ in range(150):
    cv2.GaussianBlur(cv2.resize(image, (900, 900)), (5, 5), 0)  # OpenCV's thread pool runs in this process
    results = parallel.progress_map(_opencv_threads, [0, 1, 2, 3], "test", workers=2, progress=False)
    assert next(results) == 1
    assert cv2.getNumThreads() == threads  # this process has its own setting back while the workers run
    assert list(results) == [1] * 3
"""


def test_workers_start_single_threaded_and_never_hang_after_opencv_ran_threads():
    import signal
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    child = subprocess.Popen([sys.executable, "-c", FORK_AFTER_OPENCV_THREADS], cwd=root, start_new_session=True)
    try:
        assert child.wait(timeout=60) == 0
    finally:  # a hung run leaves its workers behind: end the whole process group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
