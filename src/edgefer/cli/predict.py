"""`edgefer predict [SOURCE]`: faces and expressions in an image, folder, glob, video, camera or stream."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time

from edgefer.cli.options import add_recognizer_options
from edgefer.errors import ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="recognise expressions in an image, folder, glob, video, camera index or stream URL",
        description="Detect faces and recognise their expressions. Results go to stdout (one JSON object per "
        "frame, or CSV rows); progress and FPS go to stderr. Without SOURCE it runs on the bundled sample photo.",
    )
    parser.add_argument(
        "source",
        nargs="?",
        metavar="SOURCE",
        help="image, folder (recursive), glob ('faces/*.jpg'), video file, camera index (0) or "
        "stream URL (default: the bundled sample photo)",
    )
    add_recognizer_options(parser)
    parser.add_argument(
        "--save", metavar="DIR", help="write annotated images (PNG) or video (MP4) and the results file into DIR"
    )
    parser.add_argument("--show", action="store_true", help="show annotated frames in a window (needs a display)")
    parser.add_argument("--format", default="jsonl", choices=("jsonl", "csv"), help="result format (default jsonl)")
    parser.add_argument(
        "--detect-every",
        type=int,
        default=3,
        metavar="N",
        help="video: run the face detector every N frames, tracking in between (default 3)",
    )
    parser.add_argument(
        "--detect-width",
        type=int,
        default=320,
        metavar="PX",
        help="video: detect faces on frames downscaled to this width (default 320)",
    )
    parser.add_argument(
        "--smoothing",
        type=float,
        default=0.5,
        metavar="A",
        help="video: EMA weight of the newest scores per face, 1 = no smoothing (default 0.5)",
    )
    parser.add_argument("--margin", type=float, default=0.1, help="crop margin per side, fraction of the face box")
    parser.add_argument("--no-align", action="store_true", help="do not level the eyes (detectors with landmarks)")
    parser.add_argument(
        "--max-pixels",
        type=int,
        default=None,
        metavar="N",
        help="refuse images with more pixels than this (default 50,000,000)",
    )
    parser.set_defaults(run=run)


def _open_window() -> None:
    import cv2

    try:
        cv2.namedWindow("edgefer", cv2.WINDOW_NORMAL)
    except cv2.error:
        raise ConfigError(
            "--show needs a display and an OpenCV with GUI support (opencv-python, not -headless); "
            "use --save DIR instead"
        ) from None


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import cv2
    from tqdm import tqdm

    from edgefer.assets import SAMPLE_IMAGE
    from edgefer.recognizer import Recognizer
    from edgefer.runtime.annotate import draw_faces
    from edgefer.runtime.images import MAX_PIXELS
    from edgefer.runtime.sinks import AnnotatedWriter, ResultWriter
    from edgefer.runtime.sources import open_source

    max_pixels = MAX_PIXELS if args.max_pixels is None else args.max_pixels
    if max_pixels < 1:
        raise ConfigError(f"--max-pixels must be a positive integer, got {max_pixels}")
    source = open_source(args.source if args.source is not None else SAMPLE_IMAGE, max_pixels)
    if args.show:
        _open_window()
    recognizer = Recognizer(
        model=args.model,
        detector=args.detector,
        backend=args.backend,
        margin=args.margin,
        align=not args.no_align,
        detect_every=args.detect_every,
        detect_width=args.detect_width,
        smoothing=args.smoothing,
        max_pixels=max_pixels,
    )
    annotate = bool(args.save or args.show)
    with contextlib.ExitStack() as stack:
        sinks = [ResultWriter(sys.stdout, args.format, recognizer.classes)]
        annotated = None
        if args.save:
            video = source.kind in ("video", "camera", "stream")
            annotated = AnnotatedWriter(
                args.save,
                source.name if source.kind == "folder" else None,
                source.name if video else None,
                source.fps or 30.0,
            )
            stack.callback(annotated.close)
            results = stack.enter_context(
                open(Path(args.save) / f"results.{args.format}", "w", encoding="utf-8", newline="")
            )
            sinks.append(ResultWriter(results, args.format, recognizer.classes))
        if args.show:
            stack.callback(cv2.destroyAllWindows)
        still = source.kind in ("image", "folder", "glob")
        progress = stack.enter_context(
            tqdm(
                total=source.total,
                unit="img" if still else "frame",
                disable=source.total == 1,
                file=sys.stderr,
                dynamic_ncols=True,
            )
        )
        skipped: list[str] = []

        def skip(name: str, error: Exception) -> None:
            skipped.append(name)
            tqdm.write(f"skipped {name}: {error}", file=sys.stderr)

        faces_seen = 0
        fps = 0.0
        last = time.perf_counter()
        for result in recognizer.stream(
            source, keep_frames=annotate, on_error=skip if source.kind in ("folder", "glob") else None
        ):
            now = time.perf_counter()
            instant = 1.0 / max(now - last, 1e-6)
            fps = instant if fps == 0.0 else 0.9 * fps + 0.1 * instant  # shown live, smoothed
            last = now
            faces_seen += len(result.faces)
            for sink in sinks:
                sink.write(result)
            if annotate:
                frame = draw_faces(result.frame, result.faces, None if still else fps)
                if annotated is not None:
                    annotated.write(result, frame)
                if args.show:
                    cv2.imshow("edgefer", frame)
                    if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                        break
            progress.update(1)
            progress.set_postfix(faces=faces_seen, fps=f"{fps:.1f}", refresh=False)
    if skipped:
        print(f"edgefer predict: skipped {len(skipped)} unreadable file(s) (listed above)", file=sys.stderr)
    if args.save:
        print(f"edgefer predict: results and annotated output in {args.save}", file=sys.stderr)
    return 0
