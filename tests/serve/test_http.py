"""The HTTP API with a fake recogniser: routes, bad input → 4xx JSON, auth, metrics, OpenAPI."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from edgefer.serve import ServeConfig, create_app

TOKEN = "s3cret-token-for-tests"


def client_for(fake, **config) -> TestClient:
    return TestClient(create_app(fake, ServeConfig(thing_id="test-thing", **config)))


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["status"] == status and error["message"]
    assert "Traceback" not in response.text
    return error


def test_health_and_page(fake) -> None:
    with client_for(fake) as client:
        health = client.get("/health").json()
        assert health == {"status": "ok", "thing_id": "test-thing", "auth": False, "live": None, "mqtt": None}
        page = client.get("/")
        assert page.status_code == 200 and 'id="file"' in page.text


def test_model_reports_the_recognizers_classes_and_tta(fake) -> None:
    fake.tta = "multicrop"
    with client_for(fake) as client:
        model = client.get("/model").json()
    assert model["tta"] == "multicrop" and model["classes"] == list(fake.classes)


def test_predict_raw_body_and_multipart(fake, png_bytes: bytes) -> None:
    with client_for(fake) as client:
        raw = client.post("/predict", content=png_bytes, headers={"content-type": "image/png"})
        assert raw.status_code == 200, raw.text
        body = raw.json()
        assert (body["width"], body["height"]) == (64, 48)
        assert body["faces"][0]["label"] == "happy" and body["faces"][0]["box"] == [1, 2, 3, 4]
        form = client.post("/predict", files={"file": ("x.png", png_bytes, "image/png")})
        assert form.status_code == 200 and form.json()["faces"] == body["faces"]
    assert fake.predicted_shapes == [(48, 64, 3), (48, 64, 3)]  # decoded to BGR (H, W, 3)


def test_bad_uploads_get_4xx_json(fake, png_bytes: bytes) -> None:
    with client_for(fake, max_body_bytes=4096, max_pixels=100_000) as client:
        assert_error(client.post("/predict", content=b"\0" * 5000, headers={"content-type": "image/png"}), 413)
        big = Image.new("L", (400, 400))  # 160,000 pixels, a tiny file
        error = assert_error(client.post("/predict", content=_png(big), headers={"content-type": "image/png"}), 413)
        assert error["code"] == "image_too_large"
        assert_error(
            client.post("/predict", content=png_bytes[: len(png_bytes) // 2], headers={"content-type": "image/png"}),
            400,
        )
        assert_error(client.post("/predict", content=b"GIF89a not accepted"), 415)
        assert_error(client.post("/predict", content=png_bytes, headers={"content-type": "text/plain"}), 415)
        assert_error(client.post("/predict", content=b"", headers={"content-type": "image/png"}), 400)
        assert_error(client.post("/predict", files={"other": ("x.png", png_bytes, "image/png")}), 422)
        assert_error(client.post("/predict", files={"file": ("x.txt", png_bytes, "text/plain")}), 415)
        assert_error(client.get("/live/state"), 404)
        assert_error(client.get("/no/such/route"), 404)
    assert fake.predicted_shapes == []  # nothing bad ever reached the recogniser


def test_body_limit_without_content_length(fake) -> None:
    """A chunked upload has no Content-Length: the limit is enforced while the body streams in."""

    def chunks():
        for _ in range(10):
            yield b"\x89PNG\r\n\x1a\n" + b"\0" * 1000

    with client_for(fake, max_body_bytes=4096) as client:
        assert_error(client.post("/predict", content=chunks(), headers={"content-type": "image/png"}), 413)


def test_bearer_token(fake, png_bytes: bytes) -> None:
    with client_for(fake, token=TOKEN) as client:

        def post(headers: dict):
            return client.post("/predict", content=png_bytes, headers={"content-type": "image/png", **headers})

        error = assert_error(post({}), 401)
        assert "Bearer" in error["message"]
        assert_error(post({"authorization": f"Bearer {TOKEN}x"}), 401)
        assert_error(post({"authorization": f"Basic {TOKEN}"}), 401)
        assert post({"authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert_error(client.get("/metrics"), 401)
        # discovery stays public: the TD says how to authenticate
        assert client.get("/health").json()["auth"] is True
        td = client.get("/.well-known/wot").json()
        assert td["security"] == ["bearer_sc"] and td["securityDefinitions"]["bearer_sc"]["scheme"] == "bearer"
        schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
        assert schemes["HTTPBearer"]["scheme"] == "bearer"


def test_metrics_counts_and_percentiles(fake, png_bytes: bytes) -> None:
    with client_for(fake) as client:
        for _ in range(3):
            client.post("/predict", content=png_bytes, headers={"content-type": "image/png"})
        client.post("/predict", content=b"junk")
        metrics = client.get("/metrics").json()
    assert metrics["predictions"] == 3 and metrics["faces"] == 3
    assert metrics["requests"]["200"] == 3 and metrics["requests"]["415"] == 1
    latency = metrics["predict_latency_ms"]
    assert latency["window"] == 3 and 0 < latency["p50"] <= latency["p99"] <= latency["max"]


def test_busy_server_answers_503(fake, png_bytes: bytes) -> None:
    app = create_app(fake, ServeConfig(thing_id="t", max_pending=1))
    with TestClient(app) as client:
        app.state.service._waiting = 1  # one recognition already waiting
        assert_error(client.post("/predict", content=png_bytes), 503)


@pytest.mark.parametrize("path", ["/.well-known/wot", "/td"])
def test_td_media_type(fake, path: str) -> None:
    with client_for(fake) as client:
        response = client.get(path)
    assert response.headers["content-type"].startswith("application/td+json")
    assert response.json()["id"] == "urn:edgefer:test-thing"


def _png(image: Image.Image) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
