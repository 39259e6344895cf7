"""SIGKILL in the middle of a load: nothing acknowledged is lost, nothing is
stored twice, and nothing is stored that was not answered 200, except requests
that were in flight at the kill (at most one item each)."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path

import httpx

from tests.hardening.load import LoadRecord, PlannedRequest, audit, run_clients
from tests.support.digit_requests import digit_request
from tests.support.local_stack import (
    REQUEST_TIMEOUT_SECONDS,
    SQLITE_HISTORY,
    running_stack,
    server_pid,
)

CLIENTS = 6
# Answers to wait for before the kill: enough that the load is well under way.
ANSWERS_BEFORE_KILL = 24
DIGITS = 5


def plan_digit(rng: random.Random, client_id: str) -> PlannedRequest:
    body = httpx.Request("POST", "/", json=digit_request(client_id, rng.randrange(DIGITS))).content
    return PlannedRequest(body, 200)


def test_a_sigkill_under_load_loses_no_acknowledged_item_and_duplicates_none(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    record, stop = LoadRecord(), threading.Event()

    with running_stack(data_dir, env=SQLITE_HISTORY) as base_url:
        threads = run_clients(lambda: base_url, CLIENTS, plan_digit, stop, record)
        deadline = time.monotonic() + REQUEST_TIMEOUT_SECONDS
        while len(record.snapshot()) < ANSWERS_BEFORE_KILL and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(server_pid(base_url), signal.SIGKILL)
        stop.set()
        for thread in threads:
            thread.join(REQUEST_TIMEOUT_SECONDS)
    outcomes = record.snapshot()

    with (
        running_stack(data_dir, env=SQLITE_HISTORY) as base_url,
        httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS) as api,
    ):
        result = audit(api, outcomes)

    acknowledged = [outcome for outcome in outcomes if outcome.status == 200]
    assert len(acknowledged) >= ANSWERS_BEFORE_KILL
    assert all(outcome.status in (200, None) for outcome in outcomes), {o.status for o in outcomes}
    assert result.problems == []
    assert result.acknowledged == len(acknowledged)
