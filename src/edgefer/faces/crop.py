"""Cut a face out of an image: a square around the detector's box plus a margin, upright by the eyes if known."""

from __future__ import annotations

import math

import cv2
import numpy as np

from edgefer.faces.base import Detection


def eye_angle(landmarks: np.ndarray | None) -> float:
    """Degrees the face is rolled (the line from the image-left eye to the image-right eye), 0 without eyes."""
    if landmarks is None or len(landmarks) < 2:
        return 0.0
    first, second = sorted((landmarks[0], landmarks[1]), key=lambda point: point[0])
    return math.degrees(math.atan2(float(second[1] - first[1]), float(second[0] - first[0])))


def crop_face(
    image: np.ndarray, detection: Detection, size: tuple[int, int], margin: float = 0.1, align: bool = True
) -> np.ndarray:
    """The face as a (size[1], size[0]) crop of ``image`` (same channels), edges replicated past the border.

    The square's side is the box's longer side plus ``margin`` of it on every side; with ``align`` and eye
    landmarks the crop is rotated about the box centre so that the eyes are level.
    """
    x, y, w, h = detection.box
    side = max(w, h, 1) * (1.0 + 2.0 * margin)
    centre = (x + w / 2.0, y + h / 2.0)
    angle = eye_angle(detection.landmarks) if align else 0.0
    native = max(1, round(side))
    # Rotate about the face centre, then move the face centre to the middle of a native-resolution square.
    matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
    matrix[:, 2] += (native / 2.0 - centre[0], native / 2.0 - centre[1])
    crop = cv2.warpAffine(image, matrix, (native, native), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if (native, native) != size:
        shrinking = native > size[0]
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    return crop
