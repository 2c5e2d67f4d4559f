"""Response shapes, for the OpenAPI document (and so for clients and the schemathesis fuzz)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FaceOut(BaseModel):
    box: list[int] = Field(description="x, y, width, height in pixels of the uploaded image")
    label: str
    confidence: float
    scores: dict[str, float] = Field(description="Probability of each class, in the model's class order")
    landmarks: list[list[float]] | None = None
    face_id: int | None = None


class PredictOut(BaseModel):
    width: int
    height: int
    latency_ms: float = Field(description="Decoding plus recognition time on the server")
    faces: list[FaceOut]


class LiveStatus(BaseModel):
    source: str
    state: str = Field(description="starting | running | ended | error | stopped")
    error: str | None = None


class MqttStatus(BaseModel):
    broker: str
    connected: bool
    status_topic: str
    expression_topic: str


class HealthOut(BaseModel):
    status: str
    thing_id: str
    auth: bool = Field(description="Whether the API needs an Authorization: Bearer token")
    live: LiveStatus | None
    mqtt: MqttStatus | None


class ModelOut(BaseModel):
    name: str
    backend: str
    detector: str
    tta: str  # test-time augmentation: none, flip or multicrop
    classes: list[str]


class ErrorDetail(BaseModel):
    status: int
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorDetail
