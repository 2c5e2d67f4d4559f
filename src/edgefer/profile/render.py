"""Profiles as text (one model) and as Markdown tables shaped like the papers' (many models)."""

from __future__ import annotations

import platform
from collections.abc import Callable, Sequence
from pathlib import Path

from edgefer.profile.claims import DMSNET, HCMTMM_ESP32_MS, HCMTMM_PARAMETERS, HCMTMM_SIZE_MB, Claim
from edgefer.profile.latency import available_threads
from edgefer.profile.report import BACKENDS, ModelProfile

MIB = 1024**2
BACKEND_NAMES = {"pytorch": "PyTorch", "onnxruntime": "ORT"}


def _count(n: float) -> str:
    if n >= 1e6:
        return f"{n / 1e6:.2f}M"
    if n >= 1e3:
        return f"{n / 1e3:.1f}K"
    return f"{n:.0f}"


def _mb(nbytes: float) -> str:
    return f"{nbytes / MIB:.2f}"


def _kb(nbytes: float) -> str:
    return f"{nbytes / 1024:.1f}"


def _threads(n: int) -> str:
    return f"{n} thread" + ("" if n == 1 else "s")


def _latency_cell(profile: ModelProfile, backend: str, threads: int) -> str:
    record = profile.latency(backend, threads)
    if record is None:
        return "export failed" if backend == "onnxruntime" else "–"
    return f"{record.median_ms:.2f} ({record.p90_ms:.2f}) · {100 * profile.fraction_of_peak(record):.1f}%"


def _shape(profile: ModelProfile) -> str:
    return "×".join(str(d) for d in profile.input_size)


def format_text(profile: ModelProfile) -> str:
    """A readable report of one model's profile."""
    macs, fp = profile.macs, profile.footprint
    lines = [
        f"model                 {profile.model} — {profile.description}",
        f"input                 1×{_shape(profile)} (batch × C × H × W)",
        f"parameters            {profile.parameters:,}",
        f"multiply-accumulates  {_count(macs.total)} (FlopCounterMode {_count(macs.counted)}"
        f" + extra_macs {_count(macs.extra)})",
        f"peak activations      {_kb(profile.peak_activation_bytes)} KB (live tensor bytes, one inference)",
        f"memory footprint      {_mb(fp.total_bytes)} MB as HCMTMM Table V counts it (input {_mb(fp.input_bytes)}"
        f" + forward/backward {_mb(fp.forward_backward_bytes)} + parameters {_mb(fp.parameter_bytes)})",
        f"weights               {_kb(profile.weights_fp32_bytes)} KB fp32, {_kb(profile.weights_int8_bytes)} KB int8"
        " (per-channel estimate)",
        "onnx                  "
        + (
            f"{_kb(profile.onnx_bytes)} KB file"
            if profile.onnx_bytes is not None
            else f"export failed: {profile.onnx_error}"
        ),
        "peak compute          "
        + ", ".join(f"{g:.1f} GFLOP/s on {_threads(t)}" for t, g in sorted(profile.peak_gflops.items()))
        + " (fp32 matmul)",
        "latency, batch 1      median (p90) ms · share of the compute limit",
    ]
    for threads in sorted(profile.peak_gflops):
        for backend in BACKENDS:
            name = f"{BACKEND_NAMES[backend]}, {_threads(threads)}"
            lines.append(f"  {name:<19}{_latency_cell(profile, backend, threads)}")
    return "\n".join(lines)


def _table(header: Sequence[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _claim_cells(claims: dict[str, Claim], name: str, fmt: Callable[[float], str]) -> list[str]:
    claim = claims.get(name)
    return [fmt(claim.value), f"{claim.source}: {claim.row}"] if claim else ["–", "–"]


def _hcmtmm_tables(profiles: list[ModelProfile], all_threads: int) -> list[str]:
    out = ["### Parameters (shape of HCMTMM Table I; bench measures no accuracy)", ""]
    out += _table(
        ["Model", "Input", "Parameters", "Paper", "Paper row"],
        [
            [
                p.model,
                _shape(p),
                f"{p.parameters:,}",
                *_claim_cells(HCMTMM_PARAMETERS, p.model, lambda v: f"{v / 1e3:.0f}K"),
            ]
            for p in profiles
        ],
    )
    out += ["", "### Memory footprint (shape of HCMTMM Table V: input + forward/backward + parameters, MB)", ""]
    out += _table(
        [
            "Model",
            "Parameters",
            "Size (MB)",
            "Paper (MB)",
            "Paper row",
            "Input",
            "Fwd/bwd",
            "Params",
            "Peak activations, measured (MB)",
        ],
        [
            [
                p.model,
                _count(p.parameters),
                _mb(p.footprint.total_bytes),
                *_claim_cells(HCMTMM_SIZE_MB, p.model, lambda v: f"{v:.2f}"),
                _mb(p.footprint.input_bytes),
                _mb(p.footprint.forward_backward_bytes),
                _mb(p.footprint.parameter_bytes),
                _mb(p.peak_activation_bytes),
            ]
            for p in profiles
        ],
    )
    out += [
        "",
        "### Speed (shape of HCMTMM Table VI; the paper's times are on an ESP32-CAM, ours on this machine)",
        "",
        "Latency at batch 1 in ms: median (p90) · share of the measured compute limit.",
        "",
    ]
    out += _table(
        [
            "Model",
            "ORT, 1 thread",
            "PyTorch, 1 thread",
            f"ORT, {_threads(all_threads)}",
            f"PyTorch, {_threads(all_threads)}",
            "Paper (ms, ESP32-CAM)",
            "Paper row",
        ],
        [
            [
                p.model,
                _latency_cell(p, "onnxruntime", 1),
                _latency_cell(p, "pytorch", 1),
                _latency_cell(p, "onnxruntime", all_threads),
                _latency_cell(p, "pytorch", all_threads),
                *_claim_cells(HCMTMM_ESP32_MS, p.model, lambda v: f"{v:.0f}"),
            ]
            for p in profiles
        ],
    )
    return out


def _fps(profile: ModelProfile, threads: int) -> str:
    record = profile.latency("onnxruntime", threads) or profile.latency("pytorch", threads)
    return f"{1e3 / record.median_ms:.1f}" if record else "–"


def _dmsnet_table(profiles: list[ModelProfile], all_threads: int) -> list[str]:
    out = [
        "### DMSNet ablation (shape of DMSNet Table 3; the paper's FLOPs read as multiply-accumulates, its speed is on "
        "a Quadro P5000 GPU)",
        "",
    ]
    rows = []
    for p in profiles:
        claim = DMSNET.get(p.model)
        paper = (
            [f"{claim.params_m:.1f}", f"{claim.flops_m:.1f}", f"{claim.fps:.0f}", f"{claim.source}: {claim.row}"]
            if claim
            else ["–"] * 4
        )
        rows.append(
            [
                p.model,
                _shape(p),
                f"{p.parameters / 1e6:.2f}",
                f"{p.macs.total / 1e6:.1f}",
                _fps(p, all_threads),
                *paper,
            ]
        )
    return out + _table(
        [
            "Modules",
            "Input",
            "# Params (M)",
            "MACs (M)",
            f"Speed (FPS, ORT, {_threads(all_threads)})",
            "Paper # Params (M)",
            "Paper FLOPs (M)",
            "Paper Speed (FPS)",
            "Paper row",
        ],
        rows,
    )


def _all_figures(profiles: list[ModelProfile], thread_counts: list[int]) -> list[str]:
    latency_headers = [f"{BACKEND_NAMES[b]}, {_threads(t)}" for t in thread_counts for b in BACKENDS]
    rows = [
        [
            p.model,
            _shape(p),
            f"{p.parameters:,}",
            f"{p.macs.total / 1e6:.2f}",
            f"{p.macs.extra / 1e6:.2f}",
            _mb(p.peak_activation_bytes),
            _mb(p.footprint.total_bytes),
            _kb(p.weights_fp32_bytes),
            _kb(p.weights_int8_bytes),
            *(_latency_cell(p, b, t) for t in thread_counts for b in BACKENDS),
        ]
        for p in profiles
    ]
    header = [
        "Model",
        "Input",
        "Parameters",
        "MACs (M)",
        "of which extra_macs (M)",
        "Peak activations (MB)",
        "Table V size (MB)",
        "Weights fp32 (KB)",
        "Weights int8 (KB)",
        *latency_headers,
    ]
    return ["### All figures (latency: median (p90) ms · share of the compute limit)", "", *_table(header, rows)]


def _paper_order(profiles: list[ModelProfile], paper_names: list[str]) -> list[ModelProfile]:
    """The papers' rows first, in the papers' order, then the other models by name."""
    return sorted(
        profiles, key=lambda p: (paper_names.index(p.model) if p.model in paper_names else len(paper_names), p.model)
    )


def _cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def format_markdown(profiles: list[ModelProfile]) -> str:
    """Markdown tables in the shape of HCMTMM Tables I, V, VI and DMSNet Table 3, then every figure per model."""
    import onnxruntime
    import torch

    peaks = profiles[0].peak_gflops
    thread_counts = sorted(peaks)
    all_threads = thread_counts[-1]
    dmsnet = _paper_order([p for p in profiles if p.model.startswith("dmsnet")], list(DMSNET))
    others = _paper_order([p for p in profiles if not p.model.startswith("dmsnet")], list(HCMTMM_PARAMETERS))
    out = [
        "## edgefer bench",
        "",
        f"Machine: {_cpu_name()}, {available_threads()} cores available"
        + f", torch {torch.__version__}, onnxruntime {onnxruntime.__version__}. "
        + "Compute limit measured in the same run (fastest fp32 1024×1024 matmul in 2 s): "
        + ", ".join(f"{g:.1f} GFLOP/s on {_threads(t)}" for t, g in sorted(peaks.items()))
        + ". Latency: batch 1, median and p90 of "
        + f"{profiles[0].latencies[0].runs if profiles[0].latencies else 0} runs after warm-up.",
        "",
    ]
    if others:
        out += [*_hcmtmm_tables(others, all_threads), ""]
    if dmsnet:
        out += [*_dmsnet_table(dmsnet, all_threads), ""]
    out += _all_figures(profiles, thread_counts)
    failures = [p for p in profiles if p.onnx_error]
    if failures:
        out += ["", "ONNX export failures:", *(f"- {p.model}: {p.onnx_error}" for p in failures)]
    return "\n".join(out) + "\n"
