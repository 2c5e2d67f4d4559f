"""End-to-end recognition FPS on a 640×480 video with one face, per-stage times, and RSS over a long stream.

    .venv/bin/python benchmarks/video_fps.py [--frames 300] [--model default] [--backend auto]
        [--detector haar] [--detect-every 3] [--detect-width 320] [--duration 20]

1. Writes a 640×480 MP4 of the bundled sample's face moving across the frame (``--frames`` frames, 25 FPS).
2. Decodes it alone (decode time per frame).
3. Times the classification of one face (batch 1): the model call, and crop + preprocessing + model.
4. Runs the video end to end twice (the first pass warms up) through ``Recognizer.stream`` (decode thread +
   detect thread + classify) and draws the annotations on every frame, as ``edgefer predict --save`` does: FPS,
   CPU time per frame over all threads, and detect / classify / draw wall ms per frame.
5. Streams synthetic frames for ``--duration`` seconds and prints the process RSS at the start, after a tenth of
   the time and at the end (the issue asks for ≥ 30 minutes once: ``--duration 1800``).

Without shipped weights, ``--model default`` falls back to a randomly initialised ``lightcnn``: speed does not
depend on the weights' values. Timings move with the machine's load: say what else was running.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import onnxruntime
import torch
from tqdm import tqdm

from edgefer import Recognizer
from edgefer.assets import SAMPLE_IMAGE
from edgefer.errors import ModelError
from edgefer.models import create_model, save_weights
from edgefer.runtime.annotate import draw_faces
from edgefer.runtime.sources import Frame, Source


def rss_mib() -> float:
    """Current resident set size of this process (Linux /proc; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def face_frames(count: int) -> Iterator[np.ndarray]:
    """640×480 frames: the sample's head gliding left and right on a grey background."""
    sample = cv2.imread(str(SAMPLE_IMAGE))
    head = sample[26:201, 137:312]  # the face Haar finds at (177, 66, 95, 95), plus 40 px around it
    for i in range(count):
        frame = np.full((480, 640, 3), 90, np.uint8)
        left = 100 + int(150 * (1 + np.sin(i / 40)))
        frame[150 : 150 + head.shape[0], left : left + head.shape[1]] = head
        yield frame


def write_video(path: Path, count: int) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (640, 480))
    for frame in face_frames(count):
        writer.write(frame)
    writer.release()
    return path


def decode_ms(path: Path) -> float:
    capture = cv2.VideoCapture(str(path))
    count, start = 0, time.perf_counter()
    while capture.read()[0]:
        count += 1
    capture.release()
    return (time.perf_counter() - start) / max(count, 1) * 1000


def make_recognizer(args: argparse.Namespace, folder: Path) -> Recognizer:
    options = dict(
        detector=args.detector, backend=args.backend, detect_every=args.detect_every, detect_width=args.detect_width
    )
    try:
        return Recognizer(args.model, **options)
    except ModelError as error:
        if args.model != "default":
            raise
        print(
            f"note: {error}\nnote: timing a randomly initialised lightcnn instead (speed does not depend on "
            "the weights' values)"
        )
        return Recognizer(save_weights(folder / "lightcnn.pt", create_model("lightcnn")), **options)


def cpu_seconds() -> float:
    """CPU time of this process, every thread: unlike wall time, it barely moves with other processes' load."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def end_to_end(recognizer: Recognizer, path: Path) -> None:
    recognizer.timings.clear()
    draw_seconds, frames, faces = 0.0, 0, 0
    start, cpu_start = time.perf_counter(), cpu_seconds()
    for result in recognizer.stream(path, keep_frames=True):
        t = time.perf_counter()
        draw_faces(result.frame, result.faces, fps=frames / max(t - start, 1e-9))
        draw_seconds += time.perf_counter() - t
        frames += 1
        faces += len(result.faces)
    elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
    print(
        f"end to end: {frames} frames in {elapsed:.2f} s = {frames / elapsed:.1f} FPS; CPU {cpu / frames * 1000:.2f} "
        f"ms/frame over all threads ({faces} faces found, 1 per frame expected)"
    )
    for stage, seconds in (
        ("detect", recognizer.timings["detect"]),
        ("classify", recognizer.timings["classify"]),
        ("draw", draw_seconds),
    ):
        print(f"  {stage:9} {seconds / frames * 1000:6.2f} ms/frame wall (in the pipeline)")


def per_face_latency(recognizer: Recognizer, runs: int = 200) -> None:
    """Median and p90 of classifying one face: the model call alone, and crop + preprocessing + model."""
    frame = next(face_frames(1))
    detections = recognizer.detect(frame)
    batch = recognizer.backend.preprocess.apply(np.zeros((1, *recognizer.backend.preprocess.image_size), np.uint8))
    for name, call in (
        ("model call", lambda: recognizer.backend(batch)),
        ("crop + preprocess + model", lambda: recognizer.classify(frame, detections)),
    ):
        for _ in range(20):
            call()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        median, p90 = np.percentile(times, [50, 90]) * 1000
        print(f"one face, {name}: median {median:.3f} ms, p90 {p90:.3f} ms ({runs} runs)")


def long_stream(recognizer: Recognizer, duration: float) -> None:
    frames = list(face_frames(250))  # cycled, so the stream never ends early and costs no decoding

    def generate() -> Iterator[Frame]:
        index, start = 0, time.monotonic()
        while time.monotonic() - start < duration:
            yield Frame(index, time.monotonic() - start, "synthetic", frames[index % len(frames)].copy())
            index += 1

    rss_start = rss_mib()
    rss_warm = None  # after the first tenth: allocator pools and caches have filled by then
    count, start = 0, time.monotonic()
    with tqdm(desc="long stream", unit="frame", leave=False) as progress:
        for result in recognizer.stream(Source("stream", "synthetic", generate), keep_frames=True):
            draw_faces(result.frame, result.faces)
            count += 1
            progress.update(1)
            if rss_warm is None and time.monotonic() - start > duration / 10:
                rss_warm = rss_mib()
    print(
        f"long stream: {count} frames in {duration:.0f} s ({count / duration:.1f} FPS); RSS {rss_start:.1f} MiB "
        f"at start, {rss_warm or 0:.1f} MiB after {duration / 10:.0f} s, {rss_mib():.1f} MiB at end"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300, help="frames in the generated video (default 300)")
    parser.add_argument("--model", default="default")
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--detector", default="haar")
    parser.add_argument("--detect-every", type=int, default=3)
    parser.add_argument("--detect-width", type=int, default=320)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of the long synthetic stream")
    args = parser.parse_args()

    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}; torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), onnxruntime {onnxruntime.__version__}, OpenCV {cv2.__version__}"
    )
    with tempfile.TemporaryDirectory(prefix="edgefer-bench-") as tmp:
        folder = Path(tmp)
        video = write_video(folder / "face.mp4", args.frames)
        recognizer = make_recognizer(args, folder)
        print(
            f"model input {recognizer.backend.preprocess.input_size}, backend {recognizer.backend.name}, "
            f"detector {args.detector} every {args.detect_every} frames at {args.detect_width} px wide"
        )
        print(f"decode alone: {decode_ms(video):.2f} ms/frame (640×480 MP4)")
        per_face_latency(recognizer)
        end_to_end(recognizer, video)  # warm-up pass: first-call costs of OpenCV and the backend
        end_to_end(recognizer, video)
        if args.duration > 0:
            long_stream(recognizer, args.duration)


if __name__ == "__main__":
    main()
