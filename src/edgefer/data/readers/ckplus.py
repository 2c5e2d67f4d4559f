"""CK+ (Lucey et al., 2010): the original release and the common 48×48 crop set.

Original release: ``<root>/cohn-kanade-images/Sxxx/nnn/Sxxx_nnn_000000kk.png`` with the labels in
``<root>/Emotion/Sxxx/nnn/Sxxx_nnn_000000kk_emotion.txt`` (one number, CK+ code 0..7). Only the 327 labelled
sequences are read: their last ``frames`` frames (3 by default, the apex), plus the first frame as neutral when
``neutral_first_frame`` is set. Crop set: ``<root>/<emotion>/Sxxx_nnn_000000kk.png``.
The subject is the ``Sxxx`` part in both.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from edgefer.data.readers._common import class_label, image_files, require_dir, require_some, subdirs
from edgefer.data.records import Sample
from edgefer.errors import DatasetError
from edgefer.labels import label_index

LAYOUT = (
    "ckplus/cohn-kanade-images/Sxxx/nnn/Sxxx_nnn_*.png with labels in ckplus/Emotion/Sxxx/nnn/Sxxx_nnn_*_emotion.txt"
)
LAYOUT_48 = "ckplus48/<emotion>/Sxxx_nnn_*.png"
# CK+ emotion codes, as documented in the release's ReadMeCohnKanadeDatabase_website.txt.
CKPLUS_CODES = ("neutral", "angry", "contempt", "disgust", "fear", "happy", "sad", "surprise")
_SUBJECT = re.compile(r"^(S\d+)_")


def read_ckplus(root: Path, frames: int = 3, neutral_first_frame: bool = False) -> list[Sample]:
    """The labelled sequences of the original CK+ release; see the module docstring for the layout."""
    require_dir(root, "ckplus", LAYOUT)
    if frames < 1:
        raise DatasetError(f"ckplus: frames must be at least 1, got {frames}")
    images_dir, labels_dir = root / "cohn-kanade-images", root / "Emotion"
    if not images_dir.is_dir() or not labels_dir.is_dir():
        raise DatasetError(f"ckplus: {root} lacks cohn-kanade-images/ or Emotion/; expected the layout {LAYOUT}")
    samples = []
    for label_file in sorted(labels_dir.glob("*/*/*_emotion.txt")):
        subject, sequence = label_file.parent.parent.name, label_file.parent.name
        code = _read_code(label_file)
        sequence_frames = image_files(images_dir / subject / sequence, recursive=False)
        if not sequence_frames:
            raise DatasetError(
                f"ckplus: {label_file} labels sequence {subject}/{sequence} but {images_dir / subject / sequence} "
                f"holds no images; expected the layout {LAYOUT}"
            )
        label = label_index(CKPLUS_CODES[code])
        if neutral_first_frame:
            samples.append(Sample(sequence_frames[0], label_index("neutral"), subject=subject))
        samples.extend(Sample(path, label, subject=subject) for path in sequence_frames[-frames:])
    return require_some(samples, root, "ckplus", LAYOUT)


def _read_code(label_file: Path) -> int:
    text = label_file.read_text(encoding="ascii", errors="replace").strip()
    try:
        code = int(float(text))
    except ValueError:
        code = -1
    if not 0 <= code < len(CKPLUS_CODES):
        raise DatasetError(f"ckplus: {label_file} holds {text!r}, not a CK+ emotion code 0..7")
    return code


def read_ckplus48(root: Path) -> list[Sample]:
    """The 48×48 crop set: one folder per expression, the subject in the file-name prefix."""
    require_dir(root, "ckplus48", LAYOUT_48)
    samples = []
    for class_dir in subdirs(root):
        label = class_label(class_dir.name, "ckplus48", class_dir)
        for path in image_files(class_dir):
            match = _SUBJECT.match(os.path.basename(path))
            if match is None:
                raise DatasetError(f"ckplus48: {path} does not start with a subject id; expected {LAYOUT_48}")
            samples.append(Sample(path, label, subject=match.group(1)))
    return require_some(samples, root, "ckplus48", LAYOUT_48)
