"""RaFD (Langner et al., 2010): ``Rafd090_01_Caucasian_female_angry_frontal.jpg``.

Parts: camera angle (000, 045, 090, 135, 180; 090 faces the camera), person number, ethnicity, gender,
expression (angry, contemptuous, disgusted, fearful, happy, neutral, sad, surprised) and gaze (frontal, left,
right). By default only the frontal camera and frontal gaze are read; contempt is label 7.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from edgefer.data.readers._common import image_files, require_dir, require_some, warn_skipped
from edgefer.data.records import Sample
from edgefer.errors import DatasetError
from edgefer.labels import label_index

LAYOUT = "rafd/Rafd<angle>_<person>_<ethnicity>_<gender>_<expression>_<gaze>.jpg"
ANGLES = (0, 45, 90, 135, 180)
GAZES = ("frontal", "left", "right")


def read_rafd(root: Path, angles: Sequence[int] = (90,), gazes: Sequence[str] = ("frontal",)) -> list[Sample]:
    require_dir(root, "rafd", LAYOUT)
    wanted_angles = {int(angle) for angle in angles}
    wanted_gazes = {gaze.lower() for gaze in ([gazes] if isinstance(gazes, str) else gazes)}
    if not wanted_angles or not wanted_angles <= set(ANGLES) or not wanted_gazes or not wanted_gazes <= set(GAZES):
        raise DatasetError(
            f"rafd: angles must be some of {ANGLES} and gazes some of {GAZES}, got {sorted(wanted_angles)} and "
            f"{sorted(wanted_gazes)}"
        )
    samples, unparsed = [], []
    for path in image_files(root):
        name = os.path.basename(path)
        parsed = _parse(name)
        if parsed is None:
            unparsed.append(name)
            continue
        angle, person, expression, gaze = parsed
        if angle in wanted_angles and gaze in wanted_gazes:
            samples.append(Sample(path, label_index(expression), subject=person))
    warn_skipped("rafd", unparsed, f"whose names do not follow {LAYOUT}")
    return require_some(samples, root, "rafd", LAYOUT)


def _parse(name: str) -> tuple[int, str, str, str] | None:
    parts = Path(name).stem.split("_")
    if len(parts) != 6 or not parts[0].lower().startswith("rafd") or not parts[0][4:].isdigit():
        return None
    try:
        label_index(parts[4])
    except DatasetError:
        return None
    return int(parts[0][4:]), parts[1], parts[4], parts[5].lower()
