"""Reading still images safely: paths, bytes, NumPy arrays and PIL images → BGR uint8 (H, W, 3).

Every failure a user can cause becomes an ImageError naming the file and the fix. The pixel limit is checked
from the header, before any pixel is decoded, so a decompression bomb costs nothing.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageOps

from edgefer.errors import ImageError

IMAGE_SUFFIXES: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm", ".jfif"}
)
MAX_PIXELS = 50_000_000  # 50 MP: larger than any camera photo edgefer targets, small enough to decode safely

ImageInput = str | Path | np.ndarray | Image.Image | bytes


def read_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode an image file into BGR uint8 (H, W, 3), honouring its EXIF orientation."""
    path = Path(path)
    if not path.exists():
        raise ImageError(f"image {str(path)!r} does not exist; check the path")
    if not path.is_file():
        raise ImageError(f"{str(path)!r} is not a file; give an image file (or a folder as a SOURCE to predict)")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ImageError(f"cannot read {str(path)!r} ({error.strerror}); check its permissions") from None
    return decode_image(data, name=str(path), max_pixels=max_pixels)


def decode_image(data: bytes, name: str = "<bytes>", max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode encoded image bytes (JPEG, PNG, BMP, GIF, TIFF, WebP, PNM) into BGR uint8 (H, W, 3)."""
    if not data:
        raise ImageError(f"image {name!r} is empty (0 bytes); re-export or re-download it")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns of bombs (our own limit applies) and of corrupt EXIF
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            image = None
        except (Image.UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise ImageError(
                f"{name!r} is not an image edgefer can read (JPEG, PNG, BMP, GIF, TIFF, WebP, PNM); "
                "check that the file is an image and not something renamed"
            ) from None
        if image is None or image.width * image.height > max_pixels:
            size = "" if image is None else f" ({image.width}×{image.height})"
            raise ImageError(
                f"image {name!r}{size} has more than {max_pixels:,} pixels; downscale it first "
                "(or raise the limit with --max-pixels)"
            )
        try:
            image = ImageOps.exif_transpose(image)
            rgb = np.asarray(image.convert("RGB"))
        except Exception as error:  # Pillow's decoders raise OSError, ValueError, SyntaxError, struct.error, ...
            raise ImageError(
                f"image {name!r} is truncated or corrupt ({type(error).__name__}); re-export or re-download it"
            ) from None
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def as_bgr(image: Any, color: str = "bgr", max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Any supported image input → BGR uint8 (H, W, 3).

    NumPy arrays are (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) in the channel order named by ``color``
    ("bgr" as OpenCV reads, "rgb" as PIL and matplotlib do); float arrays are taken as 0–1.
    """
    if isinstance(image, (str, Path)):
        return read_image(image, max_pixels)
    if isinstance(image, (bytes, bytearray, memoryview)):
        return decode_image(bytes(image), max_pixels=max_pixels)
    if isinstance(image, Image.Image):
        if image.width * image.height > max_pixels:
            raise ImageError(
                f"image ({image.width}×{image.height}) has more than {max_pixels:,} pixels; downscale it first"
            )
        return cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR)
    if isinstance(image, np.ndarray):
        return _array_to_bgr(image, color, max_pixels)
    raise ImageError(
        f"cannot use a {type(image).__name__} as an image; pass a path, bytes, a NumPy array (H, W[, C]) or a PIL image"
    )


def _array_to_bgr(array: np.ndarray, color: str, max_pixels: int) -> np.ndarray:
    if color not in ("bgr", "rgb"):
        raise ImageError(f"unknown colour order {color!r}; use 'bgr' (OpenCV) or 'rgb' (PIL, matplotlib)")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)) or 0 in array.shape:
        raise ImageError(f"an image array must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), not {array.shape}")
    if array.shape[0] * array.shape[1] > max_pixels:
        raise ImageError(f"image array {array.shape} has more than {max_pixels:,} pixels; downscale it first")
    if array.dtype != np.uint8:
        if array.dtype == bool or not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
            raise ImageError(f"an image array must hold numbers, not {array.dtype}")
        values = np.nan_to_num(array.astype(np.float32), nan=0.0, posinf=255.0, neginf=0.0)
        if np.issubdtype(array.dtype, np.floating):
            values = values * 255.0
        elif array.dtype.itemsize > 1:  # 16-bit (or wider) integers: keep the top 8 bits' worth of range
            values = values / max(1.0, float(np.iinfo(array.dtype).max) / 255.0)
        array = np.clip(values, 0, 255).astype(np.uint8)
    if array.ndim == 2:
        return cv2.cvtColor(array, cv2.COLOR_GRAY2BGR)
    if array.shape[2] == 4:
        return cv2.cvtColor(array, cv2.COLOR_BGRA2BGR if color == "bgr" else cv2.COLOR_RGBA2BGR)
    return np.ascontiguousarray(array if color == "bgr" else array[:, :, ::-1])
