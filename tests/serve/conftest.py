"""Fixtures for the service tests (the helpers behind them are in serve_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from serve_helpers import MOSQUITTO, Broker, FakeRecognizer, MqttProbe, encode, running


@pytest.fixture
def fake() -> Iterator[FakeRecognizer]:
    recognizer = FakeRecognizer()
    yield recognizer
    recognizer.end()  # a live thread the test left running


@pytest.fixture
def png_bytes() -> bytes:
    return encode(Image.new("RGB", (64, 48), (200, 120, 40)))


@pytest.fixture
def run_server():
    """``with run_server(app) as base_url: ...``"""
    return running


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto; .ci/run does it)")
    broker = Broker(tmp_path)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def mqtt_probe(broker: Broker):
    """``mqtt_probe(topic_filter)`` subscribes a new recording client to the test broker."""
    probes: list[MqttProbe] = []

    def make(topic_filter: str) -> MqttProbe:
        probes.append(MqttProbe(broker.port, topic_filter))
        return probes[-1]

    yield make
    for probe in probes:
        probe.close()


@pytest.fixture(scope="session")
def real_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised registered model saved as a weights file (the plumbing is under test)."""
    import torch

    from edgefer.models import create_model, save_weights

    torch.manual_seed(0)
    return save_weights(tmp_path_factory.mktemp("serve-weights") / "lightcnn.pt", create_model("lightcnn"))


@pytest.fixture(scope="session")
def real_recognizer(real_weights: Path):
    from edgefer import Recognizer

    return Recognizer(real_weights, backend="torch")
