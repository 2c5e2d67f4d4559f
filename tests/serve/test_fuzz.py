"""A bounded schemathesis fuzz of the OpenAPI document: whatever a client sends, never a 5xx.

Set EDGEFER_FUZZ_EXAMPLES for a longer run (default 8 examples per operation, to keep the suite fast).
"""

from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from serve_helpers import FakeRecognizer  # noqa: E402

from edgefer.serve import ServeConfig, create_app  # noqa: E402

TOKEN = "fuzz-token-123456"
APP = create_app(FakeRecognizer(), ServeConfig(thing_id="fuzz", token=TOKEN, max_body_bytes=64 * 1024))
schemathesis.serializer.alias("image/bmp", "application/octet-stream")
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("EDGEFER_FUZZ_EXAMPLES", "8")),
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=[not_a_server_error])
