"""KDEF (Lundqvist et al., 1998): ``AF01ANS.JPG`` = session A, female, person 01, angry, straight (frontal) pose.

Images lie in one folder per session and person (``KDEF/AF01/AF01ANS.JPG``; a flat folder is read too).
Poses: S (straight), HL/HR (half left/right), FL/FR (full left/right profile); only the frontal pose by default.
The subject is sex + person number (``F01``), so both sessions of a person fall in one subject.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from edgefer.data.readers._common import image_files, require_dir, require_some, warn_skipped
from edgefer.data.records import Sample
from edgefer.errors import DatasetError
from edgefer.labels import label_index

LAYOUT = "KDEF/<AF01>/<session A|B><sex F|M><nn><expression><pose>.JPG, e.g. KDEF/AF01/AF01ANS.JPG"
CODES = {"AF": "fear", "AN": "angry", "DI": "disgust", "HA": "happy", "NE": "neutral", "SA": "sad", "SU": "surprise"}
POSES = ("S", "HL", "HR", "FL", "FR")
NAME = re.compile(r"^([AB])([FM])(\d{2})(AF|AN|DI|HA|NE|SA|SU)(S|HL|HR|FL|FR)\.jpe?g$", re.IGNORECASE)


def read_kdef(root: Path, poses: Sequence[str] = ("S",)) -> list[Sample]:
    require_dir(root, "kdef", LAYOUT)
    wanted = {pose.upper() for pose in ([poses] if isinstance(poses, str) else poses)}
    if not wanted or not wanted <= set(POSES):
        raise DatasetError(f"kdef: poses must be some of {', '.join(POSES)}, got {', '.join(sorted(wanted))}")
    samples, unparsed = [], []
    for path in image_files(root):
        name = os.path.basename(path)
        match = NAME.match(name)
        if match is None:
            unparsed.append(name)
            continue
        _, sex, person, expression, pose = (part.upper() for part in match.groups())
        if pose in wanted:
            samples.append(Sample(path, label_index(CODES[expression]), subject=sex + person))
    warn_skipped("kdef", unparsed, f"whose names do not follow {LAYOUT}")
    return require_some(samples, root, "kdef", LAYOUT)
