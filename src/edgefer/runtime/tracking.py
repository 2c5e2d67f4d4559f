"""Face tracks across frames: IoU matching gives each face an id that persists, EMA smooths its scores."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Box = tuple[int, int, int, int]


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


@dataclass
class Track:
    face_id: int
    box: Box
    scores: np.ndarray | None = None
    missed: int = 0  # consecutive detection rounds without a match


class IouTracker:
    """Greedy IoU matching of each round of detections to the live tracks.

    A track survives ``max_missed`` detection rounds without a match (a blink of the detector), then ends;
    an unmatched detection starts a new track with the next id. ``smoothing`` is the EMA weight of the newest
    scores (1.0 = no smoothing).
    """

    def __init__(self, iou_threshold: float = 0.3, max_missed: int = 2, smoothing: float = 0.5) -> None:
        if not 0.0 < smoothing <= 1.0:
            raise ValueError(f"smoothing must be in (0, 1], not {smoothing}")
        self.iou_threshold = iou_threshold
        self.max_missed = max_missed
        self.smoothing = smoothing
        self.tracks: list[Track] = []
        self._next_id = 0

    def update(self, boxes: list[Box]) -> list[Track]:
        """Match a new round of detected boxes; returns the track of each box, in the order of ``boxes``."""
        pairs = sorted(
            ((iou(track.box, box), t, b) for t, track in enumerate(self.tracks) for b, box in enumerate(boxes)),
            reverse=True,
        )
        assigned: dict[int, Track] = {}
        used: set[int] = set()
        for overlap, t, b in pairs:
            if overlap < self.iou_threshold:
                break
            if t in used or b in assigned:
                continue
            used.add(t)
            assigned[b] = self.tracks[t]
            self.tracks[t].box = boxes[b]
            self.tracks[t].missed = 0
        for t, track in enumerate(self.tracks):
            if t not in used:
                track.missed += 1
        self.tracks = [track for track in self.tracks if track.missed <= self.max_missed]
        result = []
        for b, box in enumerate(boxes):
            if b not in assigned:
                assigned[b] = Track(self._next_id, box)
                self._next_id += 1
                self.tracks.append(assigned[b])
            result.append(assigned[b])
        return result

    def smooth(self, track: Track, scores: np.ndarray) -> np.ndarray:
        """Fold new scores into the track's EMA and return the smoothed scores (still summing to 1)."""
        if track.scores is None or track.scores.shape != scores.shape:
            track.scores = scores.astype(np.float32)
        else:
            track.scores = (self.smoothing * scores + (1.0 - self.smoothing) * track.scores).astype(np.float32)
        return track.scores

    def reset(self) -> None:
        self.tracks = []
        self._next_id = 0
