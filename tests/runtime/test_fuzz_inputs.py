"""Property tests: whatever bytes or arrays come in, the decoder and ``Recognizer.predict`` either work or raise
our own ImageError, never anything else."""

import cv2
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from edgefer.errors import ImageError
from edgefer.runtime.images import decode_image

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _encoded(extension: str) -> bytes:
    image = np.random.default_rng(1).integers(0, 255, (24, 32, 3), dtype=np.uint8)
    return cv2.imencode(extension, image)[1].tobytes()


SEEDS = [_encoded(ext) for ext in (".png", ".jpg", ".bmp", ".webp", ".tiff")]


@st.composite
def mutated_images(draw: st.DrawFn) -> bytes:
    """A real encoded image with some bytes overwritten and maybe cut short: reaches deep into the decoders."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(1, len(data)))])


def _check_decoded(image: np.ndarray) -> None:
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3


@FUZZ
@given(data=st.one_of(st.binary(max_size=2048), mutated_images()))
def test_decoder_raises_only_image_error(data):
    try:
        image = decode_image(data)
    except ImageError:
        return
    _check_decoded(image)


@FUZZ
@given(data=st.one_of(st.binary(max_size=512), mutated_images()))
def test_predict_on_random_bytes(recognizer, data):
    try:
        faces = recognizer.predict(data)
    except ImageError:
        return
    assert isinstance(faces, list)


array_dtypes = st.sampled_from([np.uint8, np.uint16, np.int32, np.float32, np.float64, np.bool_])


@FUZZ
@given(
    array=hnp.arrays(dtype=array_dtypes, shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=64)),
    color=st.sampled_from(["bgr", "rgb"]),
)
def test_predict_on_random_arrays(recognizer, array, color):
    try:
        faces = recognizer.predict(array, color=color)
    except ImageError:
        return
    for face in faces:
        assert abs(float(face.scores.sum()) - 1.0) < 1e-4
