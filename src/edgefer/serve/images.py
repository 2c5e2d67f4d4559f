"""Turn untrusted uploaded bytes into a BGR image, refusing anything that is not a plain photo of sane size.

The format is decided by the file's magic bytes, never by its name or declared type, and PIL is told to try
only that format. The pixel count is checked from the header before any pixel is decoded, so a small file
that expands to gigabytes (a decompression bomb) is refused without being decompressed.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps

from edgefer.errors import ImageError

# Declared content types a client may send; anything else is refused before decoding.
ACCEPTED_CONTENT_TYPES: tuple[str, ...] = (
    "image/jpeg",
    "image/png",
    "image/bmp",
    "image/webp",
    "application/octet-stream",
)


class ImageTooLarge(ImageError):
    """The upload, or the image it decodes to, exceeds the configured limit."""


class UnsupportedImage(ImageError):
    """The upload is not one of the accepted image formats."""


def sniff_format(data: bytes) -> str | None:
    """The PIL format name of ``data`` from its magic bytes, or None for anything we do not accept."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"BM") and len(data) > 26:
        return "BMP"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def check_content_type(content_type: str | None) -> None:
    """Refuse a declared type that cannot be an image (a missing type is allowed: the bytes decide)."""
    if not content_type:
        return
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in ACCEPTED_CONTENT_TYPES:
        raise UnsupportedImage(
            f"content type {media_type!r} is not accepted; send a JPEG, PNG, BMP or WebP image "
            f"({', '.join(ACCEPTED_CONTENT_TYPES)})"
        )


def decode_image(data: bytes, max_pixels: int) -> np.ndarray:
    """Decode an uploaded JPEG/PNG/BMP/WebP into a BGR uint8 array (H, W, 3), EXIF orientation applied."""
    if not data:
        raise ImageError("the upload is empty; send the image bytes as the request body or a 'file' form field")
    fmt = sniff_format(data)
    if fmt is None:
        raise UnsupportedImage("the upload is not a JPEG, PNG, BMP or WebP image (its first bytes say otherwise)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[fmt])
            width, height = image.size
            if width * height > max_pixels:
                raise ImageTooLarge(
                    f"the image is {width}x{height} = {width * height} pixels, over the limit of {max_pixels}; "
                    "downscale it before sending"
                )
            image.load()
            rgb = ImageOps.exif_transpose(image).convert("RGB")
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge(f"the image decodes to over {max_pixels} pixels; downscale it before sending") from None
    except Exception as error:  # PIL raises OSError, SyntaxError, ValueError... for broken files
        raise ImageError(
            f"the {fmt} image is truncated or corrupt ({type(error).__name__}); send the complete file"
        ) from None
    return np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])
