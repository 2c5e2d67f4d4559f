"""RAF-DB basic (Li et al., 2017): ``EmoLabel/list_patition_label.txt`` (sic) and ``Image/aligned|original/``.

Each line of the label file is ``train_00001.jpg 5`` with RAF-DB's codes 1..7 (surprise, fear, disgust, happiness,
sadness, anger, neutral); the official split is the name prefix (train / test). Aligned images are named
``train_00001_aligned.jpg``. The label file may also sit directly in the root, and the image folders directly in
the root (``aligned/``, ``original/``).
"""

from __future__ import annotations

from pathlib import Path

from edgefer.data.readers._common import require_dir, require_some, warn_skipped
from edgefer.data.records import Sample
from edgefer.errors import DatasetError
from edgefer.labels import label_index

LAYOUT = "rafdb/EmoLabel/list_patition_label.txt with rafdb/Image/aligned/train_00001_aligned.jpg (or Image/original/)"
CODES = ("surprise", "fear", "disgust", "happy", "sad", "angry", "neutral")
LABEL_FILE = "list_patition_label.txt"


def read_rafdb(root: Path, aligned: bool = True) -> list[Sample]:
    require_dir(root, "rafdb", LAYOUT)
    label_file = _first_existing([root / "EmoLabel" / LABEL_FILE, root / LABEL_FILE])
    kind = "aligned" if aligned else "original"
    image_dir = _first_existing([root / "Image" / kind, root / kind])
    if label_file is None or image_dir is None:
        raise DatasetError(f"rafdb: {root} lacks {LABEL_FILE} or the {kind}/ image folder; expected {LAYOUT}")
    present = {path.name for path in image_dir.iterdir()}
    samples, missing = [], []
    for line_number, line in enumerate(label_file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        name, code = _parse_line(line, label_file, line_number)
        file_name = f"{Path(name).stem}_aligned{Path(name).suffix}" if aligned else name
        if file_name not in present:
            missing.append(file_name)
            continue
        split = name.split("_", 1)[0]
        samples.append(Sample(str(image_dir / file_name), label_index(CODES[code - 1]), split=split))
    warn_skipped("rafdb", missing, f"listed in {LABEL_FILE} but absent from {image_dir}")
    return require_some(samples, root, "rafdb", LAYOUT)


def _first_existing(candidates: list[Path]) -> Path | None:
    return next((path for path in candidates if path.exists()), None)


def _parse_line(line: str, label_file: Path, line_number: int) -> tuple[str, int]:
    parts = line.split()
    if len(parts) != 2 or not parts[1].isdigit() or not 1 <= int(parts[1]) <= len(CODES):
        raise DatasetError(
            f"rafdb: {label_file} line {line_number} reads {line.strip()!r}; expected '<image name> <code 1..7>'"
        )
    return parts[0], int(parts[1])
