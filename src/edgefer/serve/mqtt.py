"""Publishes expression events to an MQTT broker (paho-mqtt 2.x).

Topic tree (``<base>`` is ``edgefer/<thing-id>``):

- ``<base>/status``: ``online`` / ``offline``, retained, QoS 1; ``offline`` is also the last will, so a
  crash or a lost connection is announced by the broker.
- ``<base>/expression``: the latest recognition as JSON (time, frame index, faces with face_id, label,
  confidence, scores, box), retained, QoS 1, published when a face's expression changes.

paho keeps reconnecting in its own thread (1 s to 30 s back-off); a broker that cannot be reached is logged as a
warning at the first failed attempt of each outage, not at every retry. Messages published while disconnected wait
in paho's queue, bounded by ``queue_size``; past that they are dropped and counted. On every (re)connection
the status and the latest expression are published again, since a restarted broker has lost its retained
messages.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.parse
from dataclasses import dataclass

from edgefer.errors import ConfigError, MissingExtraError
from edgefer.serve.events import Event
from edgefer.serve.metrics import Metrics

log = logging.getLogger("edgefer.serve")

QOS = 1


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None

    @property
    def url(self) -> str:
        """The broker's URL without credentials (safe to publish in the Thing Description)."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_broker_url(url: str) -> BrokerAddress:
    """``mqtt://[user:password@]host[:port]`` (1883) or ``mqtts://...`` (8883, TLS)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ConfigError(
            f"MQTT broker URL {url!r} is not valid; write it as mqtt://host[:port] or mqtts://host[:port]"
        )
    tls = parts.scheme == "mqtts"
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise ConfigError(f"MQTT broker URL {url!r} has an invalid port; use a number from 1 to 65535") from None
    return BrokerAddress(parts.hostname, port, tls, parts.username, parts.password)


def topic_base(thing_id: str) -> str:
    return f"edgefer/{thing_id}"


class MqttPublisher:
    def __init__(self, url: str, thing_id: str, metrics: Metrics, queue_size: int = 100) -> None:
        try:
            import paho.mqtt.client as mqtt
        except ImportError:
            raise MissingExtraError("paho-mqtt", "serve", "publishing to MQTT") from None
        self.broker = parse_broker_url(url)
        self.status_topic = f"{topic_base(thing_id)}/status"
        self.expression_topic = f"{topic_base(thing_id)}/expression"
        self._metrics = metrics
        self._lock = threading.Lock()
        self._latest: bytes | None = None
        # Messages paho accepted and messages the broker acknowledged: the shutdown flush waits for them to
        # meet. Counted under their own condition, never held while calling paho (paho calls on_publish
        # with its own queue lock held, so holding ours around publish() could deadlock).
        self._flushed = threading.Condition()
        self._accepted = 0
        self._acknowledged = 0
        self._queue_full = mqtt.MQTT_ERR_QUEUE_SIZE
        self.connected = threading.Event()
        self._closing = False
        self._unreachable_reported = False
        self._queue_size = queue_size

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"edgefer-{thing_id}")
        client.will_set(self.status_topic, b"offline", qos=QOS, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.max_queued_messages_set(queue_size)
        if self.broker.username is not None:
            client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            client.tls_set()
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        self._client = client

    def start(self) -> None:
        """Connect in the background; the service starts even when the broker is down."""
        self._client.connect_async(self.broker.host, self.broker.port, keepalive=30)
        self._client.loop_start()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("MQTT broker %s refused the connection: %s", self.broker.url, reason_code)
            return
        log.info("MQTT connected to %s", self.broker.url)
        self._unreachable_reported = False
        self.connected.set()
        self._publish(self.status_topic, b"online")
        with self._lock:
            latest = self._latest
        if latest is not None:
            self._publish(self.expression_topic, latest)

    def _on_connect_fail(self, client, userdata) -> None:
        if not self._unreachable_reported and not self._closing:
            self._unreachable_reported = True
            log.warning(
                "MQTT broker %s cannot be reached; events wait in a queue of %d while paho retries every 1-30 s "
                "(check the --mqtt address and that the broker runs)",
                self.broker.url,
                self._queue_size,
            )

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        if not self._closing:
            log.warning("MQTT disconnected from %s (%s); reconnecting", self.broker.url, reason_code)

    def _publish(self, topic: str, payload: bytes) -> None:
        # While disconnected paho answers MQTT_ERR_NO_CONN but keeps the message and sends it on reconnection;
        # only a full queue loses it.
        info = self._client.publish(topic, payload, qos=QOS, retain=True)
        if info.rc == self._queue_full:
            self._metrics.count("mqtt_dropped")
            return
        with self._flushed:
            self._accepted += 1

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self._metrics.count("mqtt_published")
        with self._flushed:
            self._acknowledged += 1
            self._flushed.notify_all()

    def on_event(self, event: Event) -> None:
        """Hub listener: publish the recognition when the expression changed."""
        if not event.changed:
            return
        payload = json.dumps(event.payload, separators=(",", ":")).encode()
        with self._lock:
            self._latest = payload
        self._publish(self.expression_topic, payload)

    def close(self, timeout: float = 3.0) -> None:
        """Flush pending events, announce ``offline`` and disconnect (waits at most ``timeout`` seconds)."""
        self._closing = True
        if self.connected.is_set():
            self._publish(self.status_topic, b"offline")
            with self._flushed:
                self._flushed.wait_for(lambda: self._acknowledged >= self._accepted, timeout)
        self._client.disconnect()
        self._client.loop_stop()
