"""Network service: HTTP API, W3C WoT Thing Description, MQTT events and a web page (``edgefer serve``).

Needs the ``serve`` extra (FastAPI, uvicorn, paho-mqtt, python-multipart).
"""

from edgefer.serve.app import create_app
from edgefer.serve.config import ServeConfig
from edgefer.serve.server import build_server

__all__ = ["ServeConfig", "build_server", "create_app"]
