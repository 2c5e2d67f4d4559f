"""Loopback load test of `edgefer serve`: requests/s and latency percentiles at a fixed concurrency.

Starts `edgefer serve` in a subprocess (or targets --url), then sends at most --requests requests with
--concurrency clients for at most --seconds, and prints throughput, p50/p90/p99 latency and the error count.
Without --model it serves a randomly initialised lightcnn (speed does not depend on the weights' values).

    .venv/bin/python benchmarks/serve_load.py --concurrency 4 --requests 200
    .venv/bin/python benchmarks/serve_load.py --endpoint health --requests 2000 --concurrency 16

Exits 1 if any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np

from edgefer.assets import SAMPLE_IMAGE


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def served(model: str | None, detector: str, backend: str) -> Iterator[str]:
    """Run `edgefer serve` on a free loopback port until the block ends; yields its URL."""
    with tempfile.TemporaryDirectory() as tmp:
        if model is None:
            import torch

            from edgefer.models import create_model, save_weights

            torch.manual_seed(0)
            model = str(save_weights(Path(tmp) / "lightcnn.pt", create_model("lightcnn")))
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "edgefer",
            "serve",
            "--port",
            str(port),
            "--model",
            model,
            "--detector",
            detector,
            "--backend",
            backend,
            "--log-level",
            "warning",
        ]
        process = subprocess.Popen(command, env={**os.environ, "EDGEFER_TOKEN": ""})
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"edgefer serve exited with {process.returncode}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise SystemExit("edgefer serve did not start within 120 s")
                time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            process.wait(30)


async def load(url: str, endpoint: str, body: bytes, requests: int, concurrency: int, seconds: float) -> dict:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    issued = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def worker() -> None:
            nonlocal issued
            while issued < requests and time.monotonic() < deadline:
                issued += 1
                started = time.perf_counter()
                try:
                    if endpoint == "predict":
                        response = await client.post("/predict", content=body, headers={"content-type": "image/png"})
                    else:
                        response = await client.get(f"/{endpoint}")
                    key = str(response.status_code)
                except httpx.HTTPError as error:
                    key = type(error).__name__
                latencies.append(time.perf_counter() - started)
                statuses[key] = statuses.get(key, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        server = (await client.get("/metrics")).json()

    ms = np.asarray(latencies) * 1000
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    return {
        "endpoint": endpoint,
        "concurrency": concurrency,
        "requests": len(latencies),
        "errors": sum(n for code, n in statuses.items() if code != "200"),
        "statuses": statuses,
        "seconds": round(elapsed, 3),
        "requests_per_s": round(len(latencies) / elapsed, 2),
        "latency_ms": {"p50": round(p50, 2), "p90": round(p90, 2), "p99": round(p99, 2), "max": round(ms.max(), 2)},
        "server_predict_latency_ms": server["predict_latency_ms"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an already running server (default: start one)")
    parser.add_argument("--model", help="weights or shipped model name (default: a random lightcnn)")
    parser.add_argument("--detector", default="haar")
    parser.add_argument("--backend", default="torch", choices=("auto", "torch", "onnxruntime"))
    parser.add_argument("--endpoint", default="predict", choices=("predict", "health", "td"))
    parser.add_argument("--image", type=Path, default=SAMPLE_IMAGE, help="image to POST (default: the sample)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--requests", type=int, default=200, help="at most this many requests")
    parser.add_argument("--seconds", type=float, default=60.0, help="and for at most this long")
    args = parser.parse_args()
    body = args.image.read_bytes()
    with contextlib.nullcontext(args.url) if args.url else served(args.model, args.detector, args.backend) as url:
        httpx.get(f"{url}/health", timeout=10)
        result = asyncio.run(load(url, args.endpoint, body, args.requests, args.concurrency, args.seconds))
    latency = result["latency_ms"]
    print(
        f"{result['endpoint']}: {result['requests']} requests at concurrency {result['concurrency']} in "
        f"{result['seconds']} s = {result['requests_per_s']} req/s; latency p50 {latency['p50']} ms, "
        f"p90 {latency['p90']} ms, p99 {latency['p99']} ms, max {latency['max']} ms; errors {result['errors']}"
    )
    print(json.dumps(result))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
