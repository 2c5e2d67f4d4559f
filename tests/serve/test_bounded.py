"""Slow consumers never grow memory: SSE clients and the MQTT queue drop the oldest / newest and count it."""

from __future__ import annotations

import asyncio
import json

from serve_helpers import free_port, one_hot

from edgefer.labels import EMOTIONS
from edgefer.runtime.results import Face, FrameResult
from edgefer.serve.events import Event, EventHub, event_payload
from edgefer.serve.metrics import Metrics
from edgefer.serve.mqtt import MqttPublisher


def frame(index: int, label: str) -> FrameResult:
    return FrameResult(index, index / 10, [Face((0, 0, 8, 8), one_hot(label), EMOTIONS, face_id=1)])


def test_a_stalled_event_client_keeps_only_the_newest_events() -> None:
    metrics = Metrics()
    hub = EventHub("t", metrics, queue_size=4)

    async def scenario() -> list[int]:
        hub.attach(asyncio.get_running_loop())
        with hub.subscribe() as subscriber:
            for index in range(50):
                hub.publish(frame(index, EMOTIONS[index % 7]))
            await asyncio.sleep(0.01)  # let the loop deliver
            assert subscriber.queue.qsize() == 4
            return [subscriber.queue.get_nowait().payload["index"] for _ in range(4)]

    assert asyncio.run(scenario()) == [46, 47, 48, 49]
    assert metrics.events_dropped == 46


def test_mqtt_queue_is_bounded_while_the_broker_is_away() -> None:
    metrics = Metrics()
    publisher = MqttPublisher(f"mqtt://127.0.0.1:{free_port()}", "t", metrics, queue_size=3)  # nobody listens
    for index in range(10):
        publisher.on_event(Event(event_payload(frame(index, EMOTIONS[index % 7]), "t"), changed=True))
    assert metrics.mqtt_dropped == 7 and metrics.mqtt_published == 0
    assert json.loads(publisher._latest)["index"] == 9  # re-sent first when the broker comes back
    publisher.close(timeout=0.1)
