"""`make bench`: every benchmark, one after the other, each in its own process.

Figures are printed, never asserted: speed goals are checked by reading them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = (
    "bench.bench_preprocessing",
    "bench.bench_model",
    "bench.cold_start",
    "bench.bench_workflow",
    "bench.bench_http",
    "tests.browser.latency",  # what a person waits for on the page, in Chromium
    "bench.cost_estimate",
    "bench.soak",
)


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    failed = []
    for module in BENCHMARKS:
        print(f"\n=== {module} ===", flush=True)
        if subprocess.run([sys.executable, "-m", module], cwd=root).returncode != 0:
            failed.append(module)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
