"""MUG (Aifanti et al., 2010): ``<root>/<subject>/<expression>/[take000/]img_0000.jpg``.

Expression folders are anger, disgust, fear, happiness, neutral, sadness, surprise. Each take is a sequence from
neutral through the apex and back; ``frames=N`` keeps the N middle frames of each take (its apex), ``None`` all.
"""

from __future__ import annotations

from pathlib import Path

from edgefer.data.readers._common import class_label, image_files, require_dir, require_some, subdirs
from edgefer.data.records import Sample
from edgefer.errors import DatasetError

LAYOUT = "mug/<subject>/<expression>/take<nnn>/img_<nnnn>.jpg"


def read_mug(root: Path, frames: int | None = None) -> list[Sample]:
    require_dir(root, "mug", LAYOUT)
    if frames is not None and frames < 1:
        raise DatasetError(f"mug: frames must be at least 1 (or None for all), got {frames}")
    samples = []
    for subject_dir in subdirs(root):
        for class_dir in subdirs(subject_dir):
            label = class_label(class_dir.name, "mug", class_dir)
            takes = subdirs(class_dir) or [class_dir]
            for take in takes:
                paths = image_files(take)
                if frames is not None and len(paths) > frames:
                    start = (len(paths) - frames) // 2
                    paths = paths[start : start + frames]
                samples.extend(Sample(path, label, subject=subject_dir.name) for path in paths)
    return require_some(samples, root, "mug", LAYOUT)
