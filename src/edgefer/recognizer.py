"""The Python face of recognition: ``Recognizer().predict(image)`` and ``Recognizer().stream(source)``."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from torch import nn

from edgefer.errors import ConfigError, EdgeferError, ModelError
from edgefer.evaluate.tta import TTA_MODES, tta_views
from edgefer.faces import Detection, FaceDetector, create_detector, crop_face
from edgefer.runtime.backends import Backend, create_backend
from edgefer.runtime.images import MAX_PIXELS, as_bgr
from edgefer.runtime.results import Face, FrameResult
from edgefer.runtime.sources import Frame, Source, open_source, prefetch
from edgefer.runtime.tracking import IouTracker, Track


def load_model(model: str | Path | nn.Module) -> nn.Module | Path:
    """A model argument → a loaded PyTorch model, or the path of an .onnx file.

    Accepts a module from ``create_model``/``load_weights``, a weights path (``.pt``), an ``.onnx`` path, or the
    name of a shipped model (``"default"`` included).
    """
    from edgefer.models import load_weights
    from edgefer.weights import shipped_weights

    if isinstance(model, nn.Module):
        return model.eval()
    text = str(model)
    if text.lower().endswith(".onnx"):
        return Path(text)
    if Path(text).suffix or Path(text).exists():
        return load_weights(text)
    shipped = shipped_weights(text)
    return load_weights(shipped.path, shipped.sha256)


MIN_DETECT_WIDTH = 64  # pixels: the Haar detector's smallest face is 40 px, so narrower copies find nothing
MAX_MARGIN = 1.0  # a crop three times the face's side; wider crops shrink the face to a few pixels, slowly


def check_settings(
    margin: float = 0.1,
    detect_every: int = 3,
    detect_width: int = 320,
    smoothing: float = 0.5,
    max_pixels: int = MAX_PIXELS,
    tta: str = "none",
    cli: bool = False,
) -> None:
    """Raise ConfigError, naming the setting (as a ``--option`` when ``cli``) and its range, for any out of range."""

    def name(key: str) -> str:
        return f"--{key.replace('_', '-')}" if cli else key

    if not detect_every >= 1:
        raise ConfigError(f"{name('detect_every')} must be 1 or more, not {detect_every}")
    if not detect_width >= MIN_DETECT_WIDTH:
        raise ConfigError(
            f"{name('detect_width')} must be at least {MIN_DETECT_WIDTH} pixels (default 320), not {detect_width}"
        )
    if not 0.0 < smoothing <= 1.0:
        raise ConfigError(f"{name('smoothing')} must be in (0, 1] (1 = none), not {smoothing}")
    if not 0.0 <= margin <= MAX_MARGIN:
        raise ConfigError(
            f"{name('margin')} must be between 0 and {MAX_MARGIN:g} (a fraction of the face box per side), not {margin}"
        )
    if not max_pixels >= 1:
        raise ConfigError(f"{name('max_pixels')} must be a positive integer, not {max_pixels}")
    if tta not in TTA_MODES:
        raise ConfigError(f"{name('tta')} must be one of {', '.join(TTA_MODES)}, not {tta!r}")


class Recognizer:
    """Faces and their expressions in images and streams, offline.

    ``detect_every`` and ``detect_width`` apply to video, camera and stream sources: the detector runs on every
    ``detect_every``-th frame, on a copy downscaled to ``detect_width`` pixels wide; in between, the tracked boxes
    are classified again. Scores are smoothed per tracked face (EMA weight ``smoothing`` on the newest frame).
    ``tta`` averages each face's scores over views of its crop: ``flip`` (the crop and its mirror, twice the
    classification time) or ``multicrop`` (10 views, ten times); docs/results.md gives what each adds.
    """

    def __init__(
        self,
        model: str | Path | nn.Module = "default",
        detector: str | FaceDetector = "haar",
        backend: str = "auto",
        margin: float = 0.1,
        align: bool = True,
        detect_every: int = 3,
        detect_width: int = 320,
        smoothing: float = 0.5,
        max_pixels: int = MAX_PIXELS,
        tta: str = "none",
    ) -> None:
        check_settings(margin, detect_every, detect_width, smoothing, max_pixels, tta)
        self.detector: FaceDetector = create_detector(detector) if isinstance(detector, str) else detector
        self.backend: Backend = create_backend(load_model(model), backend)
        whole_image = self.detector.name == "none"
        self.margin = 0.0 if whole_image else margin
        self.align = align
        self.detect_every = detect_every
        self.detect_width = detect_width
        self.smoothing = smoothing
        self.max_pixels = max_pixels
        self.tta = tta
        self.timings: dict[str, float] = defaultdict(float)  # seconds spent per stage, summed over calls

    @property
    def classes(self) -> tuple[str, ...]:
        return self.backend.classes

    def predict(self, image: Any, color: str = "bgr") -> list[Face]:
        """Faces in one image: a path, encoded bytes, a NumPy array (``color`` "bgr" or "rgb") or a PIL image.

        No face is an empty list, not an error.
        """
        frame = as_bgr(image, color, self.max_pixels)
        detections = self.detect(frame, max_width=max(self.detect_width, 1280))
        return self.classify(frame, detections)

    def detect(self, frame: np.ndarray, max_width: int | None = None) -> list[Detection]:
        """Faces in a BGR frame, detected on a copy at most ``max_width`` wide, in the frame's coordinates."""
        start = time.perf_counter()
        width = frame.shape[1]
        if max_width and width > max_width and self.detector.name != "none":
            factor = width / max_width
            height = max(1, round(frame.shape[0] / factor))
            small = cv2.resize(frame, (max_width, height), interpolation=cv2.INTER_AREA)
            detections = [d.scaled(factor) for d in self.detector.detect(small)]
        else:
            detections = self.detector.detect(frame)
        detections.sort(key=lambda d: (d.box[0], d.box[1]))
        self.timings["detect"] += time.perf_counter() - start
        return detections

    def classify(self, frame: np.ndarray, detections: list[Detection]) -> list[Face]:
        """Crop, preprocess and classify every detected face of a frame in one batch."""
        if not detections:
            return []
        start = time.perf_counter()
        preprocess = self.backend.preprocess
        size = (preprocess.image_size[1], preprocess.image_size[0])  # (W, H) for OpenCV
        source = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY if preprocess.channels == 1 else cv2.COLOR_BGR2RGB)
        crops = np.stack([crop_face(source, d, size, self.margin, self.align) for d in detections])
        views = tta_views(crops, self.tta)
        scores = sum(self.backend(preprocess.apply(view)) for view in views) / len(views)
        self.timings["classify"] += time.perf_counter() - start
        if not np.isfinite(scores).all():
            raise ModelError(
                "the model produced non-finite scores; its weights are corrupt: use another model "
                "(a .pt written by `edgefer train`, or the shipped default)"
            )
        return [Face(d.box, s, self.classes, d.landmarks) for d, s in zip(detections, scores, strict=True)]

    def stream(
        self,
        source: str | int | Path | Source,
        keep_frames: bool = False,
        on_error: Callable[[str, EdgeferError], None] | None = None,
    ) -> Iterator[FrameResult]:
        """Per-frame results of an image, folder, glob, video, camera index or stream URL.

        Video-like sources are tracked (``Face.face_id`` persists) and smoothed; folders and globs are
        independent images, and a bad file among them is passed to ``on_error(name, error)`` and skipped
        (without ``on_error`` it is raised). ``keep_frames`` puts each BGR frame in ``FrameResult.frame``.
        """
        source = source if isinstance(source, Source) else open_source(source, self.max_pixels)
        if source.kind not in ("video", "camera", "stream"):
            for frame in source:
                if frame.error is not None:
                    if on_error is None:
                        raise frame.error
                    on_error(frame.source, frame.error)
                    continue
                faces = self.predict(frame.image)
                yield FrameResult(
                    frame.index, frame.timestamp, faces, frame.source, frame.image if keep_frames else None
                )
            return
        # Three stages run at once: decoding (the source's thread), detection (its own thread, every
        # ``detect_every``-th frame) and, here, tracking + classification. Frames stay in order.
        tracker = IouTracker(smoothing=self.smoothing)
        detections: list[Detection] = []
        tracks: list[Track] = []
        for frame, fresh in prefetch(self._detect_stage(iter(source)), size=4, drop_old=False):
            if fresh is not None:
                detections = fresh
                tracks = tracker.update([d.box for d in detections])
            faces = self.classify(frame.image, detections)
            for face, track in zip(faces, tracks, strict=True):
                face.face_id = track.face_id
                face.scores = tracker.smooth(track, face.scores)
            yield FrameResult(frame.index, frame.timestamp, faces, frame.source, frame.image if keep_frames else None)

    def _detect_stage(self, frames: Iterator[Frame]) -> Iterator[tuple[Frame, list[Detection] | None]]:
        """Each frame with fresh detections every ``detect_every`` frames (counted as they arrive), else None."""
        for count, frame in enumerate(frames):
            fresh = self.detect(frame.image, max_width=self.detect_width) if count % self.detect_every == 0 else None
            yield frame, fresh
