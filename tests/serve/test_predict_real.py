"""Predict over HTTP with the real Recognizer on the bundled sample photo."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

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
    assert model["classes"] == list(EMOTIONS)
