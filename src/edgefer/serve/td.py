"""The W3C Web of Things Thing Description (TD 1.1) of a running service.

Every form points at a real endpoint of this service (HTTP hrefs are relative to ``base``) or at the real
MQTT topic. Security is declared as it is configured: ``bearer`` in the Authorization header, or ``nosec``.
"""

from __future__ import annotations

from edgefer import __version__
from edgefer.evaluate.tta import TTA_MODES
from edgefer.serve.mqtt import QOS, BrokerAddress

TD_CONTEXT = "https://www.w3.org/2022/wot/td/v1.1"
MQTT_BINDING_CONTEXT = "http://www.example.org/mqtt-binding#"  # prefix used by the W3C MQTT binding template
TD_MEDIA_TYPE = "application/td+json"

_SCORES_SCHEMA = {
    "type": "object",
    "description": "Probability of each class; they sum to 1",
    "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
}
FACE_SCHEMA = {
    "type": "object",
    "properties": {
        "box": {
            "type": "array",
            "items": {"type": "integer"},
            "minItems": 4,
            "maxItems": 4,
            "description": "x, y, width, height in pixels",
        },
        "label": {"type": "string"},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "scores": _SCORES_SCHEMA,
        "face_id": {"oneOf": [{"type": "integer"}, {"type": "null"}]},
    },
    "required": ["box", "label", "confidence", "scores"],
}
RECOGNITION_SCHEMA = {
    "type": "object",
    "properties": {
        "thing_id": {"type": "string"},
        "time": {"type": "string", "format": "date-time"},
        "index": {"type": "integer"},
        "timestamp": {"type": "number", "unit": "s"},
        "faces": {"type": "array", "items": FACE_SCHEMA},
    },
}


def _mqtt_form(broker: BrokerAddress, topic: str, op: str) -> dict:
    return {
        "href": f"{broker.url}/{topic}",
        "op": op,
        "contentType": "application/json",
        "mqv:filter": topic,
        "mqv:qos": str(QOS),
        "mqv:retain": True,
    }


def thing_description(
    *,
    thing_id: str,
    title: str,
    base_url: str,
    secured: bool,
    live: bool,
    broker: BrokerAddress | None,
    expression_topic: str | None,
) -> dict:
    """Build the TD; ``base_url`` is where this service is reached (ends with '/')."""
    security_name = "bearer_sc" if secured else "nosec_sc"
    security_scheme = (
        {
            "scheme": "bearer",
            "in": "header",
            "name": "Authorization",
            "format": "opaque",
            "description": "Authorization: Bearer <token> (the token given to `edgefer serve --token`)",
        }
        if secured
        else {"scheme": "nosec"}
    )
    properties: dict = {
        "model": {
            "title": "Model",
            "description": "The recognition model, backend, face detector, test-time augmentation and class order",
            "type": "object",
            "readOnly": True,
            "observable": False,
            "properties": {
                "name": {"type": "string"},
                "backend": {"type": "string"},
                "detector": {"type": "string"},
                "tta": {"type": "string", "enum": list(TTA_MODES)},
                "classes": {"type": "array", "items": {"type": "string"}},
            },
            "forms": [{"href": "model", "op": "readproperty", "contentType": "application/json"}],
        },
        "framesPerSecond": {
            "title": "Frames per second",
            "description": "Live-source frames recognised per second, recent",
            "type": "number",
            "minimum": 0,
            "unit": "Hz",
            "readOnly": True,
            "forms": [{"href": "metrics/fps", "op": "readproperty", "contentType": "application/json"}],
        },
    }
    events: dict = {}
    if live:
        expression_forms: list[dict] = [
            {"href": "live/state", "op": "readproperty", "contentType": "application/json"},
            {"href": "live/events", "op": "observeproperty", "subprotocol": "sse", "contentType": "text/event-stream"},
        ]
        changed_forms: list[dict] = [
            {
                "href": "live/events?changes=true",
                "op": "subscribeevent",
                "subprotocol": "sse",
                "contentType": "text/event-stream",
            },
        ]
        if broker is not None and expression_topic is not None:
            expression_forms.append(_mqtt_form(broker, expression_topic, "observeproperty"))
            changed_forms.append(_mqtt_form(broker, expression_topic, "subscribeevent"))
        properties["expression"] = {
            "title": "Current expression",
            "description": "The latest recognition of the live source",
            **RECOGNITION_SCHEMA,
            "readOnly": True,
            "observable": True,
            "forms": expression_forms,
        }
        events["expressionChanged"] = {
            "title": "Expression changed",
            "description": "A face's expression changed, a face appeared or one left the view",
            "data": RECOGNITION_SCHEMA,
            "forms": changed_forms,
        }
    context: list = [TD_CONTEXT, {"mqv": MQTT_BINDING_CONTEXT}] if broker is not None else [TD_CONTEXT]
    return {
        "@context": context,
        "@type": "Thing",
        "id": f"urn:edgefer:{thing_id}",
        "title": title,
        "description": "Facial expression recognition sensor (edgefer)",
        "version": {"instance": __version__},
        "base": base_url,
        "securityDefinitions": {security_name: security_scheme},
        "security": [security_name],
        "properties": properties,
        "actions": {
            "recognize": {
                "title": "Recognise an image",
                "description": "Find the faces in a JPEG/PNG/BMP/WebP image and classify each face's expression",
                "input": {
                    "type": "string",
                    "contentMediaType": "image/jpeg",
                    "description": "The image bytes as the request body (or multipart field 'file')",
                },
                "output": {"type": "object", "properties": {"faces": {"type": "array", "items": FACE_SCHEMA}}},
                "safe": True,
                "idempotent": True,
                "forms": [
                    {
                        "href": "predict",
                        "op": "invokeaction",
                        "contentType": "image/jpeg",
                        "response": {"contentType": "application/json"},
                        "htv:methodName": "POST",
                    }
                ],
            }
        },
        "events": events,
        "links": [
            {"href": "openapi.json", "rel": "service-desc", "type": "application/json"},
            {"href": "", "rel": "alternate", "type": "text/html"},
        ],
    }
