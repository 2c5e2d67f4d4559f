"""The `fer` half of ``benchmarks/compare_fer.py``: runs inside fer's own virtual environment, never in edgefer's.

    /tmp/fervenv/bin/python benchmarks/fer_worker.py --images fer2013=A.npy ckplus48=B.npy \\
        --latency-images A.npy --out-dir DIR [--runs 200] [--warmup 20]

``compare_fer.py`` starts it; run it by hand only to debug. Inputs are uint8 greyscale face crops (N, H, W) in
``.npy`` files. For each of fer's two emotion models (the Keras mini-Xception ``emotion_model.hdf5`` and the
quantised ``emotion_model_quantized.tflite``) and each of two ways of preparing a crop it writes the class
probabilities (N, 7) to ``DIR/<model>-<crop>-<name>.npy`` in fer's class order, then everything else (versions,
class order, per-face latency, a check against ``FER.detect_emotions``) to ``DIR/result.json``.

The two ways of preparing a crop:

- ``pipeline``: what ``FER.detect_emotions(image, face_rectangles=[(0, 0, W, H)])`` does with a face box that is
  the whole crop: pad the image by 40 px of the mean of its bottom two rows, make the box square, widen it by
  fer's default offsets (10, 10), cut, resize to the model's 64×64 (``cv2.resize``, bilinear), then
  ``(x / 255 - 0.5) * 2``. This reproduces fer's own code (checked on the first images against
  ``detect_emotions``, whose scores fer rounds to 2 decimals).
- ``resize``: the crop resized straight to 64×64 with the same scaling, the way the model was trained
  (oarriaga/face_classification resizes the 48×48 FER2013 pixels).

Latency (``time_per_face``, the same function ``compare_fer.py`` uses for edgefer): one face per call, one thread
(``TF_NUM_INTRAOP_THREADS=1``, ``TF_NUM_INTEROP_THREADS=1``, TFLite ``num_threads=1``), ``--warmup`` untimed calls,
then ``--runs`` timed ones (fewer, at least 20, once 15 s have passed) cycling over the latency crops; ``model``
times the model call on a prepared input (fer's Keras call is the eager ``model(x)`` that ``FER._classify_emotions``
makes; ``keras_compiled`` times the same model through Keras' compiled ``predict_on_batch``, which fer does not use
but a user could; the TFLite call is ``set_tensor`` + ``invoke`` + ``get_tensor``), ``crop`` times uint8 crop →
probabilities (pipeline preparation + model). Wall-clock medians move with the machine's load; process CPU time much
less. fer itself does not set a TFLite thread count; here it is pinned to 1 so that both tools use one thread.

This file imports nothing from edgefer and only NumPy at module level, so that ``compare_fer.py`` can import
``time_per_face`` from it in edgefer's environment.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

CROPS: tuple[str, ...] = ("pipeline", "resize")
MODELS: tuple[str, ...] = ("keras", "tflite_int8")
CHECK_IMAGES = 16  # images compared against FER.detect_emotions


def time_per_face(
    call: Callable[[np.ndarray], object],
    faces: np.ndarray,
    runs: int,
    warmup: int,
    max_seconds: float = 15.0,
    min_runs: int = 20,
) -> dict[str, Any]:
    """Wall-clock and CPU milliseconds of ``call(face)`` over ``runs`` calls after ``warmup`` untimed ones.

    Each call gets one face, cycling through ``faces`` so that no single input is timed over and over. Timing
    stops early once ``max_seconds`` have passed and ``min_runs`` calls were timed (a 300 ms call need not be
    timed 200 times); ``runs`` in the result says how many were. CPU time is the process's (all its threads):
    on a shared machine it moves far less with the load than wall time does.
    """
    for index in range(warmup):
        call(faces[index % len(faces)])
    wall, cpu = [], []
    deadline = time.perf_counter() + max_seconds
    for index in range(runs):
        face = faces[index % len(faces)]
        start, start_cpu = time.perf_counter(), time.process_time()
        call(face)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        if len(wall) >= min_runs and time.perf_counter() > deadline:
            break
    wall_ms, cpu_ms = np.asarray(wall) * 1e3, np.asarray(cpu) * 1e3
    return {
        "median_ms": float(np.median(wall_ms)),
        "p90_ms": float(np.percentile(wall_ms, 90)),
        "min_ms": float(wall_ms.min()),
        "cpu_median_ms": float(np.median(cpu_ms)),
        "runs": len(wall),
        "warmup": warmup,
    }


def _pin_threads() -> None:
    """One thread for TensorFlow and anything OpenMP; must run before TensorFlow is imported."""
    for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
        os.environ[name] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", nargs="+", required=True, metavar="NAME=PATH.npy", help="uint8 (N, H, W) crops")
    parser.add_argument("--latency-images", required=True, type=Path, help="uint8 (N, H, W) crops for timing")
    parser.add_argument("--out-dir", required=True, type=Path)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=256, help="Keras batch for the accuracy pass")
    args = parser.parse_args(argv)

    _pin_threads()
    warnings.filterwarnings("ignore", category=UserWarning)  # Keras' input-structure note, TFLite's deprecation
    import cv2
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    cv2.setNumThreads(1)
    import fer
    from fer.fer import FER, PADDING

    try:
        from tensorflow.keras.models import load_model
    except ImportError:  # as fer.fer does
        from keras.models import load_model

    data_dir = Path(fer.__file__).resolve().parent / "data"
    keras_path = data_dir / "emotion_model.hdf5"
    tflite_path = data_dir / "emotion_model_quantized.tflite"
    cascade_path = data_dir / "haarcascade_frontalface_default.xml"
    offsets = (10, 10)  # FER's default
    classes = [name for _, name in sorted(FER._get_labels().items())]

    keras_model = load_model(str(keras_path), compile=False)
    size = tuple(int(side) for side in keras_model.input_shape[1:3])  # (64, 64)
    interpreter = tf.lite.Interpreter(model_path=str(tflite_path), num_threads=1)
    interpreter.allocate_tensors()
    tflite_in = interpreter.get_input_details()[0]
    tflite_out = interpreter.get_output_details()[0]

    def prepare(face: np.ndarray, crop: str) -> np.ndarray:
        """uint8 (H, W) crop → float32 (64, 64) model input, as fer prepares it (see the module docstring)."""
        if crop == "pipeline":
            padded = FER.pad(face)
            x, y, w, h = FER.tosquare((0, 0, face.shape[1], face.shape[0]))
            x1, y1 = max(0, x - offsets[0] + PADDING), max(0, y - offsets[1] + PADDING)
            x2, y2 = x + w + offsets[0] + PADDING, y + h + offsets[1] + PADDING
            face = padded[y1:y2, x1:x2]
        resized = cv2.resize(face, size).astype(np.float32)
        return (resized / 255.0 - 0.5) * 2.0

    def keras_call(inputs: np.ndarray) -> np.ndarray:  # (B, 64, 64) → (B, 7)
        return np.asarray(keras_model(inputs[..., None]))

    def tflite_call(inputs: np.ndarray) -> np.ndarray:  # (1, 64, 64) → (1, 7)
        interpreter.set_tensor(tflite_in["index"], inputs[..., None].astype(np.float32))
        interpreter.invoke()
        return np.array(interpreter.get_tensor(tflite_out["index"]))

    def probabilities(model: str, images: np.ndarray, crop: str) -> np.ndarray:
        prepared = np.stack([prepare(face, crop) for face in images])
        if model == "keras":
            chunks = [keras_call(prepared[i : i + args.batch_size]) for i in range(0, len(prepared), args.batch_size)]
        else:
            chunks = [tflite_call(prepared[i : i + 1]) for i in range(len(prepared))]
        return np.concatenate(chunks).astype(np.float32)

    args.out_dir.mkdir(parents=True, exist_ok=True)
    datasets: dict[str, np.ndarray] = {}
    for spec in args.images:
        name, _, path = spec.partition("=")
        datasets[name] = np.load(path)
    outputs: dict[str, str] = {}
    for name, images in datasets.items():
        for model in MODELS:
            for crop in CROPS:
                out = args.out_dir / f"{model}-{crop}-{name}.npy"
                np.save(out, probabilities(model, images, crop))
                outputs[f"{model}-{crop}-{name}"] = str(out)

    # Does ``pipeline`` reproduce fer's own call? detect_emotions rounds scores to 2 decimals.
    first = next(iter(datasets.values()))[:CHECK_IMAGES]
    check: dict[str, float] = {}
    for model, use_tflite in (("keras", False), ("tflite_int8", True)):
        fer_tool = FER(cascade_file=str(cascade_path), use_tflite=use_tflite)
        ours = probabilities(model, first, "pipeline")
        theirs = []
        for face in first:
            found = fer_tool.detect_emotions(
                cv2.cvtColor(face, cv2.COLOR_GRAY2BGR), face_rectangles=[(0, 0, face.shape[1], face.shape[0])]
            )
            theirs.append([found[0]["emotions"][name] for name in classes])
        check[model] = float(np.abs(np.round(ours, 2) - np.asarray(theirs)).max())

    faces = np.load(args.latency_images)
    prepared = np.stack([prepare(face, "pipeline")[None] for face in faces])  # (N, 1, 64, 64): one face a call

    def keras_compiled_call(inputs: np.ndarray) -> np.ndarray:  # the same model through Keras' compiled predict
        return np.asarray(keras_model.predict_on_batch(inputs[..., None]))

    latency: dict[str, dict[str, Any]] = {}
    timed = (("keras", keras_call), ("keras_compiled", keras_compiled_call), ("tflite_int8", tflite_call))
    for model, call in timed:
        latency[model] = {
            "model": time_per_face(call, prepared, args.runs, args.warmup),
            "crop": time_per_face(
                lambda face, call=call: call(prepare(face, "pipeline")[None]), faces, args.runs, args.warmup
            ),
        }

    result = {
        "fer": fer.__version__ if hasattr(fer, "__version__") else _version("fer"),
        "tensorflow": tf.__version__,
        "keras": _version("keras"),
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "python": sys.version.split()[0],
        "classes": classes,
        "input_size": list(size),
        "models": {
            "keras": {
                "file": keras_path.name,
                "bytes": keras_path.stat().st_size,
                "parameters": int(keras_model.count_params()),
            },
            "tflite_int8": {
                "file": tflite_path.name,
                "bytes": tflite_path.stat().st_size,
                "input_dtype": str(np.dtype(tflite_in["dtype"])),
            },
        },
        "outputs": outputs,
        "detect_emotions_max_abs_diff": check,
        "latency": latency,
    }
    (args.out_dir / "result.json").write_text(json.dumps(result, indent=2))


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


if __name__ == "__main__":
    main()
