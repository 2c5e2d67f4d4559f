"""Where frames come from: an image, a folder (recursive), a glob, a video file, a camera index or a stream URL.

``open_source`` checks the source up front (so a missing file or a camera that does not exist fails at once
with a one-line error) and returns a ``Source`` whose frames are decoded in a background thread, overlapping
decoding with detection and classification. Bad files inside a folder or glob arrive as frames carrying an
``error`` instead of pixels, so a run can report them and go on.
"""

from __future__ import annotations

import contextlib
import glob as globlib
import queue
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np

from edgefer.errors import EdgeferError, ImageError, SourceError
from edgefer.runtime.images import IMAGE_SUFFIXES, MAX_PIXELS, read_image

VIDEO_SUFFIXES: frozenset[str] = frozenset(
    {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ts"}
)
T = TypeVar("T")
STREAM_PREFIXES: tuple[str, ...] = ("rtsp://", "rtmp://", "http://", "https://", "udp://", "tcp://")


class SourceWarning(UserWarning):
    """A source gave less than it announced (a video that ends well before its stated frame count)."""


@dataclass
class Frame:
    index: int
    timestamp: float  # seconds: position in a video, time since start for cameras and streams, 0 for images
    source: str  # the file, or the video/camera/stream name
    image: np.ndarray | None  # BGR uint8 (H, W, 3); None when ``error`` is set
    error: EdgeferError | None = None


@dataclass
class Source:
    """A checked source. Iterate it for frames; ``total`` is the number of frames or images when known."""

    kind: str  # image | folder | glob | video | camera | stream
    name: str
    frames: Callable[[], Iterator[Frame]]
    total: int | None = None
    fps: float | None = None  # the video's own frame rate (for writing an annotated copy)
    live: bool = False  # camera or stream: drop stale frames rather than fall behind

    def __iter__(self) -> Iterator[Frame]:
        return prefetch(self.frames(), size=1 if self.live else 8, drop_old=self.live)


def prefetch(items: Iterator[T], size: int, drop_old: bool) -> Iterator[T]:
    """Run ``items`` (a stage of the pipeline) in a daemon thread, ``size`` items ahead.

    With ``drop_old`` (live sources) a full buffer drops its oldest item, so the consumer always gets fresh
    frames instead of falling behind. An exception in the thread is re-raised in the consumer.
    """
    buffer: queue.Queue = queue.Queue(maxsize=size)
    stop = threading.Event()
    done = object()

    def put(item: object) -> None:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return
            except queue.Full:
                if drop_old and item is not done and not isinstance(item, BaseException):
                    with contextlib.suppress(queue.Empty):
                        buffer.get_nowait()

    def work() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                put(item)
        except BaseException as error:  # handed to the consumer, which re-raises it
            put(error)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()
        put(done)

    thread = threading.Thread(target=work, name="edgefer-stage", daemon=True)
    thread.start()
    try:
        while True:
            item = buffer.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=2.0)


def _image_frames(paths: list[Path], max_pixels: int) -> Iterator[Frame]:
    for index, path in enumerate(paths):
        try:
            yield Frame(index, 0.0, str(path), read_image(path, max_pixels))
        except ImageError as error:
            yield Frame(index, 0.0, str(path), None, error)


def _capture_frames(
    capture: cv2.VideoCapture, name: str, live: bool, count: int | None = None, fps: float | None = None
) -> Iterator[Frame]:
    """The capture's frames; a video file's ``count`` and ``fps`` (when known) time its frames and tell whether
    decoding stopped short."""
    start = time.monotonic()
    index = 0
    timestamp = 0.0
    try:
        while True:
            ok, image = capture.read()
            if not ok:
                break
            if live:
                timestamp = time.monotonic() - start
            else:
                timestamp = _video_timestamp(capture.get(cv2.CAP_PROP_POS_MSEC), index, fps, timestamp)
            yield Frame(index, timestamp, name, image)
            index += 1
    finally:
        capture.release()
    if index == 0:
        raise SourceError(
            f"{name!r} opened but gave no frame; the file is corrupt or uses a codec "
            "this OpenCV cannot decode (convert it to H.264 .mp4)"
        )
    if count is not None and count - index > max(2, count // 20):  # containers' counts can be a frame or two off
        warnings.warn(
            f"{name}: decoding stopped after {index} of its {count} frames; the file is truncated or damaged "
            "(results cover only the frames read)",
            SourceWarning,
            stacklevel=2,
        )


def _video_timestamp(position_ms: float, index: int, fps: float | None, last: float) -> float:
    """Seconds into the video: the container's position, or index / fps where that position is negative or goes
    back (a file cut at its head reports negative times); never before ``last``."""
    seconds = position_ms / 1000.0
    if not seconds >= last:  # NaN included
        seconds = index / fps if fps else last
    return max(seconds, last)


def _open_capture(target: int | str, name: str, what: str) -> cv2.VideoCapture:
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # a failed open is our error, not a log
    try:
        capture = cv2.VideoCapture(target)
    finally:
        cv2.utils.logging.setLogLevel(level)
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"{what} {name!r} will not open; {_fix(what)}")
    return capture


def _fix(what: str) -> str:
    if what == "camera":
        return "no camera has that index or it is in use (list cameras with `ls /dev/video*`)"
    if what == "stream":
        return "check the URL and that the stream is live"
    return "check that it is a video file (mp4, avi, mkv, ...) that is not corrupt"


def _folder_paths(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def _video_source(path: Path, kind: str = "video") -> Source:
    capture = _open_capture(str(path), str(path), kind)
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    total = count if count > 0 else None
    fps = capture.get(cv2.CAP_PROP_FPS)
    fps = fps if fps > 0 else None
    return Source(
        "video",
        str(path),
        lambda: _capture_frames(capture, str(path), live=False, count=total, fps=fps),
        total=total,
        fps=fps,
    )


def open_source(source: str | int | Path, max_pixels: int = MAX_PIXELS) -> Source:
    """Check a source and make a ``Source`` of it; errors name the source and the fix."""
    text = str(source)
    if not text.strip():  # Path("") is the working folder: an empty argument must not mean "every image here"
        raise SourceError(
            "the source is empty; give an image, a folder ('.' for the current one), a glob, a video, "
            "a camera index or a stream URL"
        )
    if isinstance(source, int) or text.isdigit():
        capture = _open_capture(int(text), text, "camera")
        return Source(
            "camera", f"camera {text}", lambda: _capture_frames(capture, f"camera {text}", live=True), live=True
        )
    if text.lower().startswith(STREAM_PREFIXES):
        capture = _open_capture(text, text, "stream")
        return Source("stream", text, lambda: _capture_frames(capture, text, live=True), live=True)
    path = Path(text).expanduser()
    if path.is_dir():
        paths = _folder_paths(path)
        if not paths:
            raise SourceError(f"folder {text!r} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}); check the path")
        return Source("folder", text, lambda: _image_frames(paths, max_pixels), total=len(paths))
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in IMAGE_SUFFIXES:
            return Source("image", text, lambda: _image_frames([path], max_pixels), total=1)
        if suffix in VIDEO_SUFFIXES:
            return _video_source(path)
        raise SourceError(
            f"{text!r} is neither an image ({', '.join(sorted(IMAGE_SUFFIXES))}) nor a video "
            f"({', '.join(sorted(VIDEO_SUFFIXES))}); rename it or convert it"
        )
    if globlib.has_magic(text):
        paths = sorted(
            Path(p)
            for p in globlib.glob(text, recursive=True)
            if Path(p).suffix.lower() in IMAGE_SUFFIXES and Path(p).is_file()
        )
        if not paths:
            raise SourceError(f"pattern {text!r} matches no images; check the pattern (quote it in the shell)")
        return Source("glob", text, lambda: _image_frames(paths, max_pixels), total=len(paths))
    raise SourceError(
        f"{text!r} does not exist; give an image, a folder, a glob, a video, a camera index or a stream URL"
    )
