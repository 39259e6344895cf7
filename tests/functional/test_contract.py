"""Every call of the HTTP contract, against the real local server over HTTP."""

from __future__ import annotations

import base64
import hashlib
import math
import re
import socket
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlsplit

import httpx
import pytest

from functions.core.predictions import INVOKE_MODEL, PREPROCESS, VALIDATE
from tests.functional.conftest import assert_error, new_client_id, predict
from tests.support.local_stack import REQUEST_TIMEOUT_SECONDS

ITEM_KEYS = {
    "id",
    "clientId",
    "digit",
    "confidence",
    "probabilities",
    "modelVersion",
    "createdAt",
    "input",
    "thumbnail",
    "timingsMs",
}
# Persist stores the item, so its own timing cannot be in it.
STAGES = {VALIDATE, PREPROCESS, INVOKE_MODEL}
STATE_NAMES = ["Validate", "Preprocess", "InvokeModel", "Persist"]
ISO_UTC_MILLIS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def test_health_reports_the_local_stack_its_model_and_history_backend(api: httpx.Client) -> None:
    response = api.get("/api/health")

    assert response.status_code == 200
    health = response.json()
    assert health["status"] == "ok"
    assert health["stack"] == "local"
    assert health["historyBackend"] == "sqlite"
    assert isinstance(health["modelVersion"], str) and health["modelVersion"]


def test_given_a_real_mnist_digit_when_posted_then_the_digit_comes_back_as_a_complete_item(
    api: httpx.Client, clear_digits: list[tuple[bytes, int]]
) -> None:
    client_id = new_client_id()
    model_version = api.get("/api/health").json()["modelVersion"]

    for png, label in clear_digits:
        item = predict(api, png, client_id)

        assert item["digit"] == label
        assert ITEM_KEYS <= set(item) and "feedbackLabel" not in item
        assert item["clientId"] == client_id
        assert item["modelVersion"] == model_version
        assert len(item["probabilities"]) == 10
        assert math.isclose(sum(item["probabilities"]), 1.0, abs_tol=1e-3)
        assert item["probabilities"].index(max(item["probabilities"])) == label
        assert item["confidence"] == pytest.approx(max(item["probabilities"]))
        assert ISO_UTC_MILLIS.fullmatch(item["createdAt"])
        assert item["input"]["format"].upper() == "PNG"
        assert item["input"] | {"format": "PNG"} == {
            "format": "PNG",
            "width": 28,
            "height": 28,
            "bytes": len(png),
            "sha256": hashlib.sha256(png).hexdigest(),
        }
        assert len(base64.b64decode(item["thumbnail"])) == 28 * 28
        assert STAGES <= set(item["timingsMs"])


def test_history_lists_a_clients_items_newest_first_page_by_page(
    api: httpx.Client, clear_digits: list[tuple[bytes, int]]
) -> None:
    client_id = new_client_id()
    posted = [predict(api, png, client_id)["id"] for png, _ in clear_digits[:3]]

    first = api.get("/api/predictions", params={"clientId": client_id, "limit": 2})
    assert first.status_code == 200
    first_page = first.json()
    second = api.get(
        "/api/predictions", params={"clientId": client_id, "limit": 2, "cursor": first_page["nextCursor"]}
    ).json()

    assert [item["id"] for item in first_page["items"]] == posted[::-1][:2]
    assert [item["id"] for item in second["items"]] == posted[::-1][2:]
    assert second["nextCursor"] is None
    created = [item["createdAt"] for item in first_page["items"] + second["items"]]
    assert created == sorted(created, reverse=True)


def test_history_of_a_client_without_predictions_is_empty(api: httpx.Client) -> None:
    response = api.get("/api/predictions", params={"clientId": new_client_id()})

    assert response.status_code == 200
    assert response.json() == {"items": [], "nextCursor": None}


def test_one_item_is_fetched_by_its_id_for_its_own_client_only(
    api: httpx.Client, clear_digits: list[tuple[bytes, int]]
) -> None:
    client_id = new_client_id()
    item = predict(api, clear_digits[0][0], client_id)

    own = api.get(f"/api/predictions/{item['id']}", params={"clientId": client_id})
    other = api.get(f"/api/predictions/{item['id']}", params={"clientId": new_client_id()})

    assert own.status_code == 200
    assert own.json() == item
    assert_error(other, 404, "NotFound")


def test_feedback_records_a_persons_correction_on_the_item(
    api: httpx.Client, clear_digits: list[tuple[bytes, int]]
) -> None:
    client_id = new_client_id()
    item = predict(api, clear_digits[0][0], client_id)

    response = api.post(f"/api/predictions/{item['id']}/feedback", json={"clientId": client_id, "label": 3})
    fetched = api.get(f"/api/predictions/{item['id']}", params={"clientId": client_id}).json()

    assert response.status_code == 200
    assert response.json() == {**item, "feedbackLabel": 3}
    assert fetched["feedbackLabel"] == 3


def test_executions_list_the_latest_run_and_show_it_state_by_state(
    api: httpx.Client, clear_digits: list[tuple[bytes, int]]
) -> None:
    predict(api, clear_digits[0][0], new_client_id())

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


def test_the_site_is_served_with_the_right_content_types_and_revalidation(api: httpx.Client) -> None:
    page = api.get("/")
    console = api.get("/console.html")
    script = api.get("/js/app.js")
    style = api.get("/css/app.css")

    assert page.status_code == 200 and "<html" in page.text
    assert page.headers["content-type"].startswith("text/html")
    assert console.status_code == 200 and console.headers["content-type"].startswith("text/html")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    assert page.headers["cache-control"] == "no-cache"
    assert api.get("/", headers={"if-none-match": page.headers["etag"]}).status_code == 304


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/api/health"),
        ("GET", "/api/predictions?clientId=nobody"),
        ("GET", "/api/nothing-here"),
        ("POST", "/api/predictions"),
    ],
)
def test_every_response_carries_the_security_headers(api: httpx.Client, method: str, path: str) -> None:
    headers = api.request(method, path, content=b"{").headers

    policy = headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "img-src 'self' data: blob:" in policy
    assert "frame-ancestors 'none'" in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"]


def test_api_answers_are_never_cached(api: httpx.Client) -> None:
    assert api.get("/api/health").headers["cache-control"] == "no-store"
    assert api.get("/api/predictions", params={"clientId": "x"}).headers["cache-control"] == "no-store"


def test_concurrent_clients_each_see_only_their_own_history(
    stack_url: str, clear_digits: list[tuple[bytes, int]]
) -> None:
    client_ids = [new_client_id() for _ in range(6)]

    def one_person(client_id: str) -> tuple[list[str], dict[str, object]]:
        with httpx.Client(base_url=stack_url, timeout=REQUEST_TIMEOUT_SECONDS) as client:
            posted = [predict(client, png, client_id)["id"] for png, _ in clear_digits[:3]]
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

