import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from edgefer.errors import ImageError
from edgefer.runtime.images import as_bgr, decode_image, read_image


def _png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_png_decodes_to_bgr():
    rgb = np.zeros((4, 5, 3), np.uint8)
    rgb[..., 0] = 255  # red
    bgr = decode_image(_png_bytes(rgb))
    assert bgr.shape == (4, 5, 3) and bgr.dtype == np.uint8
    assert (bgr[..., 2] == 255).all() and (bgr[..., 0] == 0).all()


def test_missing_and_zero_byte_files(tmp_path):
    with pytest.raises(ImageError, match="does not exist"):
        read_image(tmp_path / "absent.jpg")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        read_image(empty)


def test_truncated_image_and_renamed_text_file(tmp_path):
    truncated = tmp_path / "cut.png"
    data = _png_bytes(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="truncated or corrupt"):
        read_image(truncated)
    text = tmp_path / "notes.jpg"
    text.write_text("this is not a picture\n")
    with pytest.raises(ImageError, match="not an image"):
        read_image(text)


def test_huge_image_refused_from_its_header_without_decoding():
    # A valid 1×1 PNG whose header is rewritten to claim 60000×60000 pixels (3.6 gigapixels).
    data = bytearray(_png_bytes(np.zeros((1, 1, 3), np.uint8)))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", 60000, 60000)
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr : ihdr + 17])))
    start = time.perf_counter()
    with pytest.raises(ImageError, match="more than"):
        decode_image(bytes(data))
    assert time.perf_counter() - start < 1.0
    with pytest.raises(ImageError, match="more than 10 pixels"):
        decode_image(_png_bytes(np.zeros((4, 4, 3), np.uint8)), max_pixels=10)


def test_array_inputs_in_either_colour_order_grey_float_and_pil():
    rgb = np.zeros((3, 3, 3), np.uint8)
    rgb[..., 0] = 200
    from_rgb = as_bgr(rgb, color="rgb")
    assert from_rgb[0, 0].tolist() == [0, 0, 200]
    assert as_bgr(rgb, color="bgr")[0, 0].tolist() == [200, 0, 0]
    assert as_bgr(Image.fromarray(rgb))[0, 0].tolist() == [0, 0, 200]
    assert as_bgr(np.full((2, 2), 0.5, np.float32))[0, 0].tolist() == [127, 127, 127]
    assert as_bgr(np.zeros((2, 2, 4), np.uint8)).shape == (2, 2, 3)


@pytest.mark.parametrize("shape", [(0, 5, 3), (5, 5, 2), (5,), (2, 2, 2, 3)])
def test_bad_array_shapes(shape):
    with pytest.raises(ImageError, match="image array must be"):
        as_bgr(np.zeros(shape, np.uint8))


def test_unsupported_input_type():
    with pytest.raises(ImageError, match="cannot use a dict"):
        as_bgr({})
