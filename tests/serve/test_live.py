"""A live source on a real uvicorn server: latest state, server-sent events, annotated frame, shutdown."""

from __future__ import annotations

import json
import threading
import time

import httpx
import numpy as np
from serve_helpers import wait_for

from edgefer.serve import ServeConfig, create_app


def read_events(response: httpx.Response, count: int) -> list[tuple[str, dict]]:
    events, name = [], None
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            events.append((name, json.loads(line[6:])))
            if len(events) == count:
                break
    return events


def test_state_events_and_frame(fake, run_server) -> None:
    app = create_app(fake, ServeConfig(thing_id="cam", source="fake"))
    frame = np.full((120, 160, 3), 90, np.uint8)
    with run_server(app) as base, httpx.Client(base_url=base, timeout=10) as client:
        assert client.get("/live/state").status_code == 503  # nothing recognised yet
        fake.push(0, "happy", frame=frame)
        assert wait_for(lambda: client.get("/live/state").status_code == 200)
        assert client.get("/live/state").json()["faces"][0]["label"] == "happy"
        jpeg = client.get("/live/frame.jpg")
        assert jpeg.status_code == 200 and jpeg.content.startswith(b"\xff\xd8\xff")

        with (
            client.stream("GET", "/live/events") as every,
            client.stream("GET", "/live/events?changes=true") as changes,
        ):
            assert every.headers["content-type"].startswith("text/event-stream")
            for index, label in enumerate(["happy", "happy", "sad"], start=1):
                fake.push(index, label)
            got = read_events(every, 4)  # the latest state first, then each recognition
            assert [(name, e["index"]) for name, e in got] == [("recognition", i) for i in range(4)]
            got = read_events(changes, 1)  # frames 1 and 2 did not change the expression
            assert [(name, e["index"], e["faces"][0]["label"]) for name, e in got] == [("expressionChanged", 3, "sad")]
        health = client.get("/health").json()
        assert health["live"] == {"source": "fake", "state": "running", "error": None}
        assert client.get("/metrics").json()["live"]["frames"] == 4
        fake.end()
    assert app.state.service.live.state == "ended"


def test_shutdown_ends_open_event_streams(fake, run_server) -> None:
    """A connected SSE client must not hold up a graceful shutdown (uvicorn would wait for it)."""
    app = create_app(fake, ServeConfig(thing_id="cam", source="fake", shutdown_timeout_s=10))
    ended = threading.Event()
    with run_server(app) as base:
        fake.push(0, "neutral")

        def listen() -> None:
            with httpx.stream("GET", f"{base}/live/events", timeout=30) as response:
                for _ in response.iter_lines():
                    pass
            ended.set()

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert wait_for(lambda: len(app.state.service.hub._subscribers) == 1)
        fake.end()
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 3, "the shutdown waited for the event stream"
    assert ended.wait(1), "the event stream was not closed by the shutdown"
