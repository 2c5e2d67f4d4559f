"""Runs the recogniser over a live source (camera, video file, stream URL) in a background thread."""

from __future__ import annotations

import logging
import threading
from typing import Any

from edgefer.errors import EdgeferError
from edgefer.serve.events import EventHub

log = logging.getLogger("edgefer.serve")


class LiveSource:
    """Feeds ``recognizer.stream(source, keep_frames=True)`` into the hub until the source ends or ``stop()``."""

    def __init__(self, recognizer: Any, source: Any, hub: EventHub) -> None:
        self.source = source
        self._recognizer = recognizer
        self._hub = hub
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="edgefer-live", daemon=True)
        self.state = "starting"  # starting | running | ended | error | stopped
        self.error: str | None = None

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            stream = self._recognizer.stream(self.source, keep_frames=True)
            self.state = "running"
            for result in stream:
                if self._stop.is_set():
                    break
                self._hub.publish(result)
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # releases the camera / file when we stopped early
            self.state = "stopped" if self._stop.is_set() else "ended"
        except EdgeferError as error:
            self.state, self.error = "error", str(error)
            log.error("live source %r: %s", self.source, error)
        except Exception as error:  # a broken camera must not take the HTTP service down with it
            self.state, self.error = "error", f"{type(error).__name__}: {error}"
            log.exception("live source %r failed", self.source)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to stop after the current frame and wait for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def status(self) -> dict:
        return {"source": getattr(self.source, "name", str(self.source)), "state": self.state, "error": self.error}
