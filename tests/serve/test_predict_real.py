"""Predict over HTTP with the real Recognizer on the bundled sample photo."""

from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from edgefer.assets import SAMPLE_IMAGE
from edgefer.labels import EMOTIONS
from edgefer.serve import ServeConfig, create_app


def test_predict_sample_photo_over_http(real_recognizer) -> None:
    expected = [face.to_dict() for face in real_recognizer.predict(SAMPLE_IMAGE)]
    assert expected, "the detector finds the astronaut's face when called directly"
    data = SAMPLE_IMAGE.read_bytes()
    with TestClient(create_app(real_recognizer, ServeConfig(thing_id="t"))) as client:
        raw = client.post("/predict", content=data, headers={"content-type": "image/png"})
        form = client.post("/predict", files={"file": ("astronaut.png", data, "image/png")})
        model = client.get("/model").json()
    assert raw.status_code == 200, raw.text
    body = raw.json()
    assert (body["width"], body["height"]) == (512, 512) and body["latency_ms"] > 0
    assert body["faces"] == expected == form.json()["faces"]  # HTTP decoding = decoding the file
    face = body["faces"][0]
    x, y, w, h = face["box"]
    assert 0 <= x < x + w <= 512 and 0 <= y < y + h <= 512
    assert list(face["scores"]) == list(EMOTIONS) and np.isclose(sum(face["scores"].values()), 1, atol=1e-4)
    assert face["label"] == max(face["scores"], key=face["scores"].get)
    assert model["classes"] == list(EMOTIONS) and model["tta"] == real_recognizer.tta == "none"


def _encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _odd_images() -> dict[str, tuple[bytes, tuple[int, int]]]:
    """Valid images in unusual modes and sizes: each must give 200 (maybe no face), never a 5xx."""
    rotated = Image.new("RGB", (40, 20), "white")
    exif = rotated.getexif()
    exif[0x0112] = 6  # EXIF orientation: rotate 90° clockwise on display
    return {
        "1x1": (_encoded(Image.new("RGB", (1, 1)), "PNG"), (1, 1)),
        "grey": (_encoded(Image.new("L", (30, 20), 128), "PNG"), (30, 20)),
        "rgba": (_encoded(Image.new("RGBA", (30, 20), (1, 2, 3, 0)), "PNG"), (30, 20)),
        "16-bit": (_encoded(Image.new("I;16", (30, 20), 40000), "PNG"), (30, 20)),
        "palette": (_encoded(Image.new("P", (30, 20), 3), "PNG"), (30, 20)),
        "cmyk-jpeg": (_encoded(Image.new("CMYK", (30, 20), (0, 50, 100, 0)), "JPEG"), (30, 20)),
        "webp": (_encoded(Image.new("RGB", (30, 20), "red"), "WEBP"), (30, 20)),
        "bmp": (_encoded(Image.new("RGB", (30, 20), "blue"), "BMP"), (30, 20)),
        "exif-rotated": (_encoded(rotated, "JPEG", exif=exif), (20, 40)),
    }


@pytest.mark.parametrize("name", list(_odd_images()))
def test_unusual_but_valid_images_are_recognised(real_recognizer, name: str) -> None:
    data, (width, height) = _odd_images()[name]
    with TestClient(create_app(real_recognizer, ServeConfig(thing_id="t"))) as client:
        response = client.post("/predict", content=data)
    assert response.status_code == 200, response.text
    assert (response.json()["width"], response.json()["height"]) == (width, height)
