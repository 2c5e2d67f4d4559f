"""The on-disk tensor cache: decoded, resized uint8 images, memory-mapped on every later load.

An entry is keyed by the preprocessing (size, resize rule, OpenCV version) and the data: for each sample its path,
file size and modification time (or, for pixel arrays, a hash of the pixels). Changing an image, adding or removing
one, or changing the size makes a new key, so a stale entry is never read. Stat-ing the files instead of hashing
their bytes keeps a cached load of FER2013 fast; a file rewritten in place with the same size *and* the same
nanosecond modification time would go unnoticed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edgefer.data.images import read_grey, resize_grey
from edgefer.data.parallel import progress_map
from edgefer.data.records import DataWarning, Sample
from edgefer.errors import ConfigError, DatasetError, EdgeferError

# 2: an unreadable image's reason no longer names the address of an in-memory buffer (caches of version 1 kept it)
CACHE_VERSION = 2


@dataclass(frozen=True)
class CachedArrays:
    """Loaded images with the bookkeeping of what was left out.

    ``images`` (N, H, W) uint8 and ``labels`` (N,) int64 hold only readable images; ``kept`` gives each row's
    index in the samples passed in, and ``skipped`` lists ``(path, reason)`` for every image left out.
    """

    images: np.ndarray
    labels: np.ndarray
    kept: np.ndarray
    skipped: tuple[tuple[str, str], ...]


def default_cache_dir() -> Path:
    """``$EDGEFER_CACHE`` if set, else ``~/.cache/edgefer``."""
    return Path(os.environ.get("EDGEFER_CACHE") or Path.home() / ".cache" / "edgefer")


def load_arrays(
    samples: Sequence[Sample], image_size: tuple[int, int], cache_dir: Path | None = None, progress: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (N, H, W) resized to ``image_size`` = (H, W) and int64 labels (N,), through the cache.

    Unreadable images are left out with a DataWarning naming them; ``load_cached`` also says which.
    """
    cached = load_cached(samples, image_size, cache_dir, progress=progress)
    return cached.images, cached.labels


def load_cached(
    samples: Sequence[Sample],
    image_size: tuple[int, int],
    cache_dir: Path | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> CachedArrays:
    """Like ``load_arrays``, returning the kept indices and skipped files too; ``workers`` sets the decode pool,
    ``progress`` whether decoding shows a bar."""
    if not samples:
        raise DatasetError("no samples to load; check the data set path and split")
    height, width = (int(side) for side in image_size)
    if height < 1 or width < 1:
        raise DatasetError(f"image_size must be two positive sides (height, width), got {image_size}")
    entry = Path(cache_dir or default_cache_dir()) / "arrays" / cache_key(samples, (height, width))
    meta = _read_meta(entry, (height, width))
    if meta is None:
        shutil.rmtree(entry, ignore_errors=True)  # absent, or damaged (e.g. by a full disk): build it afresh
        _build(entry, samples, (height, width), workers, progress)
        meta = _read_meta(entry, (height, width))
        if meta is None:
            raise ConfigError(f"the tensor cache entry {entry} could not be read back; check that folder's disk")
    kept = np.asarray(meta["kept"], dtype=np.int64)
    skipped = tuple((path, reason) for path, reason in meta["skipped"])
    _warn_skipped(skipped, len(samples))
    images = np.memmap(entry / "images.u8", dtype=np.uint8, mode="r", shape=(len(kept), height, width))
    all_labels = np.fromiter((sample.label for sample in samples), dtype=np.int64, count=len(samples))
    return CachedArrays(images, all_labels[kept], kept, skipped)


def cache_key(samples: Sequence[Sample], image_size: tuple[int, int]) -> str:
    """The cache entry name of ``samples`` at ``image_size``; see the module docstring for what it covers."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"v{CACHE_VERSION}|{image_size}|area-shrink-linear-grow|opencv {cv2.__version__}|".encode())
    stats = np.empty((len(samples), 2), dtype=np.int64)
    for index, sample in enumerate(samples):
        if sample.pixels is not None:
            digest.update(np.ascontiguousarray(sample.pixels).tobytes())
            stats[index] = sample.pixels.shape
            continue
        try:
            status = os.stat(sample.path)  # type: ignore[arg-type]
            stats[index] = (status.st_size, status.st_mtime_ns)
        except (OSError, TypeError):
            stats[index] = (-1, -1)
    digest.update("\n".join(sample.path or "" for sample in samples).encode())
    digest.update(stats.tobytes())
    return digest.hexdigest()


def _decode_resized(task: tuple[Sample, tuple[int, int]]) -> np.ndarray | str:
    """Worker: the resized image, or the reason it could not be read."""
    sample, size = task
    try:
        return resize_grey(read_grey(sample), size)
    except EdgeferError as error:
        return str(error)
    except (cv2.error, ValueError) as error:
        return f"{sample.path}: cannot resize ({error})"


def _read_meta(entry: Path, size: tuple[int, int]) -> dict | None:
    """The entry's bookkeeping, or None unless the entry is complete and its image file has the right length."""
    try:
        meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
        expected = len(meta["kept"]) * size[0] * size[1]
        return meta if (entry / "images.u8").stat().st_size == expected else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _build(entry: Path, samples: Sequence[Sample], size: tuple[int, int], workers: int | None, progress: bool) -> None:
    """Decode every sample into a fresh entry, written to a temporary folder and renamed into place."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{entry.name}-", dir=entry.parent))
    except OSError as error:
        raise ConfigError(
            f"cannot write the tensor cache in {entry.parent} ({error.strerror or error}); point EDGEFER_CACHE "
            "(or cache_dir) at a writable folder"
        ) from None
    try:
        kept, skipped = [], []
        tasks = [(sample, size) for sample in samples]
        with open(staging / "images.u8", "wb") as images:
            for index, result in enumerate(progress_map(_decode_resized, tasks, "decoding images", workers, progress)):
                if isinstance(result, str):
                    skipped.append((samples[index].path or f"sample {index}", result))
                else:
                    images.write(np.ascontiguousarray(result, dtype=np.uint8).tobytes())
                    kept.append(index)
        if not kept:
            reason = skipped[0][1] if skipped else "no samples"
            raise DatasetError(f"none of the {len(samples)} images could be read (first: {reason}); check the data")
        meta = {"version": CACHE_VERSION, "image_size": list(size), "kept": kept, "skipped": skipped}
        (staging / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        # Another process may have finished the same entry first; theirs is identical, so keep it.
        with contextlib.suppress(OSError):
            staging.rename(entry)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _warn_skipped(skipped: Sequence[tuple[str, str]], total: int) -> None:
    if skipped:
        shown = "; ".join(reason for _, reason in skipped[:5]) + ("; ..." if len(skipped) > 5 else "")
        warnings.warn(
            f"skipped {len(skipped)} of {total} images that could not be read: {shown}", DataWarning, stacklevel=3
        )
