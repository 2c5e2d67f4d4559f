"""FER2013 (Goodfellow et al., 2013): the original ``fer2013.csv`` and the image-folder form.

Folder form: ``<root>/{train,test}/<emotion>/{Training,PublicTest,PrivateTest}_*.jpg``; the official split is the
file-name prefix (copies without the prefix get the split folder's name, e.g. "train"/"test").
CSV form: columns ``emotion`` (0..6, already in ``EMOTIONS`` order), ``pixels`` (48×48 space-separated) and the
optional ``Usage`` (the split). Column names are matched without case or surrounding spaces, which also reads the
``icml_face_data.csv`` variant.
"""

from __future__ import annotations

import csv
import math
import os
import warnings
from pathlib import Path

import numpy as np

from edgefer.data.readers._common import class_label, image_files, require_dir, require_some, subdirs
from edgefer.data.records import Sample
from edgefer.errors import DatasetError
from edgefer.labels import EMOTIONS

FOLDER_LAYOUT = "fer2013/{train,test}/<emotion>/{Training,PublicTest,PrivateTest}_*.jpg"
CSV_LAYOUT = "fer2013.csv with the columns emotion, pixels and Usage"
LAYOUT = f"{FOLDER_LAYOUT} (or {CSV_LAYOUT})"
OFFICIAL_SPLITS = ("Training", "PublicTest", "PrivateTest")


def read_fer2013(root: Path) -> list[Sample]:
    """Read either form of FER2013: a CSV file, a folder holding ``fer2013.csv``, or the image folders."""
    if root.is_file():
        return read_fer2013_csv(root)
    if (root / "fer2013.csv").is_file():
        return read_fer2013_csv(root / "fer2013.csv")
    return read_fer2013_folder(root)


def read_fer2013_folder(root: Path) -> list[Sample]:
    require_dir(root, "fer2013", LAYOUT)
    samples = []
    for split_dir in subdirs(root):
        for class_dir in subdirs(split_dir):
            label = class_label(class_dir.name, "fer2013", class_dir)
            for path in image_files(class_dir):
                prefix = os.path.basename(path).split("_", 1)[0]
                split = prefix if prefix in OFFICIAL_SPLITS else split_dir.name
                samples.append(Sample(path, label, split=split))
    return require_some(samples, root, "fer2013", LAYOUT)


def read_fer2013_csv(path: Path) -> list[Sample]:
    """Rows of ``fer2013.csv`` as samples holding their pixels; ``path`` is ``<csv>#<row>`` (row counted from 0)."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = [name.strip().lower() for name in next(reader, [])]
        missing = [column for column in ("emotion", "pixels") if column not in header]
        if missing:
            raise DatasetError(
                f"fer2013: {path} lacks the column(s) {', '.join(missing)} (it has {', '.join(header) or 'none'}); "
                f"expected {CSV_LAYOUT}"
            )
        emotion_at, pixels_at = header.index("emotion"), header.index("pixels")
        usage_at = header.index("usage") if "usage" in header else None
        with warnings.catch_warnings():
            # NumPy signals text it cannot parse with a DeprecationWarning; _parse_pixels turns it into an error.
            warnings.simplefilter("error", DeprecationWarning)
            samples = [
                _csv_sample(path, row_index, row, emotion_at, pixels_at, usage_at)
                for row_index, row in enumerate(reader)
                if row
            ]
    return require_some(samples, path, "fer2013", CSV_LAYOUT)


def _csv_sample(
    path: Path, row_index: int, row: list[str], emotion_at: int, pixels_at: int, usage_at: int | None
) -> Sample:
    where = f"fer2013: {path} row {row_index + 2}"  # +1 for the header, +1 for counting from 1
    try:
        label = int(row[emotion_at])
        pixels = _parse_pixels(row[pixels_at])
    except (IndexError, ValueError) as error:
        raise DatasetError(f"{where} is malformed ({error}); expected {CSV_LAYOUT}") from None
    side = math.isqrt(pixels.size)
    if not 0 <= label < len(EMOTIONS) or side * side != pixels.size or side == 0:
        raise DatasetError(
            f"{where}: emotion must be 0..6 and pixels a square image, got emotion {label} and {pixels.size} "
            f"pixels; expected {CSV_LAYOUT}"
        )
    split = row[usage_at].strip() if usage_at is not None and usage_at < len(row) else None
    return Sample(f"{path}#{row_index}", label, split=split or None, pixels=pixels.reshape(side, side))


def _parse_pixels(text: str) -> np.ndarray:
    """Space-separated 0..255 values → uint8; ``np.fromstring`` parses 4× faster than ``str.split``.

    Call it where DeprecationWarnings are errors (see ``read_fer2013_csv``): NumPy warns, and returns what it
    parsed so far, when it meets text that is not a number.
    """
    try:
        values = np.fromstring(text, dtype=np.int32, sep=" ")
    except DeprecationWarning:
        raise ValueError("pixels must be space-separated integers") from None
    if values.size and (values.min() < 0 or values.max() > 255):
        raise ValueError("pixel values must lie in 0..255")
    return values.astype(np.uint8)
