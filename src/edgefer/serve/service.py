"""The running parts behind one app (metrics, live source, event hub, MQTT) and their start/stop order."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import anyio
import numpy as np

from edgefer.labels import EMOTIONS
from edgefer.runtime.results import Face
from edgefer.serve.config import ServeConfig
from edgefer.serve.events import EventHub
from edgefer.serve.images import decode_image
from edgefer.serve.live import LiveSource
from edgefer.serve.metrics import Metrics
from edgefer.serve.mqtt import MqttPublisher


class Busy(Exception):
    """More predict requests are waiting than ``max_pending`` allows."""


class Service:
    def __init__(self, recognizer: Any, config: ServeConfig, live_recognizer: Any = None) -> None:
        self.recognizer = recognizer
        self.config = config
        self.metrics = Metrics()
        self.hub = EventHub(config.thing_id, self.metrics, config.event_queue)
        self.live = (
            None if config.source is None else LiveSource(live_recognizer or recognizer, config.source, self.hub)
        )
        self.mqtt = (
            MqttPublisher(config.mqtt_url, config.thing_id, self.metrics, config.mqtt_queue)
            if config.mqtt_url
            else None
        )
        if self.mqtt is not None:
            self.hub.add_listener(self.mqtt.on_event)
        # One upload decoded and recognised at a time (the model already uses every core); the waiting
        # requests are bounded by max_pending, so a flood of uploads cannot pile up in memory.
        self._limiter = anyio.CapacityLimiter(1)
        self._waiting = 0

    @property
    def model_info(self) -> dict:
        info = {"name": "", "backend": "", "detector": "", **self.config.model_info}
        info.setdefault("classes", list(getattr(self.recognizer, "classes", EMOTIONS)))
        info.setdefault("tta", getattr(self.recognizer, "tta", "none"))
        return info

    async def start(self) -> None:
        self.hub.attach(asyncio.get_running_loop())
        if self.mqtt is not None:
            self.mqtt.start()
        if self.live is not None:
            self.live.start()

    def begin_shutdown(self) -> None:
        """First step of a shutdown (from the signal handler): end the SSE streams so connections can close."""
        self.hub.close()

    async def stop(self) -> None:
        """Stop the live source, then flush pending MQTT events and announce offline."""
        self.hub.close()
        timeout = self.config.shutdown_timeout_s
        if self.live is not None:
            await anyio.to_thread.run_sync(self.live.stop, timeout)
        if self.mqtt is not None:
            await anyio.to_thread.run_sync(self.mqtt.close, timeout)

    async def recognize(self, data: bytes) -> tuple[np.ndarray, list[Face], float]:
        """Decode and recognise an uploaded image in a worker thread: (image, faces, seconds taken)."""
        if self._waiting >= self.config.max_pending:
            raise Busy
        self._waiting += 1
        try:
            return await anyio.to_thread.run_sync(self._recognize, data, limiter=self._limiter)
        finally:
            self._waiting -= 1

    def _recognize(self, data: bytes) -> tuple[np.ndarray, list[Face], float]:
        started = time.perf_counter()
        image = decode_image(data, self.config.max_pixels)
        faces = self.recognizer.predict(image)
        seconds = time.perf_counter() - started
        self.metrics.record_prediction(seconds, len(faces))
        return image, faces, seconds
