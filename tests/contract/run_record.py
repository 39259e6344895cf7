"""What one run of the contract suite keeps for its summary: its client ids,
the timed predictions, and the checks that broke."""

from __future__ import annotations

import itertools
import statistics
import uuid
from dataclasses import dataclass, field

from tests.contract.stack_client import Call, StackLink

CLIENT_ID_PREFIX = "smoke"
# The run's exit status when no stack answers at all (pytest's for a usage error).
NO_STACK = 4


class ClientIds:
    """The run's client ids, ``smoke-<run>-<n>``: all of them are cleared at the end."""

    def __init__(self) -> None:
        self._run = uuid.uuid4().hex[:8]
        self._numbers = itertools.count(1)
        self.made: list[str] = []

    def new(self) -> str:
        client_id = f"{CLIENT_ID_PREFIX}-{self._run}-{next(self._numbers)}"
        self.made.append(client_id)
        return client_id


@dataclass
class Latency:
    """The first prediction's time and the warm ones after it, in seconds."""

    warm_requests: int
    cold: float | None = None
    warm: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        if self.cold is None:
            self.cold = seconds
        else:
            self.warm.append(seconds)

    def summary(self) -> str:
        if self.cold is None:
            return "latency: no prediction was timed"
        line = f"cold: the first prediction took {self.cold * 1000:.0f} ms"
        if len(self.warm) >= 2:
            cuts = statistics.quantiles(self.warm, n=100, method="inclusive")
            line += (
                f"; warm: p50 {cuts[49] * 1000:.0f} ms, p95 {cuts[94] * 1000:.0f} ms over {len(self.warm)} predictions"
            )
        return line


@dataclass(frozen=True)
class Broken:
    test: str
    call: Call | None
    why: str


@dataclass
class RunRecord:
    link: StackLink | None = None
    latency: Latency | None = None
    broken: list[Broken] = field(default_factory=list)
