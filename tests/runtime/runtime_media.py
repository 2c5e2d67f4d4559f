"""Generated media for the runtime tests (a module name of its own, so it cannot clash with other tests')."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

SAMPLE_FACE_BOX = (177, 66, 95, 95)  # where Haar finds the astronaut's face at full resolution


def moving_face_frames(sample_bgr: np.ndarray, count: int, step: int = 6) -> list[np.ndarray]:
    """640×480 frames with the astronaut's head sliding right by ``step`` pixels a frame on a plain background."""
    x, y, w, h = SAMPLE_FACE_BOX
    head = sample_bgr[max(0, y - 40) : y + h + 40, max(0, x - 40) : x + w + 40]
    frames = []
    for i in range(count):
        frame = np.full((480, 640, 3), 90, np.uint8)
        left = 100 + i * step
        frame[150 : 150 + head.shape[0], left : left + head.shape[1]] = head
        frames.append(frame)
    return frames


def write_video(path: Path, frames: list[np.ndarray], fps: float = 25.0, fourcc: str = "mp4v") -> Path:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def cut_video(path: Path, target: Path, keep: str) -> Path:
    """A damaged copy of ``path``: only its first or its second half of bytes (``keep`` = "head" or "tail")."""
    data = path.read_bytes()
    half = len(data) // 2
    target.write_bytes(data[:half] if keep == "head" else data[half:])
    return target
