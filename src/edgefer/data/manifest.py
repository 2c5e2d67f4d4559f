"""Manifest files: the exact list of samples (path, label, subject, split) an experiment used.

Paths are written relative to the manifest's folder, so a manifest keeps working when the project and the data
move together; ``read_manifest`` resolves them back. Labels are written as expression names. Rows of a CSV data
set (``fer2013.csv#12``) are re-read from that CSV.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from edgefer.data.readers.fer2013 import read_fer2013_csv
from edgefer.data.records import Sample
from edgefer.errors import DatasetError
from edgefer.labels import EMOTIONS_WITH_CONTEMPT, label_index

COLUMNS = ("path", "label", "subject", "split")


def write_manifest(path: str | Path, samples: Sequence[Sample]) -> Path:
    """Write ``samples`` to the CSV manifest ``path`` (its folder is created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    base = path.parent.resolve()
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for sample in samples:
            if sample.path is None:
                raise DatasetError("a sample without a path cannot be written to a manifest; give every sample a path")
            writer.writerow(
                (
                    _relative(sample.path, base),
                    EMOTIONS_WITH_CONTEMPT[sample.label],
                    sample.subject or "",
                    sample.split or "",
                )
            )
    return path


def read_manifest(path: str | Path) -> list[Sample]:
    """The samples of a manifest written by ``write_manifest`` (labels may also be written as indices)."""
    path = Path(path)
    if not path.is_file():
        problem = "is a folder" if path.is_dir() else "does not exist"
        raise DatasetError(
            f"manifest {path} {problem}; expected a CSV file with the columns {','.join(COLUMNS)}, as "
            "`edgefer data split` or write_manifest write them"
        )
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in ("path", "label") if column not in (reader.fieldnames or [])]
        if missing:
            raise DatasetError(
                f"manifest {path} lacks the column(s) {', '.join(missing)}; expected the columns {','.join(COLUMNS)}"
            )
        rows = list(reader)
    base = path.parent
    samples = [
        Sample(
            _absolute(row["path"], base),
            _label(row["label"], path, line),
            subject=row.get("subject") or None,
            split=row.get("split") or None,
        )
        for line, row in enumerate(rows, start=2)
    ]
    return _attach_csv_pixels(samples)


def manifest_hash(samples: Sequence[Sample]) -> str:
    """A short fingerprint of a sample list (order included) that does not depend on where the data lies.

    Paths enter relative to the samples' common folder, so the same split of the same data set hashes the same on
    every machine. Image contents are not read (the tensor cache checks those).
    """
    files = [(sample.path or "").split("#", 1)[0] for sample in samples]
    base = os.path.commonpath([os.path.dirname(os.path.abspath(f)) for f in files]) if files else ""
    digest = hashlib.sha256()
    for sample in samples:
        path = os.path.relpath(os.path.abspath(sample.path), base) if sample.path else ""
        line = f"{Path(path).as_posix()},{sample.label},{sample.subject or ''},{sample.split or ''}\n"
        digest.update(line.encode())
    return digest.hexdigest()[:16]


def _relative(path: str, base: Path) -> str:
    try:
        return Path(os.path.relpath(os.path.abspath(path), base)).as_posix()
    except ValueError:  # another drive on Windows
        return Path(os.path.abspath(path)).as_posix()


def _absolute(path: str, base: Path) -> str:
    return path if os.path.isabs(path) else os.path.normpath(base / path)


def _label(text: str, path: Path, line: int) -> int:
    text = text.strip()
    if text.isdigit() and int(text) < len(EMOTIONS_WITH_CONTEMPT):
        return int(text)
    try:
        return label_index(text)
    except DatasetError as error:
        raise DatasetError(f"manifest {path} line {line}: {error}") from None


def _attach_csv_pixels(samples: list[Sample]) -> list[Sample]:
    """Give rows of CSV data sets (``file.csv#row``) their pixels back by re-reading each CSV once."""
    csv_files = {s.path.split("#", 1)[0] for s in samples if s.path and "#" in s.path}
    pixels = {}
    for csv_file in csv_files:
        pixels.update({row.path: row.pixels for row in read_fer2013_csv(Path(csv_file))})
    if not pixels:
        return samples
    result = []
    for sample in samples:
        if sample.path in pixels:
            sample = Sample(sample.path, sample.label, sample.subject, sample.split, pixels[sample.path])
        elif sample.path and "#" in sample.path:
            raise DatasetError(f"manifest row {sample.path} is not a row of its CSV; the CSV has changed")
        result.append(sample)
    return result
