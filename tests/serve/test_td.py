"""The Thing Description validates against the official W3C TD 1.1 JSON Schema and its forms really work."""

from __future__ import annotations

import json
import urllib.parse

import pytest
from fastapi.testclient import TestClient
from serve_helpers import TD_SCHEMA, wait_for

from edgefer.serve import ServeConfig, create_app

TOKEN = "td-test-token-123"
CONFIGS = {
    "plain": {},
    "secured-live-mqtt": {"token": TOKEN, "source": "camera 0", "mqtt_url": "mqtt://127.0.0.1:9"},
}


@pytest.fixture(scope="module")
def td_validator():
    jsonschema = pytest.importorskip("jsonschema")
    if not TD_SCHEMA.is_file():
        pytest.skip(f"the W3C TD schema is not at {TD_SCHEMA}")
    schema = json.loads(TD_SCHEMA.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


@pytest.mark.shared_data
@pytest.mark.parametrize("name", CONFIGS)
def test_td_validates_against_official_schema(fake, td_validator, name: str) -> None:
    with TestClient(create_app(fake, ServeConfig(thing_id="kitchen-cam", **CONFIGS[name]))) as client:
        td = client.get("/.well-known/wot").json()
        fake.end()
    errors = sorted(td_validator.iter_errors(td), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    assert td["@context"][0] == "https://www.w3.org/2022/wot/td/v1.1"


def test_td_describes_the_configured_service(fake) -> None:
    config = ServeConfig(thing_id="kitchen-cam", **CONFIGS["secured-live-mqtt"])
    with TestClient(create_app(fake, config)) as client:
        td = client.get("/td").json()
        fake.end()
    assert td["securityDefinitions"]["bearer_sc"] == {
        **td["securityDefinitions"]["bearer_sc"],
        "scheme": "bearer",
        "in": "header",
        "name": "Authorization",
    }
    assert set(td["properties"]) == {"model", "framesPerSecond", "expression"}
    assert td["properties"]["model"]["properties"]["tta"]["enum"] == ["none", "flip", "multicrop"]
    assert "recognize" in td["actions"] and "expressionChanged" in td["events"]
    mqtt_forms = [f for f in td["events"]["expressionChanged"]["forms"] if f["href"].startswith("mqtt://")]
    assert mqtt_forms == [
        {
            "href": "mqtt://127.0.0.1:9/edgefer/kitchen-cam/expression",
            "op": "subscribeevent",
            "contentType": "application/json",
            "mqv:filter": "edgefer/kitchen-cam/expression",
            "mqv:qos": "1",
            "mqv:retain": True,
        }
    ]
    assert "password" not in json.dumps(td)


def test_td_without_live_source_has_no_live_affordances(fake) -> None:
    with TestClient(create_app(fake, ServeConfig(thing_id="t"))) as client:
        td = client.get("/td").json()
    assert "expression" not in td["properties"] and td["events"] == {}
    assert td["securityDefinitions"] == {"nosec_sc": {"scheme": "nosec"}} and td["security"] == ["nosec_sc"]


def test_every_http_form_reaches_a_working_endpoint(fake, png_bytes: bytes) -> None:
    app = create_app(fake, ServeConfig(thing_id="t", token=TOKEN, source="camera 0"))
    auth = {"authorization": f"Bearer {TOKEN}"}
    with TestClient(app) as client:
        fake.push(0, "sad")
        assert wait_for(lambda: app.state.service.hub.latest() is not None)
        td = client.get("/td").json()
        base = td["base"]
        sse_paths = {route.path for route in app.routes if route.path.startswith("/live/events")}
        affordances = [*td["properties"].values(), *td["actions"].values(), *td["events"].values()]
        checked = 0
        for form in (form for a in affordances for form in a["forms"]):
            url = urllib.parse.urljoin(base, form["href"])
            path = urllib.parse.urlsplit(url).path
            if form.get("subprotocol") == "sse":
                assert path in sse_paths
            elif form["op"] == "readproperty":
                assert client.get(url, headers=auth).status_code == 200, url
                assert client.get(url).status_code == 401, url
            elif form["op"] == "invokeaction":
                response = client.post(url, content=png_bytes, headers={**auth, "content-type": form["contentType"]})
                assert response.status_code == 200, response.text
            checked += 1
        fake.end()
    assert checked == 6
