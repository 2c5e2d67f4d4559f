"""Where results go: JSONL or CSV rows, and annotated copies of images and videos."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TextIO

import cv2
import numpy as np

from edgefer.errors import ConfigError, OutputError
from edgefer.runtime.results import FrameResult

FORMATS: tuple[str, ...] = ("jsonl", "csv")


class ResultWriter:
    """One JSON object per frame (``jsonl``), or one CSV row per face (a frame without faces: one empty row)."""

    def __init__(self, stream: TextIO, fmt: str, classes: tuple[str, ...]) -> None:
        if fmt not in FORMATS:
            raise ConfigError(f"unknown result format {fmt!r}; choose one of {', '.join(FORMATS)}")
        self.stream = stream
        self.fmt = fmt
        self.classes = classes
        self._csv = None
        if fmt == "csv":
            self._csv = csv.writer(stream, lineterminator="\n")
            self._csv.writerow(
                [
                    "source",
                    "index",
                    "timestamp",
                    "face_id",
                    "x",
                    "y",
                    "width",
                    "height",
                    "label",
                    "confidence",
                    *classes,
                ]
            )

    def write(self, result: FrameResult) -> None:
        if self._csv is None:
            self.stream.write(json.dumps(result.to_dict()) + "\n")
            return
        head = [result.source, result.index, round(result.timestamp, 6)]
        if not result.faces:
            self._csv.writerow(head + [""] * (8 + len(self.classes)))
        for face in result.faces:
            face_id = "" if face.face_id is None else face.face_id
            self._csv.writerow(
                [
                    *head,
                    face_id,
                    *face.box,
                    face.label,
                    round(face.confidence, 6),
                    *(round(float(s), 6) for s in face.scores),
                ]
            )


class AnnotatedWriter:
    """Writes annotated frames under a folder: each image as PNG (keeping a folder's layout), a video as MP4. The
    folder is made with the first frame, so a run that fails before it leaves none behind."""

    def __init__(self, folder: str | Path, root: str | Path | None, video_name: str | None, fps: float) -> None:
        self.folder = Path(folder)
        self.root = Path(root) if root is not None else None
        self.video_path = None if video_name is None else self.folder / f"{Path(video_name).stem or 'stream'}.mp4"
        self.fps = fps
        self._video: cv2.VideoWriter | None = None
        self._written: set[Path] = set()

    def image_path(self, source: str) -> Path:
        """Where an annotated image goes: its path under a folder source's root, else just its name, as PNG. Two
        inputs that would share a name (``x.jpg`` and ``x.png``; ``a/x.png`` and ``b/x.png`` of a glob) do not
        overwrite each other: the later ones get ``x-2.png``, ``x-3.png``, ..."""
        path = Path(source)
        if self.root is not None and path.is_relative_to(self.root):
            target = self.folder / path.relative_to(self.root).with_suffix(".png")
        else:
            target = self.folder / f"{path.stem}.png"
        candidate, count = target, 1
        while candidate in self._written:
            count += 1
            candidate = target.with_name(f"{target.stem}-{count}.png")
        return candidate

    def write(self, result: FrameResult, frame: np.ndarray) -> None:
        if self.video_path is None:
            target = self.image_path(result.source)
            if target.exists() and target.resolve() == Path(result.source).resolve():
                raise OutputError(
                    f"the annotated copy of {result.source!r} would replace it; choose a --save folder "
                    "that holds no input images"
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            if not cv2.imwrite(str(target), frame):
                raise OutputError(f"cannot write {str(target)!r}; check that its folder is writable and not full")
            self._written.add(target)
            return
        if self._video is None:
            height, width = frame.shape[:2]
            self.folder.mkdir(parents=True, exist_ok=True)
            self._video = cv2.VideoWriter(
                str(self.video_path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (width, height)
            )
            if not self._video.isOpened():
                self._video = None
                raise OutputError(f"cannot write the video {str(self.video_path)!r}; check that its folder is writable")
        self._video.write(frame)

    def close(self) -> None:
        if self._video is not None:
            self._video.release()
            self._video = None
