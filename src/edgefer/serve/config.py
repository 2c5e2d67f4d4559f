"""Everything ``edgefer serve`` can be told, with defaults safe for a small device on a home network."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from edgefer.errors import ConfigError

_THING_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def default_thing_id() -> str:
    """``edgefer-<hostname>``, reduced to characters that are safe in an MQTT topic and a URN."""
    host = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname())[:48].strip("-.") or "device"
    return f"edgefer-{host}"


@dataclass
class ServeConfig:
    thing_id: str = field(default_factory=default_thing_id)
    title: str = "edgefer expression sensor"
    token: str | None = None  # bearer token; None = no authentication
    source: Any = None  # live source: camera index, video file, stream URL or an opened runtime Source
    mqtt_url: str | None = None  # mqtt://host:port
    public_url: str | None = None  # the base URL other devices use; default: the URL the request came in on
    model_info: dict = field(default_factory=dict)  # name, backend, detector for /model (classes, tta: the recognizer)
    max_body_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 25_000_000
    max_pending: int = 16  # predict requests waiting for the model before new ones get 503
    event_queue: int = 64  # per SSE client
    mqtt_queue: int = 100  # messages paho may hold while the broker is away
    shutdown_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if not _THING_ID.match(self.thing_id):
            raise ConfigError(
                f"thing id {self.thing_id!r} is not allowed; use 1-64 letters, digits, '.', '_' or '-' "
                "(it becomes part of the MQTT topic and the TD's URN)"
            )
        if self.token is not None and len(self.token) < 8:
            raise ConfigError(
                "the bearer token is shorter than 8 characters; use a long random one, e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe())'`"
            )
        for name in ("max_body_bytes", "max_pixels", "max_pending", "event_queue", "mqtt_queue"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name.replace('_', '-')} must be at least 1, not {getattr(self, name)}")
        if self.public_url is not None:
            try:
                parts = urlsplit(self.public_url)
            except ValueError:  # e.g. an unclosed IPv6 bracket
                parts = urlsplit("")
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
                raise ConfigError(
                    f"public URL {self.public_url!r} is not an absolute http(s) base URL; give the one other devices "
                    "use, e.g. http://192.168.1.20:8000/"
                )
            if not self.public_url.endswith("/"):
                self.public_url += "/"
