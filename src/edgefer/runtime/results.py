"""What recognition returns: shared by the Python API, the CLI sinks and the network service."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Face:
    """One face in one image or frame.

    ``box`` is (x, y, width, height) in pixels of the input image; ``scores`` are probabilities in the
    model's class order (``classes``), summing to 1; ``face_id`` persists across frames of a stream.
    """

    box: tuple[int, int, int, int]
    scores: np.ndarray
    classes: tuple[str, ...]
    landmarks: np.ndarray | None = None  # (K, 2) pixel coordinates, where the detector gives them
    face_id: int | None = None

    @property
    def label(self) -> str:
        return self.classes[int(np.argmax(self.scores))]

    @property
    def confidence(self) -> float:
        return float(np.max(self.scores))

    def to_dict(self) -> dict:
        return {
            "box": [int(v) for v in self.box],
            "label": self.label,
            "confidence": round(self.confidence, 6),
            "scores": {name: round(float(s), 6) for name, s in zip(self.classes, self.scores, strict=True)},
            "landmarks": None if self.landmarks is None else np.asarray(self.landmarks).round(1).tolist(),
            "face_id": self.face_id,
        }


@dataclass
class FrameResult:
    """The faces found in one frame of a stream (or one image), with where and when it came from."""

    index: int
    timestamp: float  # seconds since the stream started (video: position in the file)
    faces: list[Face]
    source: str = ""
    frame: np.ndarray | None = field(default=None, repr=False)  # BGR uint8, when the caller asked for frames

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "timestamp": round(self.timestamp, 6),
            "source": self.source,
            "faces": [face.to_dict() for face in self.faces],
        }
