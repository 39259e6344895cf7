"""End-to-end speed of ``POST /api/predictions`` on the local stack.

1. The floor: the four handlers called directly in process, one after the
   other, with the model behind the local SageMaker endpoint and SQLite in a
   temporary directory (no engine, no HTTP server).
2. The real server (``python -m local`` as a subprocess, loopback only): a
   280x280 canvas PNG posted sequentially over one keep-alive connection,
   p50 and p99; then 8 clients at once (threads, one connection each) for a
   bounded time, predictions per second.
3. Where the time goes, from the server's own figures: the handlers' stage
   timings in each item, the engine's execution durations from
   ``/api/executions``, and the rest (HTTP, server, client).

Goals (issue 4): p50 < 10 ms, p50 within 3x of the floor, > 150 predictions/s
with 8 clients on 2 cores. Figures are printed, never asserted.

    .venv/bin/python -m bench.bench_http [--requests 300] [--clients 8] [--seconds 8]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bench.in_process import workflow_handlers
from bench.timing import samples_ms
from tests.imagegen import canvas_export, ink_level, mnist_digit
from tests.support.local_stack import running_stack

CANVAS_SIDE = 280
WARM_UP_REQUESTS = 30
FLOOR_RUNS = 200
GOAL_P50_MS = 10.0
GOAL_FLOOR_RATIO = 3.0
GOAL_THROUGHPUT = 150.0
# Browsers send requests with Nagle's algorithm off; so do we, or a body sent
# after its headers may wait for a delayed ACK.
NO_DELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]


def canvas_body(client_id: str) -> dict[str, str]:
    """A digit drawn on the page's 280x280 canvas, as the page sends it."""
    png = canvas_export(ink_level(mnist_digit(0), CANVAS_SIDE))
    return {"image": "data:image/png;base64," + base64.b64encode(png).decode("ascii"), "clientId": client_id}


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def describe(label: str, samples: list[float]) -> str:
    return (
        f"{label:<42} p50 {percentile(samples, 0.5):7.2f} ms   p99 {percentile(samples, 0.99):7.2f} ms"
        f"   (n={len(samples)})"
    )


def http_client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=30.0, transport=httpx.HTTPTransport(socket_options=NO_DELAY))


def floor_ms(body: dict[str, str], runs: int) -> list[float]:
    """The four handlers called directly, with Lambda's JSON round trip between them."""
    with workflow_handlers() as handlers:

        def once(run: int) -> None:
            state: Any = {"requestId": f"floor-{run}", "request": body}
            for handler in handlers.values():
                state = json.loads(json.dumps(handler(state, None)))

        return samples_ms(runs, once, warm_up=WARM_UP_REQUESTS)


def sequential_ms(base_url: str, body: dict[str, str], requests: int) -> tuple[list[float], list[float]]:
    """End-to-end latencies over one keep-alive connection, and the items' summed stage timings."""
    stage_totals: list[float] = []
    with http_client(base_url) as client:

        def once(run: int) -> None:
            response = client.post("/api/predictions", json=body)
            response.raise_for_status()
            if run >= 0:
                stage_totals.append(sum(response.json()["timingsMs"].values()))

        return samples_ms(requests, once, warm_up=WARM_UP_REQUESTS), stage_totals


def throughput(base_url: str, body: dict[str, str], clients: int, seconds: float) -> tuple[float, int, int]:
    """Predictions per second with ``clients`` connections at once, for ``seconds``."""
    counts = [0] * clients
    failures = [0] * clients
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def one_client(index: int) -> None:
        with http_client(base_url) as client:
            client.get("/api/health")  # connect before the clock starts
            start.wait()
            while time.perf_counter() < deadline[0]:
                if client.post("/api/predictions", json=body).status_code == 200:
                    counts[index] += 1
                else:
                    failures[index] += 1

    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [pool.submit(one_client, index) for index in range(clients)]
        deadline[0] = time.perf_counter() + seconds + 0.05
        started = time.perf_counter()
        start.wait()
        for future in futures:
            future.result()
        elapsed = time.perf_counter() - started
    return sum(counts) / elapsed, sum(counts), sum(failures)


def execution_durations_ms(base_url: str, count: int) -> list[float]:
    with http_client(base_url) as client:
        executions = client.get("/api/executions", params={"limit": min(count, 100)}).json()["executions"]
    return [float(execution["durationMs"]) for execution in executions]


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="sequential requests after warm-up")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of the concurrent run")
    args = parser.parse_args()
    body = canvas_body("bench")
    size = len(json.dumps(body))
    print(f"{os.cpu_count()} cores; a {CANVAS_SIDE}x{CANVAS_SIDE} canvas PNG, {size} bytes of JSON")

    floor = floor_ms(body, FLOOR_RUNS)
    print(describe("floor: four handlers called directly", floor))

    with tempfile.TemporaryDirectory(prefix="bench-http-") as data_dir, running_stack(data_dir) as base_url:
        latencies, stage_totals = sequential_ms(base_url, body, args.requests)
        executions = execution_durations_ms(base_url, args.requests)
        concurrent_body = {**body, "clientId": "bench-concurrent"}
        rate, succeeded, failed = throughput(base_url, concurrent_body, args.clients, args.seconds)

    p50, floor_p50 = percentile(latencies, 0.5), percentile(floor, 0.5)
    print(describe("POST /api/predictions, sequential", latencies))
    print(
        f"{args.clients} clients for {args.seconds:.0f} s: {rate:.1f} predictions/s ({succeeded} ok, {failed} failed)"
    )
    print("\nwhere a sequential request's time goes (medians):")
    handlers_ms, execution_ms = statistics.median(stage_totals), statistics.median(executions)
    print(f"  stages timed in the item (timingsMs)     {handlers_ms:7.2f} ms")
    print(f"  persist + engine (execution - those)     {execution_ms - handlers_ms:7.2f} ms")
    print(f"  HTTP, server and client (rest)           {p50 - execution_ms:7.2f} ms")
    print("\ngoals:")
    print(f"  p50 < {GOAL_P50_MS:.0f} ms: {p50:.2f} ms, {verdict(p50 < GOAL_P50_MS)}")
    ratio = p50 / floor_p50
    print(f"  p50 within {GOAL_FLOOR_RATIO:.0f}x of the floor: {ratio:.2f}x, {verdict(ratio <= GOAL_FLOOR_RATIO)}")
    print(
        f"  > {GOAL_THROUGHPUT:.0f} predictions/s with {args.clients} clients: "
        f"{rate:.1f}, {verdict(rate > GOAL_THROUGHPUT)}"
    )


if __name__ == "__main__":
    main()
