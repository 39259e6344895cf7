"""Preprocessing figures: a canvas export, two phone photos, and the import time.

    .venv/bin/python -m bench.bench_preprocessing

One core (native thread pools limited to 1), warm-up first, then the median and
95th percentile of many runs of `preprocess` on the upload's bytes (decoding
included). Goals: canvas PNG under 1 ms, 1024x768 JPEG under 3 ms.
"""

from __future__ import annotations

import functools
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from functions.core.imaging import preprocess
from tests import imagegen

MODULE = "functions.core.imaging"
# A 7 drawn in two strokes, in the canvas's unit coordinates.
SEVEN_STROKES = [[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)], [(0.38, 0.52), (0.66, 0.52)]]


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    runs: int
    goal_ms: float | None


def cases() -> list[Case]:
    canvas = imagegen.canvas_export(imagegen.stroke_digit(SEVEN_STROKES, 280, 18.0))
    return [
        Case("canvas PNG 280x280 RGBA", canvas, 1000, 1.0),
        Case("photo JPEG 1024x768", _photo(1024, 768), 500, 3.0),
        Case("photo JPEG 4000x3000", _photo(4000, 3000), 40, None),
    ]


def _photo(width: int, height: int) -> bytes:
    """A digit filling half the frame height, dark blue ink on cream paper, quality 85."""
    side = height // 2
    coverage = imagegen.place(
        imagegen.ink_level(imagegen.mnist_digit(0), side), (width, height), (width // 3, height // 4)
    )
    return imagegen.encode(imagegen.photo(coverage, (30, 30, 110), (235, 230, 210), seed=1), "JPEG", quality=85)


def timings_ms(action: Callable[[], object], runs: int) -> list[float]:
    for _ in range(max(5, runs // 20)):
        action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000.0)
    return samples


def p95(samples: list[float]) -> float:
    return float(np.percentile(samples, 95))


def import_ms(repeats: int = 9) -> tuple[float, float]:
    """Importing the module in a fresh interpreter: (wall time less a bare interpreter's,
    cumulative time Python's -X importtime reports for it), medians in ms."""
    environment = {**os.environ, "PYTHONPATH": os.getcwd()}

    def wall(code: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=environment)
        return (time.perf_counter() - started) * 1000.0

    def reported() -> float:
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {MODULE}"],
            check=True,
            env=environment,
            capture_output=True,
            text=True,
        )
        for line in result.stderr.splitlines():
            fields = [field.strip() for field in line.removeprefix("import time:").split("|")]
            if len(fields) == 3 and fields[2] == MODULE:
                return int(fields[1]) / 1000.0
        raise RuntimeError(f"-X importtime did not report {MODULE}")

    bare = statistics.median(wall("pass") for _ in range(repeats))
    loaded = statistics.median(wall(f"import {MODULE}") for _ in range(repeats))
    return loaded - bare, statistics.median(reported() for _ in range(repeats))


def main() -> None:
    print("preprocessing, one core, after warm-up (ms)")
    print(f"{'case':<26}{'bytes':>10}{'median':>9}{'p95':>9}{'goal':>8}")
    with threadpool_limits(limits=1):
        for case in cases():
            samples = timings_ms(functools.partial(preprocess, case.data), case.runs)
            goal = f"<{case.goal_ms:g}" if case.goal_ms else "-"
            print(
                f"{case.name:<26}{len(case.data):>10,}{statistics.median(samples):>9.2f}{p95(samples):>9.2f}{goal:>8}"
            )
    wall, reported = import_ms()
    print(
        f"import {MODULE} in a fresh process: {wall:.0f} ms wall (less bare interpreter), {reported:.0f} ms by -X "
        "importtime"
    )


if __name__ == "__main__":
    main()
