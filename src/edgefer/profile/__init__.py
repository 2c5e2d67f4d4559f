"""Profiler behind `edgefer bench`: parameters, multiply-accumulates, memory, weight size, latency."""

from edgefer.profile.counting import MacCount, count_macs, count_parameters, weight_bytes_fp32, weight_bytes_int8
from edgefer.profile.latency import Latency, peak_gflops, time_onnxruntime, time_torch
from edgefer.profile.memory import Footprint, peak_activation_bytes, table_v_footprint
from edgefer.profile.render import format_markdown, format_text
from edgefer.profile.report import LatencyRecord, ModelProfile, measure_peaks, profile_model, profile_models

__all__ = [
    "Footprint",
    "Latency",
    "LatencyRecord",
    "MacCount",
    "ModelProfile",
    "count_macs",
    "count_parameters",
    "format_markdown",
    "format_text",
    "measure_peaks",
    "peak_activation_bytes",
    "peak_gflops",
    "profile_model",
    "profile_models",
    "table_v_footprint",
    "time_onnxruntime",
    "time_torch",
    "weight_bytes_fp32",
    "weight_bytes_int8",
]
