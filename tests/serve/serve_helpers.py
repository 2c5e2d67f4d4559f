"""Helpers for the service tests: a fake recogniser, a server in a thread, a mosquitto broker, an MQTT probe."""

from __future__ import annotations

import contextlib
import io
import queue
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from edgefer.labels import EMOTIONS
from edgefer.runtime.results import Face, FrameResult

MOSQUITTO = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
TD_SCHEMA = Path(__file__).resolve().parents[2].parent / "shared" / "schemas" / "td-json-schema-validation.json"


def one_hot(label: str, p: float = 0.9) -> np.ndarray:
    scores = np.full(len(EMOTIONS), (1 - p) / (len(EMOTIONS) - 1), dtype=np.float32)
    scores[EMOTIONS.index(label)] = p
    return scores


class FakeRecognizer:
    """``predict`` finds one happy face; ``stream`` yields the FrameResults a test puts in ``frames``."""

    classes = EMOTIONS

    def __init__(self) -> None:
        self.frames: queue.Queue[FrameResult | None] = queue.Queue()
        self.predicted_shapes: list[tuple[int, ...]] = []

    def predict(self, image: np.ndarray) -> list[Face]:
        self.predicted_shapes.append(image.shape)
        return [Face((1, 2, 3, 4), one_hot("happy"), EMOTIONS)]

    def stream(self, source: object, keep_frames: bool = False) -> Iterator[FrameResult]:
        while (result := self.frames.get()) is not None:
            if not keep_frames:
                result.frame = None
            yield result

    def end(self) -> None:
        """End the live stream (as a video file ends)."""
        self.frames.put(None)

    def push(self, index: int, *labels: str, frame: np.ndarray | None = None) -> None:
        faces = [Face((10 + 40 * i, 10, 30, 30), one_hot(label), EMOTIONS, face_id=i) for i, label in enumerate(labels)]
        self.frames.put(FrameResult(index, index / 10, faces, "fake", frame))


def encode(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


@contextlib.contextmanager
def running(app) -> Iterator[str]:
    """Run ``app`` on uvicorn on a free loopback port in a thread; yields its base URL."""
    from edgefer.serve import build_server

    port = free_port()
    server = build_server(app, "127.0.0.1", port, log_level="warning")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_for(lambda: server.started), "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.handle_exit(signal.SIGTERM, None)  # what uvicorn's signal handler calls
        thread.join(15)
        assert not thread.is_alive(), "the server did not shut down"


class Broker:
    """A real mosquitto on a loopback port, which a test can restart."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.config = directory / "mosquitto.conf"
        self.config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

        def accepting() -> bool:
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", self.port)) == 0

        assert wait_for(accepting, 10), "mosquitto did not start"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


class MqttProbe:
    """A real MQTT subscriber (paho) that records every message and resubscribes after reconnecting."""

    def __init__(self, port: int, topic_filter: str) -> None:
        import paho.mqtt.client as mqtt

        self.messages: list[tuple[str, bytes, bool]] = []  # (topic, payload, retain)
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic_filter, qos=1)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()

    def _on_message(self, client, userdata, message) -> None:
        with self._lock:
            self.messages.append((message.topic, message.payload, bool(message.retain)))

    def received(self, topic: str) -> list[bytes]:
        with self._lock:
            return [payload for t, payload, _ in self.messages if t == topic]

    def wait_for(self, topic: str, predicate, timeout: float = 10.0) -> bool:
        return wait_for(lambda: any(predicate(payload) for payload in self.received(topic)), timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
