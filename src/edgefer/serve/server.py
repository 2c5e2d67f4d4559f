"""Running the app on uvicorn with a graceful shutdown.

On SIGINT/SIGTERM uvicorn stops accepting connections and waits for open ones to finish before it runs the
app's shutdown (which flushes MQTT and announces offline). Server-sent-event streams never finish on their
own, so the signal first ends them; requests still running get ``shutdown_timeout_s`` to complete.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from edgefer.errors import MissingExtraError


def build_server(app: FastAPI, host: str, port: int, log_level: str = "info", max_connections: int = 64) -> Any:
    """A ``uvicorn.Server`` for ``app``; call ``.run()`` (blocking) or ``.serve()`` (async)."""
    try:
        import uvicorn
    except ImportError:
        raise MissingExtraError("uvicorn", "serve", "edgefer serve") from None

    service = app.state.service

    class _Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            service.begin_shutdown()
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        limit_concurrency=max_connections,  # beyond this uvicorn answers 503 instead of queueing
        timeout_graceful_shutdown=service.config.shutdown_timeout_s,
        timeout_keep_alive=5,
        server_header=False,
        proxy_headers=False,
    )
    return _Server(config)
