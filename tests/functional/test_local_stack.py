"""What only the local stack has or does, over HTTP: its health details, the
executions console and API, uncached answers, its loopback binding, and many
clients at once. The contract every stack keeps is tests/contract."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlsplit

import httpx
import pytest

from tests.contract.digits import clear_digits
from tests.contract.expect import predict
from tests.support.client_ids import new_client_id
from tests.support.local_stack import REQUEST_TIMEOUT_SECONDS

STATE_NAMES = ["Validate", "Preprocess", "InvokeModel", "Persist"]


def test_health_reports_the_local_stack_its_model_and_history_backend(api: httpx.Client) -> None:
    response = api.get("/api/health")

    assert response.status_code == 200
    health = response.json()
    assert health["status"] == "ok"
    assert health["stack"] == "local"
    assert health["historyBackend"] == "sqlite"
    assert isinstance(health["modelVersion"], str) and health["modelVersion"]


def test_items_name_the_model_version_that_health_reports(api: httpx.Client) -> None:
    item = predict(api, clear_digits()[0], new_client_id())

    assert item["modelVersion"] == api.get("/api/health").json()["modelVersion"]


def test_executions_list_the_latest_run_and_show_it_state_by_state(api: httpx.Client) -> None:
    predict(api, clear_digits()[0], new_client_id())

    listed = api.get("/api/executions", params={"limit": 5})
    assert listed.status_code == 200
    executions = listed.json()["executions"]
    assert 1 <= len(executions) <= 5
    latest = executions[0]
    assert latest["status"] == "SUCCEEDED"
    assert latest["durationMs"] >= 0
    starts = [execution["startDate"] for execution in executions]
    assert starts == sorted(starts, reverse=True)

    described = api.get(f"/api/executions/{quote(latest['executionArn'], safe='')}")
    assert described.status_code == 200
    execution = described.json()
    assert execution["executionArn"] == latest["executionArn"]
    assert [state["name"] for state in execution["states"] if state["type"] == "Task"] == STATE_NAMES
    for state in execution["states"]:
        assert state["durationMs"] is not None
        assert "input" in state and "output" in state and "retries" in state


def test_a_failed_execution_shows_its_error(api: httpx.Client) -> None:
    api.post("/api/predictions", json={"clientId": new_client_id()})

    latest = api.get("/api/executions", params={"limit": 1}).json()["executions"][0]
    execution = api.get(f"/api/executions/{latest['name']}").json()

    assert latest["status"] == "FAILED"
    assert latest["error"] == "BadRequest"
    assert execution["states"][0]["name"] == "Validate"
    assert execution["states"][0]["error"] == "BadRequest"


def test_the_executions_console_is_served(api: httpx.Client) -> None:
    console = api.get("/console.html")

    assert console.status_code == 200 and console.headers["content-type"].startswith("text/html")


def test_api_answers_are_never_cached(api: httpx.Client) -> None:
    assert api.get("/api/health").headers["cache-control"] == "no-store"
    assert api.get("/api/predictions", params={"clientId": "x"}).headers["cache-control"] == "no-store"
    assert api.delete("/api/predictions", params={"clientId": new_client_id()}).headers["cache-control"] == "no-store"


def test_concurrent_clients_each_see_only_their_own_history(stack_url: str) -> None:
    client_ids = [new_client_id() for _ in range(6)]

    def one_person(client_id: str) -> tuple[list[str], dict[str, object]]:
        with httpx.Client(base_url=stack_url, timeout=REQUEST_TIMEOUT_SECONDS) as client:
            posted = [predict(client, digit, client_id)["id"] for digit in clear_digits()[:3]]
            listed = client.get("/api/predictions", params={"clientId": client_id}).json()
            return posted, listed

    with ThreadPoolExecutor(max_workers=len(client_ids)) as pool:
        results = list(pool.map(one_person, client_ids))

    for client_id, (posted, listed) in zip(client_ids, results, strict=True):
        items = listed["items"]
        assert isinstance(items, list)
        assert [item["id"] for item in items] == posted[::-1]
        assert {item["clientId"] for item in items} == {client_id}


def test_the_server_binds_only_the_loopback_address_by_default(stack_url: str) -> None:
    """Bound to 127.0.0.1, not to every address: 127.0.0.2 is the same
    machine, but a socket bound to 127.0.0.1 alone does not answer there."""
    port = urlsplit(stack_url).port
    assert port is not None

    socket.create_connection(("127.0.0.1", port), timeout=5).close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", port), timeout=5).close()
