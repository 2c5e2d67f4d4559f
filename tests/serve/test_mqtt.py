"""Events reach a real mosquitto subscriber, across a broker restart, with status via the last will."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import time

from fastapi.testclient import TestClient
from serve_helpers import wait_for

from edgefer.serve import ServeConfig, create_app
from edgefer.serve.mqtt import parse_broker_url

STATUS = "edgefer/cam1/status"
EXPRESSION = "edgefer/cam1/expression"


def has(index: int, label: str):
    def check(payload: bytes) -> bool:
        event = json.loads(payload)
        return event["index"] == index and event["faces"][0]["label"] == label

    return check


def test_events_reach_a_real_subscriber_across_a_broker_restart(fake, broker, mqtt_probe) -> None:
    probe = mqtt_probe("edgefer/cam1/#")
    app = create_app(fake, ServeConfig(thing_id="cam1", source="fake", mqtt_url=broker.url))
    with TestClient(app) as client:
        assert probe.wait_for(STATUS, lambda p: p == b"online")
        for index, label in enumerate(["happy", "happy", "sad"]):
            fake.push(index, label)
        assert probe.wait_for(EXPRESSION, has(2, "sad"))
        published = [json.loads(p)["index"] for p in probe.received(EXPRESSION)]
        assert published == [0, 2]  # frame 1 did not change the expression
        event = json.loads(probe.received(EXPRESSION)[0])
        assert event["thing_id"] == "cam1" and event["time"].endswith("+00:00")
        assert set(event["faces"][0]) >= {"face_id", "label", "confidence", "scores", "box"}

        broker.stop()
        assert wait_for(lambda: not app.state.service.mqtt.connected.is_set())
        fake.push(3, "angry")  # published while the broker is down: waits in the bounded queue
        broker.start()
        assert probe.wait_for(EXPRESSION, has(3, "angry"), timeout=15)
        assert wait_for(lambda: app.state.service.mqtt.connected.is_set())
        fake.push(4, "fear")
        assert probe.wait_for(EXPRESSION, has(4, "fear"))
        assert client.get("/health").json()["mqtt"]["connected"] is True
        assert client.get("/metrics").json()["mqtt"]["published"] >= 4
        fake.push(5, "surprise")
        assert wait_for(lambda: app.state.service.hub.latest().payload["index"] == 5)
        fake.end()
    # the graceful shutdown flushed the last event, then announced offline
    assert probe.wait_for(EXPRESSION, has(5, "surprise"), timeout=1)
    assert probe.wait_for(STATUS, lambda p: p == b"offline")
    # a new subscriber gets the retained last state
    retained = mqtt_probe("edgefer/cam1/#")
    assert retained.wait_for(EXPRESSION, has(5, "surprise")) and retained.wait_for(STATUS, lambda p: p == b"offline")
    assert all(retain for topic, _, retain in retained.messages)
    if shutil.which("mosquitto_sub"):  # the README's one-liner sees the same
        late = subprocess.run(
            ["mosquitto_sub", "-p", str(broker.port), "-t", "edgefer/cam1/#", "-v", "-C", "2", "-W", "5"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert "edgefer/cam1/status offline" in late.stdout and '"label":"surprise"' in late.stdout


def test_last_will_announces_offline_when_the_service_dies(fake, broker, mqtt_probe) -> None:
    probe = mqtt_probe("edgefer/cam1/status")
    app = create_app(fake, ServeConfig(thing_id="cam1", mqtt_url=broker.url, shutdown_timeout_s=0.5))
    with TestClient(app):
        assert probe.wait_for(STATUS, lambda p: p == b"online")
        mqtt_client = app.state.service.mqtt._client
        mqtt_client.loop_stop()
        mqtt_client.socket().close()  # the connection drops without a DISCONNECT, as when the device dies
        assert probe.wait_for(STATUS, lambda p: p == b"offline")


def test_broker_url_parsing() -> None:
    address = parse_broker_url("mqtts://user:pw@broker.example:8884")
    assert (address.host, address.port, address.tls, address.username, address.password) == (
        "broker.example",
        8884,
        True,
        "user",
        "pw",
    )
    assert address.url == "mqtts://broker.example:8884"  # no credentials in what the TD publishes
    assert parse_broker_url("mqtt://localhost").port == 1883


def test_an_unreachable_broker_is_reported_once_and_the_service_keeps_running(fake, caplog) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(fake, ServeConfig(thing_id="cam1", mqtt_url=f"mqtt://127.0.0.1:{port}"))
    with caplog.at_level(logging.WARNING, logger="edgefer.serve"), TestClient(app) as client:

        def unreachable() -> list[str]:
            return [r.getMessage() for r in caplog.records if "cannot be reached" in r.getMessage()]

        assert wait_for(unreachable, timeout=10)
        time.sleep(2.5)  # paho retries after 1 s, then 2 s: still one warning for the outage
        assert len(unreachable()) == 1 and f"mqtt://127.0.0.1:{port}" in unreachable()[0]
        assert client.get("/health").json()["mqtt"]["connected"] is False
