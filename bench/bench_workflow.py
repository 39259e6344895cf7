"""How much the local engine adds to a prediction.

Runs the same upload (an MNIST test digit as PNG) through
1. the four handlers called one after the other, in process (the floor), and
2. the local engine: the real definition in the ASL interpreter, the same
   handlers behind the in-process Lambda client,
with the real model behind the local SageMaker endpoint and SQLite in a
temporary directory. Prints median and p95 of each, the engine's overhead per
execution, and what parsing the definition costs (paid once per engine).

    .venv/bin/python -m bench.bench_workflow [--runs 40] [--model-dir DIR]
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
from typing import Any

from bench.in_process import workflow_handlers
from bench.timing import samples_ms
from local.asl_interpreter import parse
from local.engine import LocalEngine
from model.mnist_data import as_png, load_split

WARM_UP_RUNS = 3


def summary(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{label:<34} median {statistics.median(ordered):8.2f} ms   p95 {p95:8.2f} ms   (n={len(ordered)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--model-dir", default=None, help="weights directory (default: model/weights)")
    args = parser.parse_args()

    digits, _ = load_split("test")
    body = {"image": base64.b64encode(as_png(digits[0])).decode(), "clientId": "bench"}

    with workflow_handlers(args.model_dir) as handlers:
        engine = LocalEngine(handlers)

        def direct(run: int) -> None:
            state: Any = {"requestId": f"direct-{run}", "request": body}
            for handler in handlers.values():
                state = json.loads(json.dumps(handler(state, None)))

        def through_engine(run: int) -> None:
            result = engine.start_sync_execution(json.dumps({"requestId": f"engine-{run}", "request": body}))
            if result["status"] != "SUCCEEDED":
                raise RuntimeError(f"execution failed: {result.get('error')}: {result.get('cause')}")

        direct_ms = samples_ms(args.runs, direct, warm_up=WARM_UP_RUNS)
        engine_ms = samples_ms(args.runs, through_engine, warm_up=WARM_UP_RUNS)
        definition = json.dumps(engine.definition)
        parse_ms = samples_ms(5, lambda _: parse(definition))

    print(summary("four handlers called directly", direct_ms))
    print(summary("whole workflow through the engine", engine_ms))
    overhead = statistics.median(engine_ms) - statistics.median(direct_ms)
    print(f"{'engine overhead per execution':<34} median {overhead:8.2f} ms")
    print(summary("parsing the definition (once)", parse_ms))


if __name__ == "__main__":
    main()
