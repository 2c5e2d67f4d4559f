"""A generic ``<root>/<class>/*`` image folder, with a user-given map from folder names to expressions."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from edgefer.data.readers._common import class_label, image_files, require_dir, require_some, subdirs
from edgefer.data.records import Sample
from edgefer.errors import DatasetError
from edgefer.labels import EMOTIONS_WITH_CONTEMPT, label_index

LAYOUT = "<root>/<class>/*.jpg|png|..., one folder per class"


def read_folder(root: Path, label_map: Mapping[str, str | int | None] | None = None) -> list[Sample]:
    """Images of ``root/<class>/`` (searched recursively), labelled through ``label_map``.

    ``label_map`` maps a folder name to an expression name (any synonym ``labels.canonical_name`` knows), to a
    label index, or to None to leave that folder out. Without a map the folder names must be expression names.
    A folder the map does not mention is an error rather than a silent drop.
    """
    require_dir(root, "folder", LAYOUT)
    samples = []
    for class_dir in subdirs(root):
        if label_map is None:
            label = class_label(class_dir.name, "folder", class_dir)
        elif class_dir.name not in label_map:
            raise DatasetError(
                f"folder: {class_dir} has no entry in the label map; add '{class_dir.name}' to it "
                "(map it to None to leave the folder out)"
            )
        elif label_map[class_dir.name] is None:
            continue
        else:
            label = _map_label(label_map[class_dir.name], class_dir.name)
        samples.extend(Sample(path, label) for path in image_files(class_dir))
    return require_some(samples, root, "folder", LAYOUT)


def _map_label(value: str | int, folder: str) -> int:
    if isinstance(value, int):
        if not 0 <= value < len(EMOTIONS_WITH_CONTEMPT):
            raise DatasetError(f"folder: label map sends '{folder}' to {value}; indices run 0..7")
        return value
    return label_index(value)
