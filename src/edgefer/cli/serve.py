"""`edgefer serve`: the recogniser as a Web Thing (HTTP API, Thing Description, MQTT events, web page)."""

from __future__ import annotations

import argparse
import os
import socket

from edgefer.cli.options import add_recognizer_options
from edgefer.errors import ConfigError

TOKEN_ENV = "EDGEFER_TOKEN"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve recognition over HTTP, as a W3C Web Thing, with MQTT events and a web page",
        description="Start the network service: POST /predict, GET /health, /metrics, the Thing Description at "
        "/.well-known/wot, a web page at /, and for a live --source its state, server-sent events and MQTT events.",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; 0.0.0.0 makes it reachable from the network)",
    )
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    add_recognizer_options(parser)
    parser.add_argument(
        "--source",
        metavar="SOURCE",
        help="live source recognised continuously: camera index (0), video file or stream URL",
    )
    parser.add_argument(
        "--mqtt",
        metavar="URL",
        help="publish live events to this MQTT broker, e.g. mqtt://localhost:1883 "
        "(mqtt://user:password@host:port, or mqtts:// for TLS)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV),
        help=f"require 'Authorization: Bearer TOKEN' on the API (default: ${TOKEN_ENV}; prefer the "
        "variable, since command lines are visible to other users)",
    )
    parser.add_argument("--thing-id", help="id of this Thing in the TD and MQTT topics (default edgefer-<hostname>)")
    parser.add_argument("--title", default="edgefer expression sensor", help="human-readable title in the TD")
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="base URL other devices use to reach this service, for the TD's forms "
        "(default: the URL each request came in on)",
    )
    parser.add_argument(
        "--max-body-mb",
        type=float,
        default=10.0,
        metavar="MB",
        help="largest accepted request body in MiB (default 10)",
    )
    parser.add_argument(
        "--max-pixels",
        type=int,
        default=25_000_000,
        metavar="N",
        help="largest accepted decoded image in pixels (default 25,000,000)",
    )
    parser.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    parser.set_defaults(run=run)


def _check_port_free(host: str, port: int) -> None:
    if not 0 < port < 65536:
        raise ConfigError(f"--port must be between 1 and 65535, not {port}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({error.strerror}); choose another --port or --host"
            ) from None


def run(args: argparse.Namespace) -> int:
    try:
        from edgefer.serve import ServeConfig, build_server, create_app
    except ImportError as error:
        from edgefer.errors import MissingExtraError

        raise MissingExtraError(error.name or "fastapi", "serve", "edgefer serve") from None
    from edgefer.serve.config import default_thing_id
    from edgefer.serve.mqtt import parse_broker_url

    if args.max_body_mb <= 0:
        raise ConfigError(f"--max-body-mb must be positive, not {args.max_body_mb}")
    if args.mqtt is not None:
        parse_broker_url(args.mqtt)  # a typo fails now, not in the background
    config = ServeConfig(  # checks the thing id, token and limits before anything slow happens
        thing_id=args.thing_id or default_thing_id(),
        title=args.title,
        token=args.token or None,
        mqtt_url=args.mqtt,
        public_url=args.public_url,
        max_body_bytes=int(args.max_body_mb * 1024 * 1024),
        max_pixels=args.max_pixels,
    )
    _check_port_free(args.host, args.port)
    from edgefer.recognizer import Recognizer  # imports torch: only once the options are known to be good
    from edgefer.runtime.sources import open_source

    config.source = None if args.source is None else open_source(args.source, args.max_pixels)

    def build_recognizer() -> Recognizer:
        return Recognizer(model=args.model, detector=args.detector, backend=args.backend, tta=args.tta)

    recognizer = build_recognizer()
    config.model_info = {"name": str(args.model), "backend": recognizer.backend.name, "detector": str(args.detector)}
    # The live source runs beside the HTTP requests: it gets its own recogniser (detectors are not thread-safe).
    live_recognizer = None if config.source is None else build_recognizer()
    app = create_app(recognizer, config, live_recognizer)
    server = build_server(app, args.host, args.port, log_level=args.log_level)
    server.run()
    return 0
