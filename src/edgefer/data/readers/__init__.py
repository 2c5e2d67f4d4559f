"""One reader per data-set family, all behind ``read_dataset(name, root, **options)``."""

from __future__ import annotations

import csv
import inspect
import os
from collections.abc import Callable
from pathlib import Path

from edgefer.data.readers import ckplus, fer2013, folder, jaffe, kdef, mug, rafd, rafdb
from edgefer.data.readers._common import image_files, require_some, subdirs
from edgefer.data.records import Sample
from edgefer.errors import DatasetError
from edgefer.labels import EMOTIONS_WITH_CONTEMPT, canonical_name

_MANIFEST_LAYOUT = "a CSV with the columns path,label[,subject,split], as `edgefer data split` writes"


def _read_manifest(root: Path) -> list[Sample]:
    """The samples a manifest lists, refused when it lists none, as every folder reader refuses an empty folder
    (imported here on use: the manifest module reads FER2013 CSV rows through this package)."""
    from edgefer.data.manifest import read_manifest

    return require_some(read_manifest(root), root, "manifest", _MANIFEST_LAYOUT)


_READERS: dict[str, tuple[Callable[..., list[Sample]], str]] = {
    "fer2013": (fer2013.read_fer2013, fer2013.LAYOUT),
    "ckplus": (ckplus.read_ckplus, ckplus.LAYOUT),
    "ckplus48": (ckplus.read_ckplus48, ckplus.LAYOUT_48),
    "jaffe": (jaffe.read_jaffe, jaffe.LAYOUT),
    "kdef": (kdef.read_kdef, kdef.LAYOUT),
    "rafdb": (rafdb.read_rafdb, rafdb.LAYOUT),
    "rafd": (rafd.read_rafd, rafd.LAYOUT),
    "mug": (mug.read_mug, mug.LAYOUT),
    "folder": (folder.read_folder, folder.LAYOUT),
    "manifest": (_read_manifest, _MANIFEST_LAYOUT),
}
DATASETS: tuple[str, ...] = tuple(_READERS)
LAYOUTS: dict[str, str] = {name: layout for name, (_, layout) in _READERS.items()}
_SPLIT_FOLDERS = {"train", "test", "val", "valid", "validation", "training", "publictest", "privatetest"}


def read_dataset(name: str, root: str | Path, **options: object) -> list[Sample]:
    """All labelled samples of data set ``name`` stored at ``root``, labels in canonical order.

    The order is deterministic: path order for image folders, file order for label lists and CSVs.

    ``options`` are the reader's own keywords (e.g. ``poses=("S", "HL")`` for kdef, ``label_map=`` for folder).
    """
    reader, _ = _reader(name)
    accepted = [p for p in inspect.signature(reader).parameters if p != "root"]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise DatasetError(
            f"{name}: unknown option(s) {', '.join(unknown)}; it accepts {', '.join(accepted) or 'no options'}"
        )
    return reader(_root_path(root), **options)


def _root_path(root: str | Path) -> Path:
    """``root`` as a Path; an empty string is refused, not taken as the working folder (``Path("")`` is ".")."""
    if isinstance(root, str) and not root.strip():
        raise DatasetError("the data set path is empty; give the data set's folder or file ('.' for the current one)")
    return Path(root)


def _reader(name: str) -> tuple[Callable[..., list[Sample]], str]:
    key = name.strip().lower()
    if key not in _READERS:
        raise DatasetError(f"unknown data set {name!r}; known data sets: {', '.join(DATASETS)}")
    return _READERS[key]


def parse_data_spec(spec: str) -> tuple[str, Path]:
    """``"fer2013=../shared/datasets/fer2013"`` → ``("fer2013", Path(...))``; a bare path is recognised by layout."""
    name, sep, path = spec.partition("=")
    if not (path if sep else spec).strip():  # see _root_path
        raise DatasetError(
            f"data set {spec!r} names no path; give it as NAME=PATH, e.g. fer2013=../shared/datasets/fer2013"
        )
    if sep and name.strip().lower() in _READERS:
        return name.strip().lower(), Path(path)
    if sep and not Path(spec).exists():
        _reader(name)  # raises: unknown data set, listing the known ones
    return detect_dataset(spec), Path(spec)


def detect_dataset(root: str | Path, naming: str | None = None) -> str:
    """Which data set ``root`` holds, judged by its layout; a DatasetError when ``root`` is missing or no layout
    fits. ``naming`` tells the caller's way of naming the data set in that error (default: ``NAME=<root>``, as
    ``parse_data_spec`` reads it)."""
    root = _root_path(root)
    if not root.exists():
        raise DatasetError(f"data set path {str(root)!r} does not exist; check the path (a data-set folder or file)")
    if root.is_file() and root.suffix.lower() == ".csv":
        header = set(_csv_header(root))
        if {"emotion", "pixels"} & header:
            return "fer2013"
        if "path" in header:
            return "manifest"
    if root.is_dir():
        if not any(root.iterdir()):
            raise DatasetError(f"{str(root)!r} is an empty folder; give the folder that holds the data set's images")
        if (root / "fer2013.csv").is_file():
            return "fer2013"
        if (root / "cohn-kanade-images").is_dir():
            return "ckplus"
        if (root / "EmoLabel").is_dir() or (root / rafdb.LABEL_FILE).is_file():
            return "rafdb"
        folders = subdirs(root)
        if folders and all(_is_expression(path.name) for path in folders):
            first = next((files[0] for path in folders if (files := image_files(path))), None)
            return "ckplus48" if first is not None and ckplus._SUBJECT.match(os.path.basename(first)) else "folder"
        nested = [sub.name for path in folders for sub in subdirs(path)]
        if nested and all(_is_expression(name) for name in nested):
            split_names = {path.name.lower() for path in folders}
            return "fer2013" if split_names <= _SPLIT_FOLDERS else "mug"
        names = [os.path.basename(path) for path in image_files(root)[:20]]
        for name, pattern in (("jaffe", jaffe.NAME), ("kdef", kdef.NAME)):
            if names and all(pattern.match(n) for n in names):
                return name
        if names and all(n.lower().startswith("rafd") for n in names):
            return "rafd"
    naming = naming or f"name it as NAME={root} (e.g. fer2013={root})"
    raise DatasetError(f"cannot tell which data set {root} holds; {naming}, NAME one of {', '.join(DATASETS)}")


def _is_expression(name: str) -> bool:
    try:
        return canonical_name(name) in EMOTIONS_WITH_CONTEMPT
    except DatasetError:
        return False


def _csv_header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        return [name.strip().lower() for name in next(csv.reader(handle), [])]
