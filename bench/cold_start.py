"""Cold starts of the five Lambda handlers: module import + first call, each
in a fresh interpreter, and the heavy packages each one loads.

    .venv/bin/python -m bench.cold_start [--runs 5] [--lambda-like] [--memory 256,512,1024]

On Lambda a cold start imports the handler's module (the init phase) and then
calls it; our handlers read their settings and build their clients on that
first call. Each run here is a new process that does exactly that
(``bench/cold_start_probe.py``), with the AWS services the handlers call
(DynamoDB, SageMaker runtime) answered by a stub on the loopback, and the same
environment variables as on AWS (``OPENBLAS_NUM_THREADS`` included).

- default: this interpreter and its packages (the layer's pins, x86 wheels);
- ``--lambda-like``: Python 3.12 with an x86_64 twin of the layer (the same
  builder and pins, plus boto3 as the runtime has it) and the function code as
  deployed, with its 3.12 bytecode, bytecode writing off (Lambda's code
  directory is read-only);
- ``--memory``: also with the CPU capped to Lambda's share for those memory
  sizes (1,769 MB = one vCPU, "Lambda memory and computing power"), by a CFS
  quota in a cgroup of this machine; needs root and a writable cgroup.

Figures are printed, never asserted; tests/bench/test_cold_start.py asserts
the import sets. The host is not a Graviton Lambda: read the times as
proportions.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROBE = Path(__file__).resolve().parent / "cold_start_probe.py"
HANDLERS = ("validate", "preprocess", "invoke_model", "persist", "history")
# Lambda's CPU share: one vCPU at 1,769 MB, in proportion below.
FULL_CPU_MEMORY_MB = 1769
CFS_PERIOD_MICROSECONDS = 100_000
# Memory sizes whose cold start the table projects from the CPU time.
PROJECTED_MEMORY_MB = (256, 512, 1024)
STUB_DIGIT: dict[str, Any] = {"digit": 7, "confidence": 0.91, "probabilities": [0.01] * 9 + [0.91]}
STUB_PREDICTION = {"predictions": [STUB_DIGIT], "modelVersion": "bench"}
DYNAMODB_ANSWERS: Mapping[str, Any] = {
    "PutItem": {},
    "GetItem": {},
    "Query": {"Items": [], "Count": 0, "ScannedCount": 0},
}


@dataclass(frozen=True)
class ColdStart:
    handler: str
    import_ms: float
    first_call_ms: float
    # CPU time of both, all threads: what a CPU share stretches, and far less
    # sensitive than wall time to other work on a shared machine.
    cpu_ms: float
    heavy: tuple[str, ...]

    @property
    def total_ms(self) -> float:
        return self.import_ms + self.first_call_ms

    def at_memory_ms(self, memory_mb: int) -> float:
        """The cold start's CPU work at Lambda's CPU share for ``memory_mb`` (the
        calls to AWS themselves are not in it: the stub answers at once)."""
        return self.cpu_ms / min(1.0, memory_mb / FULL_CPU_MEMORY_MB)


@dataclass(frozen=True)
class Runtime:
    """How the probe runs: which interpreter, and what is on its path."""

    python: str
    path: tuple[Path, ...]
    write_bytecode: bool = True


def current_runtime(checkout: Path = ROOT) -> Runtime:
    return Runtime(sys.executable, (checkout,))


def lambda_like_runtime(checkout: Path = ROOT, function_bytecode: bool = True) -> Runtime:
    """Python 3.12, an x86_64 twin of the layer, the function code as deployed."""
    from components.lambda_function import LAYER_PACKAGES
    from components.layer_builder import (
        LayerSpec,
        build_function_code,
        build_layer,
        find_target_python,
        pinned_requirements,
    )

    cache = ROOT / ".cache" / "bench"
    spec = LayerSpec(
        pinned_requirements(ROOT / "pyproject.toml", (*LAYER_PACKAGES, "boto3")),
        platforms=("manylinux2014_x86_64", "manylinux_2_28_x86_64"),
    )
    twin = build_layer(spec, cache / "layers", max_zip_bytes=sys.maxsize) / "python"
    code = build_function_code(checkout / "functions", cache / "code") if function_bytecode else checkout
    return Runtime(find_target_python(), (code, twin), write_bytecode=False)


def lambda_environment(endpoint_url: str) -> dict[str, str]:
    """The functions' environment on AWS (components/lambda_function.py), pointed at the stub."""
    from components.lambda_function import RUNTIME_ENVIRONMENT

    return {
        **RUNTIME_ENVIRONMENT,
        "LOG_LEVEL": "INFO",
        "POWERTOOLS_METRICS_NAMESPACE": "DigitRecognition/bench",
        "HISTORY_BACKEND": "dynamodb",
        "HISTORY_TABLE": "bench-PredictionHistory",
        "HISTORY_TTL_DAYS": "7",
        "SAGEMAKER_ENDPOINT_NAME": "bench",
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint_url,
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": endpoint_url,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "ap-southeast-1",
    }


class _StubAws(BaseHTTPRequestHandler):
    """DynamoDB and the SageMaker runtime, as far as one call of each handler needs."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        if self.path.startswith("/endpoints/"):
            self._answer(STUB_PREDICTION, "application/json")
        elif target.startswith("DynamoDB_20120810.") and target.split(".")[1] in DYNAMODB_ANSWERS:
            self._answer(DYNAMODB_ANSWERS[target.split(".")[1]], "application/x-amz-json-1.0")
        else:
            self.send_error(400, f"the stub does not answer {target or self.path}")

    def _answer(self, body: Any, content_type: str) -> None:
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass


@contextmanager
def stub_aws() -> Iterator[str]:
    """The stub's endpoint URL while it serves."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StubAws)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def first_events() -> dict[str, Any]:
    """Each handler's first event: a drawn 7 through the real validate and
    preprocess, the stub's prediction, a history page request."""
    from PIL import Image, ImageDraw

    from functions.core.config import PreprocessSettings, ValidateSettings
    from functions.handlers import preprocess, validate
    from tests.support.api_events import api_gateway_event

    canvas = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(canvas).line([(60, 60), (220, 60), (120, 240)], fill=0, width=18)
    png = io.BytesIO()
    canvas.save(png, "PNG")
    request = {
        "requestId": "cold-start",
        "request": {"image": base64.b64encode(png.getvalue()).decode(), "clientId": "bench"},
    }
    with redirect_stdout(io.StringIO()):  # their metrics, printed for CloudWatch
        validated = validate.build(ValidateSettings(log_level="ERROR"))(request, None)
        preprocessed = preprocess.build(PreprocessSettings(log_level="ERROR"))(validated, None)
    prediction = {**STUB_DIGIT, "modelVersion": "bench", "lowConfidence": False}
    page_query = {"clientId": "bench", "limit": "20"}
    return {
        "validate": request,
        "preprocess": validated,
        "invoke_model": preprocessed,
        "persist": {**{k: v for k, v in preprocessed.items() if k != "tensor"}, "prediction": prediction},
        "history": api_gateway_event("GET", "/api/predictions", page_query, request_id="cold-start"),
    }


@contextmanager
def cpu_capped(memory_mb: int | None) -> Iterator[list[str]]:
    """A command prefix that runs a process with Lambda's CPU share for
    ``memory_mb`` (None: no cap), in a cgroup of its own."""
    if memory_mb is None or memory_mb >= FULL_CPU_MEMORY_MB:
        yield []
        return
    quota = max(1000, CFS_PERIOD_MICROSECONDS * memory_mb // FULL_CPU_MEMORY_MB)
    unified = Path("/sys/fs/cgroup/cgroup.controllers").is_file()
    group = Path("/sys/fs/cgroup" if unified else "/sys/fs/cgroup/cpu") / f"digits-bench-{os.getpid()}-{memory_mb}"
    try:
        group.mkdir()
        if unified:
            (group / "cpu.max").write_text(f"{quota} {CFS_PERIOD_MICROSECONDS}")
        else:
            (group / "cpu.cfs_period_us").write_text(str(CFS_PERIOD_MICROSECONDS))
            (group / "cpu.cfs_quota_us").write_text(str(quota))
    except OSError as error:
        raise SystemExit(f"capping the CPU needs root and a writable cgroup cpu controller: {error}") from None
    try:
        yield ["sh", "-c", f'echo $$ > {group / "cgroup.procs"} && exec "$@"', "sh"]
    finally:
        group.rmdir()


def measure_once(
    handler: str, event_file: Path, runtime: Runtime, environment: Mapping[str, str], prefix: Sequence[str] = ()
) -> ColdStart:
    with tempfile.TemporaryDirectory() as scratch:
        result_file = Path(scratch) / "result.json"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": os.pathsep.join(map(str, runtime.path)),
            **({} if runtime.write_bytecode else {"PYTHONDONTWRITEBYTECODE": "1"}),
            **environment,
        }
        subprocess.run(
            [*prefix, runtime.python, "-s", str(PROBE), handler, str(event_file), str(result_file)],
            env=env,
            cwd=scratch,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=True,
        )
        result = json.loads(result_file.read_text())
    return ColdStart(handler, result["importMs"], result["firstCallMs"], result["cpuMs"], tuple(result["heavy"]))


def measure(
    runtime: Runtime,
    runs: int,
    memory_mb: int | None = None,
    environment_changes: Callable[[dict[str, str]], dict[str, str]] = dict,
    handlers: Sequence[str] = HANDLERS,
) -> list[ColdStart]:
    """Median cold start of each handler over ``runs`` fresh processes."""
    with stub_aws() as endpoint, tempfile.TemporaryDirectory() as scratch, cpu_capped(memory_mb) as prefix:
        environment = environment_changes(lambda_environment(endpoint))
        results = []
        for handler, event in first_events().items():
            if handler not in handlers:
                continue
            event_file = Path(scratch) / f"{handler}.json"
            event_file.write_text(json.dumps(event))
            samples = [measure_once(handler, event_file, runtime, environment, prefix) for _ in range(runs)]
            results.append(
                ColdStart(
                    handler,
                    statistics.median(s.import_ms for s in samples),
                    statistics.median(s.first_call_ms for s in samples),
                    statistics.median(s.cpu_ms for s in samples),
                    samples[-1].heavy,
                )
            )
    return results


def print_table(title: str, results: Sequence[ColdStart], projected_mb: Sequence[int] = PROJECTED_MEMORY_MB) -> None:
    print(f"\n{title}")
    projected = "".join(f"{f'at {mb} MB':>11}" for mb in projected_mb)
    print(
        f"{'handler':<14}{'import ms':>11}{'first call':>12}{'total':>8}{'CPU ms':>8}{projected}   heavy packages "
        "loaded"
    )
    for r in results:
        at_memory = "".join(f"{r.at_memory_ms(mb):>11.0f}" for mb in projected_mb)
        print(
            f"{r.handler:<14}{r.import_ms:>11.0f}{r.first_call_ms:>12.0f}{r.total_ms:>8.0f}{r.cpu_ms:>8.0f}{at_memory}"
            f"   {', '.join(r.heavy) or '-'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per handler (the median is shown)")
    parser.add_argument(
        "--lambda-like", action="store_true", help="Python 3.12, a twin of the layer, deployed bytecode"
    )
    parser.add_argument(
        "--memory", default="", help="also with the CPU capped for these memory sizes, e.g. 256,512,1024"
    )
    args = parser.parse_args()

    runtime = lambda_like_runtime() if args.lambda_like else current_runtime()
    where = (
        f"{'Python 3.12, x86_64 twin of the layer' if args.lambda_like else 'this interpreter'}, median of {args.runs}"
    )
    print_table(
        f"Cold start per handler at full CPU ({where}): module import + first call, wall ms;\n"
        f"CPU ms of both, and the cold start it makes at Lambda's CPU share for a memory size",
        measure(runtime, args.runs),
    )
    for memory in filter(None, args.memory.split(",")):
        print_table(
            f"Measured with the CPU capped to {int(memory) / FULL_CPU_MEMORY_MB:.0%} of one core ({memory} MB)",
            measure(runtime, args.runs, int(memory)),
            (),
        )


if __name__ == "__main__":
    main()
