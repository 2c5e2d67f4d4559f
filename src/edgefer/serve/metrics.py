"""Counters and latency/frame-rate windows behind ``GET /metrics``. Fixed-size windows: memory never grows."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque

import numpy as np


class Metrics:
    """Thread-safe: the HTTP handlers, the live-source thread and the MQTT thread all report here."""

    def __init__(self, window: int = 2048, fps_window_s: float = 5.0) -> None:
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._statuses: Counter[int] = Counter()
        self._predict_latency_ms: deque[float] = deque(maxlen=window)
        self._frame_times: deque[float] = deque(maxlen=window)
        self._fps_window_s = fps_window_s
        self.predictions = 0
        self.faces = 0
        self.frames = 0
        self.events_dropped = 0
        self.mqtt_published = 0
        self.mqtt_dropped = 0

    def record_status(self, status: int) -> None:
        with self._lock:
            self._statuses[status] += 1

    def record_prediction(self, latency_s: float, faces: int) -> None:
        with self._lock:
            self.predictions += 1
            self.faces += faces
            self._predict_latency_ms.append(latency_s * 1000.0)

    def record_frame(self) -> None:
        with self._lock:
            self.frames += 1
            self._frame_times.append(time.monotonic())

    def count(self, name: str, n: int = 1) -> None:
        """Increase one of the plain counters (``events_dropped``, ``mqtt_published``, ``mqtt_dropped``)."""
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def frames_per_second(self) -> float:
        """Live-source frames recognised per second over the last few seconds (0 when idle)."""
        with self._lock:
            now = time.monotonic()
            recent = [t for t in self._frame_times if now - t <= self._fps_window_s]
        if len(recent) < 2:
            return 0.0
        span = now - recent[0]
        return round((len(recent) - 1) / span, 3) if span > 0 else 0.0

    def snapshot(self) -> dict:
        fps = self.frames_per_second()
        with self._lock:
            latencies = np.asarray(self._predict_latency_ms, dtype=np.float64)
            if latencies.size:
                p50, p90, p99 = np.percentile(latencies, [50, 90, 99])
                latency = {
                    "p50": round(p50, 3),
                    "p90": round(p90, 3),
                    "p99": round(p99, 3),
                    "max": round(float(latencies.max()), 3),
                    "window": int(latencies.size),
                }
            else:
                latency = {"p50": None, "p90": None, "p99": None, "max": None, "window": 0}
            return {
                "uptime_s": round(time.monotonic() - self._started, 3),
                "requests": {str(code): n for code, n in sorted(self._statuses.items())},
                "predictions": self.predictions,
                "faces": self.faces,
                "predict_latency_ms": latency,
                "live": {"frames": self.frames, "frames_per_second": fps, "events_dropped": self.events_dropped},
                "mqtt": {"published": self.mqtt_published, "dropped": self.mqtt_dropped},
            }
