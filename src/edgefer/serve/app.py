"""The HTTP service: ``create_app(recognizer, config)`` returns a FastAPI app (run it with ``run_server``).

No route reads a file path from the request: images arrive as bytes, and the only files served are the
package's own page.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from http import HTTPStatus
from importlib import resources
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPBearer
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edgefer import __version__
from edgefer.errors import ImageError
from edgefer.serve.config import ServeConfig
from edgefer.serve.events import CLOSED
from edgefer.serve.images import ImageTooLarge, UnsupportedImage, check_content_type
from edgefer.serve.metrics import Metrics
from edgefer.serve.schemas import ErrorOut, HealthOut, ModelOut, PredictOut
from edgefer.serve.security import BodyLimitMiddleware, error_body, token_matches
from edgefer.serve.service import Busy, Service
from edgefer.serve.td import TD_MEDIA_TYPE, thing_description

log = logging.getLogger("edgefer.serve")

SSE_PING_S = 15.0
# Declares the scheme in the OpenAPI document; the check itself is token_matches (constant time).
_BEARER = HTTPBearer(auto_error=False, description="The token given to `edgefer serve --token`")
# The page is self-contained: it may talk only to this server, and may not be framed by another site.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": HTTPStatus(code).phrase} for code in (400, 401, 413, 415, 422, 503)
}
_IMAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            **{
                t: {"schema": {"type": "string", "format": "binary"}}
                for t in ("image/jpeg", "image/png", "image/bmp", "image/webp", "application/octet-stream")
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}


class StatusCountMiddleware:
    """Counts responses by status code for /metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.metrics.record_status(message["status"])
            await send(message)

        await self.app(scope, receive, counting_send)


def _error(status: int, message: str, code: str | None = None, headers: dict | None = None) -> JSONResponse:
    code = code or HTTPStatus(status).phrase.lower().replace(" ", "_")
    return JSONResponse(error_body(status, code, message), status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return _error(error.status_code, str(error.detail), headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(422, f"invalid request at {where or 'request'}: {first.get('msg', 'invalid value')}")

    @app.exception_handler(ImageError)
    async def image_error(request: Request, error: ImageError) -> JSONResponse:
        if isinstance(error, ImageTooLarge):
            return _error(413, str(error), "image_too_large")
        if isinstance(error, UnsupportedImage):
            return _error(415, str(error), "unsupported_image")
        return _error(400, str(error), "bad_image")

    @app.exception_handler(Busy)
    async def busy(request: Request, error: Busy) -> JSONResponse:
        return _error(503, "too many recognitions are waiting; retry in a moment", "busy", {"Retry-After": "1"})

    @app.exception_handler(Exception)
    async def internal(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(500, "internal error; the server log has the details", "internal_error")


def _page() -> str:
    return resources.files("edgefer.serve").joinpath("static/index.html").read_text(encoding="utf-8")


def create_app(recognizer: Any, config: ServeConfig | None = None, live_recognizer: Any = None) -> FastAPI:
    """Build the service around ``recognizer`` (anything with ``predict(image)`` and ``stream(source)``).

    HTTP requests use ``recognizer`` one at a time. The live source runs in its own thread at the same time,
    so give it its own ``live_recognizer`` unless ``recognizer`` is thread-safe (OpenCV's detectors are not).
    """
    config = config or ServeConfig()
    service = Service(recognizer, config, live_recognizer)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    app = FastAPI(
        title="edgefer",
        version=__version__,
        description="Facial expression recognition as a Web Thing. Thing Description: /.well-known/wot",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI loads its scripts from a CDN, which an offline device cannot reach
        redoc_url=None,
    )
    app.state.service = service
    app.add_middleware(BodyLimitMiddleware, max_bytes=config.max_body_bytes)
    app.add_middleware(StatusCountMiddleware, metrics=service.metrics)
    _install_error_handlers(app)

    async def require_token(request: Request, _: Annotated[Any, Depends(_BEARER)]) -> None:
        if not token_matches(request.headers.get("authorization"), config.token or ""):
            raise HTTPException(
                401,
                "missing or wrong bearer token; send the header Authorization: Bearer <token>",
                headers={"WWW-Authenticate": 'Bearer realm="edgefer"'},
            )

    guarded = [Depends(require_token)] if config.token else []
    page = _page()

    @app.get("/", include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(page, headers=_PAGE_HEADERS)

    @app.get("/health", response_model=HealthOut, tags=["service"])
    async def health() -> dict:
        mqtt = service.mqtt
        return {
            "status": "ok",
            "thing_id": config.thing_id,
            "auth": config.token is not None,
            "live": None if service.live is None else service.live.status(),
            "mqtt": None
            if mqtt is None
            else {
                "broker": mqtt.broker.url,
                "connected": mqtt.connected.is_set(),
                "status_topic": mqtt.status_topic,
                "expression_topic": mqtt.expression_topic,
            },
        }

    def _td(request: Request) -> Response:
        mqtt = service.mqtt
        td = thing_description(
            thing_id=config.thing_id,
            title=config.title,
            base_url=config.public_url or str(request.base_url),
            secured=config.token is not None,
            live=service.live is not None,
            broker=None if mqtt is None else mqtt.broker,
            expression_topic=None if mqtt is None else mqtt.expression_topic,
        )
        return Response(json.dumps(td, indent=2), media_type=TD_MEDIA_TYPE)

    app.get("/.well-known/wot", tags=["web of things"], summary="Thing Description (TD 1.1)")(_td)
    app.get("/td", tags=["web of things"], summary="Thing Description (TD 1.1)")(_td)

    @app.get("/model", response_model=ModelOut, dependencies=guarded, responses=_ERRORS, tags=["service"])
    async def model() -> dict:
        return service.model_info

    @app.post(
        "/predict",
        response_model=PredictOut,
        dependencies=guarded,
        responses=_ERRORS,
        openapi_extra=_IMAGE_BODY,
        tags=["recognition"],
    )
    async def predict(request: Request) -> dict:
        """Recognise the faces in one image, sent as the raw body or as the multipart field ``file``."""
        content_type = request.headers.get("content-type", "")
        if content_type.lower().startswith("multipart/form-data"):
            async with request.form(max_files=1, max_fields=4) as form:
                upload = form.get("file")
                if not isinstance(upload, UploadFile):
                    raise HTTPException(
                        422, "the multipart form has no file field named 'file'; send the image as -F file=@photo.jpg"
                    )
                check_content_type(upload.content_type)
                data = await upload.read()
        else:
            check_content_type(content_type)
            data = await request.body()
        image, faces, seconds = await service.recognize(data)
        return {
            "width": int(image.shape[1]),
            "height": int(image.shape[0]),
            "latency_ms": round(seconds * 1000, 3),
            "faces": [face.to_dict() for face in faces],
        }

    @app.get("/metrics", dependencies=guarded, responses=_ERRORS, tags=["service"])
    async def metrics() -> dict:
        """Request counts by status, recognition latency percentiles (ms), live frames per second, MQTT."""
        return service.metrics.snapshot()

    @app.get("/metrics/fps", response_model=float, dependencies=guarded, responses=_ERRORS, tags=["service"])
    async def fps() -> float:
        return service.metrics.frames_per_second()

    def _need_live() -> None:
        if service.live is None:
            raise HTTPException(404, "no live source is configured; start the server with --source CAMERA|VIDEO|URL")

    @app.get("/live/state", dependencies=guarded, responses=_ERRORS | {404: {"model": ErrorOut}}, tags=["live"])
    async def live_state() -> dict:
        """The latest recognition of the live source."""
        _need_live()
        latest = service.hub.latest()
        if latest is None:
            raise HTTPException(
                503, "no frame has been recognised yet; retry in a moment", headers={"Retry-After": "1"}
            )
        return latest.payload

    @app.get(
        "/live/frame.jpg",
        dependencies=guarded,
        responses=_ERRORS | {404: {"model": ErrorOut}},
        response_class=Response,
        tags=["live"],
    )
    async def live_frame() -> Response:
        """The latest live frame, with boxes and scores drawn, as JPEG."""
        _need_live()
        latest = service.hub.latest_frame()
        if latest is None:
            raise HTTPException(404, "the live source has produced no frame yet (or the recogniser keeps none)")
        jpeg = await asyncio.to_thread(_annotated_jpeg, *latest)
        return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    @app.get(
        "/live/events",
        dependencies=guarded,
        responses=_ERRORS | {404: {"model": ErrorOut}},
        response_class=StreamingResponse,
        tags=["live"],
    )
    async def live_events(
        changes: Annotated[bool, Query(description="only when an expression changes")] = False,
    ) -> Response:
        """Server-sent events: each recognition (``event: recognition``), or with ``changes=true`` only the
        ones where an expression changed (``event: expressionChanged``)."""
        _need_live()
        name = "expressionChanged" if changes else "recognition"

        async def stream() -> AsyncIterator[str]:
            with service.hub.subscribe(changes_only=changes) as subscriber:
                latest = service.hub.latest()
                if latest is not None and not changes:
                    yield _sse(name, latest.payload)
                while True:
                    try:
                        event = await asyncio.wait_for(subscriber.queue.get(), SSE_PING_S)
                    except asyncio.TimeoutError:
                        yield ": ping\n\n"
                        continue
                    if event is CLOSED:
                        return
                    yield _sse(name, event.payload)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )

    return app


def _sse(name: str, payload: dict) -> str:
    return f"event: {name}\nid: {payload['index']}\ndata: {json.dumps(payload, separators=(',', ':'))}\n\n"


def _annotated_jpeg(frame: Any, result: Any) -> bytes:
    import cv2

    from edgefer.runtime.annotate import draw_faces

    ok, encoded = cv2.imencode(".jpg", draw_faces(frame.copy(), result.faces), [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise ImageError("the live frame could not be encoded as JPEG")
    return encoded.tobytes()
