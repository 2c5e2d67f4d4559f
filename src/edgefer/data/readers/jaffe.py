"""JAFFE (Lyons et al., 1998): ``KA.AN1.39.tiff`` = subject KA, expression AN, sample 1, image number 39.

All images lie in one folder (``jaffe/`` or ``jaffedbase/``; sub-folders are searched too). The release also
holds a README and similar non-image files, which are ignored.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from edgefer.data.readers._common import image_files, require_dir, require_some, warn_skipped
from edgefer.data.records import Sample
from edgefer.labels import label_index

LAYOUT = "jaffe/<SS>.<EX><n>.<k>.tiff, e.g. jaffe/KA.AN1.39.tiff"
CODES = {"AN": "angry", "DI": "disgust", "FE": "fear", "HA": "happy", "NE": "neutral", "SA": "sad", "SU": "surprise"}
NAME = re.compile(r"^([A-Z]{2})\.([A-Z]{2})(\d+)\.(\d+)\.tiff?$", re.IGNORECASE)


def read_jaffe(root: Path) -> list[Sample]:
    require_dir(root, "jaffe", LAYOUT)
    samples, unparsed = [], []
    for path in image_files(root):
        name = os.path.basename(path)
        match = NAME.match(name)
        if match is None or match.group(2).upper() not in CODES:
            unparsed.append(name)
            continue
        label = label_index(CODES[match.group(2).upper()])
        samples.append(Sample(path, label, subject=match.group(1).upper()))
    warn_skipped("jaffe", unparsed, f"whose names do not follow {LAYOUT}")
    return require_some(samples, root, "jaffe", LAYOUT)
