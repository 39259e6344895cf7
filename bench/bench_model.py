"""Model inference figures: one image, batches of 64, and import time.

    .venv/bin/python -m bench.bench_model

Runs on one core (BLAS threads limited to 1), after a warm-up; prints medians.
Goals: one inference under 1 ms; over 5,000 images/s in batches of 64.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

from bench.timing import median_ms
from model.inference import load_model
from model.mnist_data import load_split, through_upload_path


def import_seconds(module: str, repeats: int = 7) -> float:
    """Median wall time of importing ``module`` in a fresh interpreter, less the bare interpreter."""

    def run(code: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - started

    bare = statistics.median(run("pass") for _ in range(repeats))
    loaded = statistics.median(run(f"import {module}") for _ in range(repeats))
    return max(0.0, loaded - bare)


def main() -> None:
    model = load_model()
    digits, _ = load_split("test")
    tensors = through_upload_path(digits[:64]).astype(np.float32)
    with threadpool_limits(limits=1):
        for _ in range(20):
            model.predict_proba(tensors)
        one = median_ms(2000, lambda: model.predict_proba(tensors[:1])) / 1e3
        batch = median_ms(300, lambda: model.predict_proba(tensors)) / 1e3
    imported = import_seconds("model.inference")
    print(f"model {model.version} (numpy {np.__version__}, one core)")
    print(f"  one image              {one * 1e3:8.3f} ms   goal < 1 ms")
    print(f"  batch of 64            {batch * 1e3:8.3f} ms = {64 / batch:,.0f} images/s   goal > 5,000/s")
    print(f"  import model.inference {imported * 1e3:8.1f} ms (fresh process, interpreter start subtracted)")


if __name__ == "__main__":
    main()
