"""History survives the server stopping (SIGTERM, as Ctrl-C or a process
manager does it), including a prediction in flight when the signal came."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.contract.digits import KnownDigit, clear_digits
from tests.contract.expect import predict, prediction_body
from tests.support.client_ids import new_client_id
from tests.support.local_stack import (
    REQUEST_TIMEOUT_SECONDS,
    SQLITE_HISTORY,
    running_stack,
    server_pid,
)

# Time for the server to read the request's headers once the first bytes of
# its body are on the wire (loopback; generous so a busy machine is no issue).
HEADERS_SETTLE_SECONDS = 1.0


def test_history_and_feedback_survive_a_restart_including_a_request_in_flight_at_sigterm(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    client_id = new_client_id()

    with running_stack(data_dir, env=SQLITE_HISTORY) as base_url, _client(base_url) as api:
        first = predict(api, clear_digits()[0], client_id)
        corrected = api.post(f"/api/predictions/{first['id']}/feedback", json={"clientId": client_id, "label": 1})
        assert corrected.status_code == 200
        in_flight = _predict_while_the_server_is_told_to_stop(api, base_url, clear_digits()[1], client_id)

    assert in_flight.status_code == 200, in_flight.text
    second = in_flight.json()

    with running_stack(data_dir, env=SQLITE_HISTORY) as base_url, _client(base_url) as api:
        listed = api.get("/api/predictions", params={"clientId": client_id}).json()
        fetched = api.get(f"/api/predictions/{first['id']}", params={"clientId": client_id}).json()

    assert [item["id"] for item in listed["items"]] == [second["id"], first["id"]]
    assert listed["items"][0] == second
    assert fetched == {**first, "feedbackLabel": 1}


def _client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS)


def _predict_while_the_server_is_told_to_stop(
    api: httpx.Client, base_url: str, digit: KnownDigit, client_id: str
) -> httpx.Response:
    """Sends half the body, SIGTERMs the server, then sends the rest."""
    body = json.dumps(prediction_body(digit, client_id)).encode()
    half_sent, go_on = threading.Event(), threading.Event()

    def slow_body() -> Iterator[bytes]:
        yield body[: len(body) // 2]
        half_sent.set()
        go_on.wait(REQUEST_TIMEOUT_SECONDS)
        yield body[len(body) // 2 :]

    pid = server_pid(base_url)
    with ThreadPoolExecutor(max_workers=1) as pool:
        response = pool.submit(api.post, "/api/predictions", content=slow_body())
        assert half_sent.wait(REQUEST_TIMEOUT_SECONDS)
        time.sleep(HEADERS_SETTLE_SECONDS)
        os.kill(pid, signal.SIGTERM)
        time.sleep(HEADERS_SETTLE_SECONDS)  # the server is shutting down now
        go_on.set()
        return response.result()
