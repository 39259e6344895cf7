"""Timing helpers shared by the benchmarks: figures to print, never to assert."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def samples_ms(runs: int, once: Callable[[int], Any], warm_up: int = 0) -> list[float]:
    """Wall time of ``once(run)`` in milliseconds, ``runs`` times, after
    ``warm_up`` untimed calls (numbered -1, -2, ... so callers can tell)."""
    for run in range(warm_up):
        once(-1 - run)
    samples = []
    for run in range(runs):
        started = time.perf_counter()
        once(run)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def median_ms(runs: int, call: Callable[[], Any], warm_up: int = 1) -> float:
    return statistics.median(samples_ms(runs, lambda _: call(), warm_up))
