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
