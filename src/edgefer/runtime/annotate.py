"""Drawing results on a frame: a box per face, its label and confidence, and a bar per class score."""

from __future__ import annotations

import cv2
import numpy as np

from edgefer.runtime.results import Face

_FONT = cv2.FONT_HERSHEY_SIMPLEX
# One BGR colour per canonical class (angry, disgust, fear, happy, sad, surprise, neutral, contempt).
_COLOURS: dict[str, tuple[int, int, int]] = {
    "angry": (40, 40, 220),
    "disgust": (40, 140, 40),
    "fear": (160, 60, 160),
    "happy": (0, 200, 255),
    "sad": (200, 120, 40),
    "surprise": (230, 200, 0),
    "neutral": (190, 190, 190),
    "contempt": (90, 90, 160),
}


def _colour(name: str) -> tuple[int, int, int]:
    return _COLOURS.get(name, (255, 255, 255))


def draw_faces(frame: np.ndarray, faces: list[Face], fps: float | None = None) -> np.ndarray:
    """Draw on ``frame`` in place (BGR uint8) and return it. Sizes follow the face so small frames stay legible."""
    height, width = frame.shape[:2]
    for face in faces:
        x, y, w, h = face.box
        colour = _colour(face.label)
        thick = max(1, round(w / 80))
        cv2.rectangle(frame, (x, y), (x + w, y + h), colour, thick, cv2.LINE_AA)
        scale = max(0.35, min(1.0, w / 180))
        ident = "" if face.face_id is None else f"#{face.face_id} "
        text = f"{ident}{face.label} {face.confidence:.0%}"
        (tw, th), base = cv2.getTextSize(text, _FONT, scale, 1)
        top = y - th - base - 4 if y - th - base - 4 >= 0 else y + h + 2
        cv2.rectangle(frame, (x, top), (x + tw + 4, top + th + base + 4), colour, -1)
        cv2.putText(frame, text, (x + 2, top + th + 2), _FONT, scale, (0, 0, 0), 1, cv2.LINE_AA)
        _draw_bars(frame, face, x + w + 4 if x + w + 4 + 90 <= width else max(0, x - 94), y, scale)
    if fps is not None:
        cv2.putText(frame, f"{fps:.1f} FPS", (8, height - 10), _FONT, 0.6, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(frame, f"{fps:.1f} FPS", (8, height - 10), _FONT, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
    return frame


def _draw_bars(frame: np.ndarray, face: Face, left: int, top: int, scale: float) -> None:
    """A small bar chart of every class score beside the box: name, then a bar as long as the score."""
    row = max(10, round(16 * scale))
    bar_width = 50
    bottom = min(frame.shape[0], top + row * len(face.classes) + 4)
    panel = frame[max(0, top) : bottom, left : left + 90]
    panel //= 2  # darken the panel behind the bars, in place
    for i, (name, score) in enumerate(zip(face.classes, face.scores, strict=True)):
        y = top + 2 + i * row
        if y + row > frame.shape[0]:
            break
        cv2.putText(
            frame,
            name[:3],
            (left + 2, y + row - 3),
            _FONT,
            0.33 * max(1.0, scale * 1.4),
            (255, 255, 255),
            1,
            cv2.LINE_AA,
        )
        length = round(bar_width * float(score))
        cv2.rectangle(frame, (left + 36, y + 2), (left + 36 + bar_width, y + row - 2), (80, 80, 80), 1)
        if length > 0:
            cv2.rectangle(frame, (left + 36, y + 2), (left + 36 + length, y + row - 2), _colour(name), -1)
