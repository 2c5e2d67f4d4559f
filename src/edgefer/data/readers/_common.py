"""Helpers shared by the readers: layout checks, image listing and label lookup."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from pathlib import Path

from edgefer.data.records import DataWarning
from edgefer.errors import DatasetError
from edgefer.labels import label_index

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".pgm", ".ppm", ".gif", ".webp"})


def require_dir(root: Path, dataset: str, layout: str) -> Path:
    """``root`` as a folder, or a DatasetError naming the layout the reader expects."""
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is not a folder"
        raise DatasetError(f"{dataset}: {root} {what}; expected the layout {layout}")
    return root


def require_some(samples: list, root: Path, dataset: str, layout: str) -> list:
    """``samples`` unless empty; an empty result means the folder is not in the expected layout."""
    if not samples:
        raise DatasetError(f"{dataset}: found no labelled images in {root}; expected the layout {layout}")
    return samples


def is_image(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES and not name.startswith(".")


def image_files(folder: Path, recursive: bool = True) -> list[str]:
    """Paths of the image files under ``folder`` (by suffix, case-insensitive; hidden files excluded), sorted.

    Plain strings from ``os.walk``: it tells files from folders without a ``stat`` per file, and ``Path`` objects
    alone took over a second at FER2013's 35,887 files.
    """
    found = []
    for directory, dirnames, filenames in os.walk(folder):
        found.extend(os.path.join(directory, name) for name in filenames if is_image(name))
        if not recursive:
            break
        dirnames[:] = [name for name in dirnames if not name.startswith(".")]
    return sorted(found)


def subdirs(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.is_dir() and not path.name.startswith("."))


def class_label(name: str, dataset: str, where: Path) -> int:
    """The canonical label of a class-folder name, or a DatasetError naming the folder."""
    try:
        return label_index(name)
    except DatasetError as error:
        raise DatasetError(f"{dataset}: class folder {where} is not an expression name ({error})") from None


def warn_skipped(dataset: str, names: Iterable[str], why: str) -> None:
    """Warn (never silently drop) about files a reader skipped, naming the first few."""
    names = list(names)
    if names:
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        warnings.warn(f"{dataset}: skipped {len(names)} file(s) {why}: {shown}", DataWarning, stacklevel=3)
