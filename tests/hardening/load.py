"""Concurrent clients posting predictions, a record of every answer, and the
audit that checks the history against that record.

Each request carries a client id of its own, so the history of that id says
exactly what became of the request: a 200 must have left exactly its item, an
error answer nothing, and a request that was in flight when the server died
(sent, never answered) at most one item. Shared by the SIGKILL test and the
soak (``bench/soak.py``).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.local_stack import REQUEST_TIMEOUT_SECONDS
from tests.support.stack_probes import history_of

# After a refused connection (the server is down), wait before trying again.
RECONNECT_PAUSE_SECONDS = 0.05


@dataclass(frozen=True)
class PlannedRequest:
    body: bytes
    expected_status: int
    expected_code: str | None = None  # None: a prediction item


@dataclass(frozen=True)
class Outcome:
    client_id: str
    expected_status: int
    expected_code: str | None
    # None: no answer came (the server died, or the connection was refused).
    status: int | None
    code: str | None  # error code of the answer, or the transport error's class name
    item: dict[str, Any] | None
    # False only when the connection was refused: the request reached no server.
    sent: bool
    latency_ms: float
    finished_at: float

    @property
    def as_expected(self) -> bool:
        return self.status == self.expected_status and self.code == self.expected_code


# Makes the request for a fresh client id, with the answer it must get.
PlanRequest = Callable[[random.Random, str], PlannedRequest]


@dataclass
class LoadRecord:
    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)

    def snapshot(self) -> list[Outcome]:
        with self.lock:
            return list(self.outcomes)


def run_clients(
    base_url: Callable[[], str],
    clients: int,
    plan: PlanRequest,
    stop: threading.Event,
    record: LoadRecord,
    seed: int = 0,
) -> list[threading.Thread]:
    """Starts ``clients`` threads, each posting one request after the other
    (keep-alive) to ``base_url()`` until ``stop`` is set; returns the threads."""
    threads = [
        threading.Thread(target=_client_loop, args=(base_url, plan, stop, record, random.Random(seed + n)), daemon=True)
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    return threads


def _client_loop(
    base_url: Callable[[], str], plan: PlanRequest, stop: threading.Event, record: LoadRecord, rng: random.Random
) -> None:
    with httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS) as http:
        while not stop.is_set():
            client_id = f"load-{uuid.UUID(int=rng.getrandbits(128), version=4).hex}"
            planned = plan(rng, client_id)
            outcome = send(http, base_url(), client_id, planned)
            record.add(outcome)
            if not outcome.sent:
                time.sleep(RECONNECT_PAUSE_SECONDS)


def send(http: httpx.Client, base_url: str, client_id: str, planned: PlannedRequest) -> Outcome:
    started = time.perf_counter()
    status: int | None = None
    code: str | None = None
    item: dict[str, Any] | None = None
    sent = True
    try:
        response = http.post(
            f"{base_url}/api/predictions", content=planned.body, headers={"content-type": "application/json"}
        )
        status = response.status_code
        body = response.json()
        if status == 200:
            item = body
        else:
            code = body.get("error", {}).get("code") if isinstance(body, dict) else None
    except httpx.ConnectError as error:
        sent, code = False, type(error).__name__
    except (httpx.TransportError, ValueError) as error:
        code = type(error).__name__
    return Outcome(
        client_id,
        planned.expected_status,
        planned.expected_code,
        status,
        code,
        item,
        sent,
        (time.perf_counter() - started) * 1000,
        time.monotonic(),
    )


@dataclass
class Audit:
    checked: int = 0
    acknowledged: int = 0  # 200 answers, each found exactly once and identical
    in_flight: int = 0  # sent but never answered
    in_flight_persisted: int = 0  # of those, the ones whose item was stored anyway
    problems: list[str] = field(default_factory=list)


def audit(api: httpx.Client, outcomes: list[Outcome]) -> Audit:
    """Compares each request's outcome with its client's history on ``api``."""
    result = Audit()
    for outcome in outcomes:
        items = history_of(api, outcome.client_id)
        result.checked += 1
        if outcome.status == 200:
            result.acknowledged += 1
            if items != [outcome.item]:
                result.problems.append(
                    f"{outcome.client_id}: answered 200, history holds {len(items)} item(s) {_ids(items)}"
                )
        elif outcome.status is not None or not outcome.sent:
            if items:
                result.problems.append(
                    f"{outcome.client_id}: answered {outcome.status or outcome.code}, yet stored {_ids(items)}"
                )
        else:
            result.in_flight += 1
            result.in_flight_persisted += len(items)
            if len(items) > 1:
                result.problems.append(f"{outcome.client_id}: in flight at the kill, stored {len(items)} items")
    return result


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [str(item.get("id")) for item in items]
