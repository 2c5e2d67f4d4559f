"""`edgefer predict [SOURCE]`: faces and expressions in an image, folder, glob, video, camera or stream."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from edgefer.cli.options import add_recognizer_options, refuse_empty_output
from edgefer.errors import ConfigError, ImageError, OutputError

if TYPE_CHECKING:
    from edgefer.runtime.results import FrameResult


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
    parser.add_argument("--force", action="store_true", help="replace earlier results in --save DIR")
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
        help="video: detect faces on frames downscaled to this width, 64 or more (default 320)",
    )
    parser.add_argument(
        "--smoothing",
        type=float,
        default=0.5,
        metavar="A",
        help="video: EMA weight of the newest scores per face, 1 = no smoothing (default 0.5)",
    )
    parser.add_argument(
        "--margin", type=float, default=0.1, help="crop margin per side, fraction of the face box, 0 to 1 (default 0.1)"
    )
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


def _claim_save_folder(args: argparse.Namespace, kind: str, name: str) -> Path:
    """Claim --save DIR before any work: earlier results there are replaced only with --force, inputs never."""
    from edgefer.outputs import claim_output_folder

    # Annotated files are named after the inputs; for a folder or glob, results.* marks an earlier run.
    products = ["results.jsonl", "results.csv"]
    if kind == "image":
        products.append(f"{Path(name).stem}.png")
    elif kind in ("video", "camera", "stream"):
        products.append(f"{Path(name).stem or 'stream'}.mp4")
    save = Path(args.save).expanduser()
    if kind == "folder" and save.resolve() == Path(name).expanduser().resolve():
        raise OutputError(
            f"--save {args.save!r} is the input folder; annotated copies would replace its images: "
            "choose another folder"
        )
    inputs = [Path(name).expanduser()] if kind == "image" else []
    if kind == "glob":
        import glob

        inputs = [Path(match) for match in glob.glob(name, recursive=True)]
    for image in inputs:
        if (save / f"{image.stem}.png").resolve() == image.resolve():
            raise OutputError(
                f"--save {args.save!r} would replace the input image {str(image)!r} with its annotated copy; "
                "choose another folder"
            )
    return claim_output_folder(save, products, args.force)


def run(args: argparse.Namespace) -> int:
    import cv2
    from tqdm import tqdm

    from edgefer.assets import SAMPLE_IMAGE
    from edgefer.recognizer import Recognizer, check_settings
    from edgefer.runtime.annotate import draw_faces
    from edgefer.runtime.images import MAX_PIXELS
    from edgefer.runtime.sinks import AnnotatedWriter, ResultWriter
    from edgefer.runtime.sources import open_source

    max_pixels = MAX_PIXELS if args.max_pixels is None else args.max_pixels
    check_settings(args.margin, args.detect_every, args.detect_width, args.smoothing, max_pixels, args.tta, cli=True)
    refuse_empty_output("--save", args.save)
    if args.force and not args.save:
        raise ConfigError("--force lets --save replace earlier results; add --save DIR or drop --force")
    if not args.model.strip():
        raise ConfigError("--model is empty; give a shipped model name, a weights .pt or an .onnx, or drop --model")
    source = open_source(args.source if args.source is not None else SAMPLE_IMAGE, max_pixels)
    save = _claim_save_folder(args, source.kind, source.name) if args.save else None  # "~" expanded
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
        tta=args.tta,
    )
    annotate = bool(args.save or args.show)
    with contextlib.ExitStack() as stack:
        sinks = [ResultWriter(sys.stdout, args.format, recognizer.classes)]
        annotated = None
        if save is not None:
            video = source.kind in ("video", "camera", "stream")
            annotated = AnnotatedWriter(
                save,
                source.name if source.kind == "folder" else None,
                source.name if video else None,
                source.fps or 30.0,
            )
            stack.callback(annotated.close)
            # Opened at the first result, so that a run that fails before any leaves earlier results alone.
            sinks.append(_LazyResultFile(save / f"results.{args.format}", args.format, recognizer.classes))
            stack.callback(sinks[-1].close)
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
        frames_done = 0
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
            frames_done += 1
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
    if skipped and frames_done == 0:
        raise ImageError(
            f"none of the {len(skipped)} input files could be read as images (reasons listed above); "
            "give image files (jpg, png, ...) that are not empty or corrupt"
        )
    if skipped:
        print(f"edgefer predict: skipped {len(skipped)} unreadable file(s) (listed above)", file=sys.stderr)
    if still and frames_done and not faces_seen and args.detector != "none":
        print(
            f"edgefer predict: the {args.detector} detector found no face in {frames_done} image(s); "
            "if they are already cropped faces, add --detector none",
            file=sys.stderr,
        )
    if save is not None:
        print(f"edgefer predict: results and annotated output in {save}", file=sys.stderr)
    return 0


class _LazyResultFile:
    """A ResultWriter on a file that is created at the first result (an unwritable file is a one-line error)."""

    def __init__(self, path: Path, fmt: str, classes: tuple[str, ...]) -> None:
        self.path = path
        self.fmt = fmt
        self.classes = classes
        self._handle = None
        self._writer = None

    def write(self, result: FrameResult) -> None:
        if self._writer is None:
            from edgefer.runtime.sinks import ResultWriter

            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._handle = open(self.path, "w", encoding="utf-8", newline="")  # noqa: SIM115 (closed by close)
            except OSError as error:
                raise OutputError(
                    f"cannot write {str(self.path)!r} ({error.strerror or error}); choose a writable --save DIR"
                ) from None
            self._writer = ResultWriter(self._handle, self.fmt, self.classes)
        self._writer.write(result)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
