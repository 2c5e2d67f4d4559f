"""The live state and its fan-out: the recognition thread publishes, SSE clients and listeners receive.

Every subscriber has its own bounded queue; when a client reads too slowly its oldest events are dropped
(and counted), so a stalled client never makes the server's memory grow.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from edgefer.runtime.results import FrameResult
from edgefer.serve.metrics import Metrics

CLOSED = object()  # put in a subscriber's queue when the service shuts down


@dataclass(frozen=True)
class Event:
    payload: dict
    changed: bool  # whether the set of (face, label) differs from the previous frame's


def expression_signature(result: FrameResult) -> tuple[tuple[int, str], ...]:
    """What "the expression changed" compares: each face's identity and label."""
    return tuple(sorted((i if f.face_id is None else f.face_id, f.label) for i, f in enumerate(result.faces)))


def event_payload(result: FrameResult, thing_id: str) -> dict:
    """The JSON of one recognition, as sent over SSE and MQTT: the frame's result plus who and when."""
    payload = result.to_dict()
    payload["thing_id"] = thing_id
    payload["time"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")
    return payload


class Subscriber:
    def __init__(self, queue_size: int, changes_only: bool) -> None:
        self.queue: asyncio.Queue = asyncio.Queue(maxsize=queue_size)
        self.changes_only = changes_only

    def offer(self, item: object) -> bool:
        """Enqueue without blocking; drops the oldest item when full. False when something was dropped."""
        dropped = False
        while True:
            try:
                self.queue.put_nowait(item)
                return not dropped
            except asyncio.QueueFull:
                self.queue.get_nowait()
                dropped = True


class EventHub:
    """Holds the latest live state and fans each recognition out to subscribers and listeners."""

    def __init__(self, thing_id: str, metrics: Metrics, queue_size: int = 64) -> None:
        self.thing_id = thing_id
        self._metrics = metrics
        self._queue_size = queue_size
        self._lock = threading.Lock()
        self._latest: Event | None = None
        self._latest_frame: tuple[np.ndarray, FrameResult] | None = None
        self._signature: tuple | None = None
        self._subscribers: set[Subscriber] = set()
        self._listeners: list[Callable[[Event], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bind to the server's event loop (SSE queues live there)."""
        self._loop = loop

    def add_listener(self, listener: Callable[[Event], None]) -> None:
        """Call ``listener(event)`` in the publishing thread for each recognition (e.g. the MQTT publisher)."""
        self._listeners.append(listener)

    def publish(self, result: FrameResult) -> Event:
        """Record one recognition (called from the live-source thread) and deliver it to everyone."""
        signature = expression_signature(result)
        with self._lock:
            changed = signature != self._signature
            self._signature = signature
            event = Event(event_payload(result, self.thing_id), changed)
            self._latest = event
            if result.frame is not None:
                self._latest_frame = (result.frame, result)
        self._metrics.record_frame()
        for listener in self._listeners:
            listener(event)
        if self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # loop closed between the check and the call
                self._loop.call_soon_threadsafe(self._fan_out, event)
        return event

    def latest(self) -> Event | None:
        with self._lock:
            return self._latest

    def latest_frame(self) -> tuple[np.ndarray, FrameResult] | None:
        with self._lock:
            return self._latest_frame

    def _fan_out(self, event: Event) -> None:
        for subscriber in list(self._subscribers):
            if (event.changed or not subscriber.changes_only) and not subscriber.offer(event):
                self._metrics.count("events_dropped")

    @contextlib.contextmanager
    def subscribe(self, changes_only: bool = False) -> Iterator[Subscriber]:
        """A queue of future events for one client (use inside the event loop)."""
        subscriber = Subscriber(self._queue_size, changes_only)
        if self.closed:
            subscriber.offer(CLOSED)
        self._subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)

    def close(self) -> None:
        """End every subscription (thread-safe; called when the server begins to shut down)."""
        self.closed = True
        if self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._close_subscribers)

    def _close_subscribers(self) -> None:
        for subscriber in list(self._subscribers):
            subscriber.offer(CLOSED)
