"""What the HTTP contract (DESIGN.md) promises, as helpers whose failure
messages name the call: method, path, status and the start of the body."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from functions.core.tasks import INVOKE_MODEL, PREPROCESS, VALIDATE
from tests.contract.digits import KnownDigit
from tests.contract.stack_client import Call, excerpt

Item = dict[str, Any]

# Every field of a prediction item (DESIGN.md) but the optional feedbackLabel
# and lowConfidence, which has a check of its own.
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
STAGES = {VALIDATE.stage, PREPROCESS.stage, INVOKE_MODEL.stage}
ISO_UTC_MILLIS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
THUMBNAIL_BYTES = 28 * 28
# On AWS a listing reads a DynamoDB global secondary index, and "all reads
# from GSIs are eventually consistent" (DynamoDB developer guide, "DynamoDB
# read consistency"): listings are read again until they show a write.
HISTORY_SETTLE_SECONDS = 15.0
HISTORY_POLL_SECONDS = 0.5


def describe(response: httpx.Response) -> str:
    target = response.request.url.raw_path.decode("ascii", "replace")
    return f"{response.request.method} {target} -> {response.status_code}: {excerpt(response.text)}"


def assert_status(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, f"expected {status}, got {describe(response)}"


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    """The contract's error JSON with the error table's status, nothing else."""
    assert_status(response, status)
    content_type = response.headers.get("content-type", "")
    assert content_type.startswith("application/json"), f"content-type {content_type!r} in {describe(response)}"
    _assert_error_body(response.json(), code, describe(response))
    assert "Traceback" not in response.text, describe(response)


def assert_error_call(call: Call, status: int, code: str, body: str) -> None:
    """The same for a call made without httpx (``StackLink.post_whole_body``)."""
    assert call.status == status, f"expected {status}, got {call}"
    try:
        parsed = json.loads(body)
    except ValueError:
        raise AssertionError(f"the answer is not JSON: {call}") from None
    _assert_error_body(parsed, code, str(call))


def _assert_error_body(body: Any, code: str, call: str) -> None:
    shape = isinstance(body, dict) and set(body) == {"error"} and isinstance(body["error"], dict)
    assert shape and set(body["error"]) == {"code", "message"}, f'not {{"error": {{"code", "message"}}}}: {call}'
    assert body["error"]["code"] == code, f"expected the code {code}: {call}"
    message = body["error"]["message"]
    assert isinstance(message, str) and message.strip(), f"no message for a person: {call}"


def prediction_body(digit: KnownDigit, client_id: str) -> dict[str, str]:
    return {"image": digit.data_url(), "clientId": client_id}


def predict(api: httpx.Client, digit: KnownDigit, client_id: str) -> Item:
    response = api.post("/api/predictions", json=prediction_body(digit, client_id))
    assert_status(response, 200)
    item: Item = response.json()
    return item


def assert_complete_item(item: Item, digit: KnownDigit, client_id: str) -> None:
    """Every field of DESIGN.md's prediction item, right for this upload."""
    where = f"item for {digit.name}: {excerpt(str(item))}"
    assert set(item) >= ITEM_KEYS, f"missing {sorted(ITEM_KEYS - set(item))} in the {where}"
    assert "feedbackLabel" not in item, where
    assert isinstance(item["id"], str) and item["id"], where
    assert item["clientId"] == client_id, where
    assert item["digit"] == digit.label, f"read {item['digit']}, not {digit.label}: {where}"
    probabilities = item["probabilities"]
    assert len(probabilities) == 10 and all(isinstance(p, (int, float)) and 0 <= p <= 1 for p in probabilities), where
    assert math.isclose(sum(probabilities), 1.0, abs_tol=1e-3), where
    assert probabilities.index(max(probabilities)) == digit.label, where
    assert math.isclose(item["confidence"], max(probabilities), rel_tol=1e-6), where
    assert isinstance(item["modelVersion"], str) and item["modelVersion"], where
    assert ISO_UTC_MILLIS.fullmatch(item["createdAt"]), where
    upload = item["input"]
    assert upload["format"].upper() == digit.format, where
    assert (upload["width"], upload["height"]) == (digit.width, digit.height), where
    assert upload["bytes"] == len(digit.data), where
    assert upload["sha256"] == hashlib.sha256(digit.data).hexdigest(), where
    assert len(base64.b64decode(item["thumbnail"], validate=True)) == THUMBNAIL_BYTES, where
    timings = item["timingsMs"]
    assert set(timings) >= STAGES and all(timings[stage] >= 0 for stage in STAGES), where


def list_page(api: httpx.Client, client_id: str, **params: Any) -> dict[str, Any]:
    response = api.get("/api/predictions", params={"clientId": client_id, **params})
    assert_status(response, 200)
    page: dict[str, Any] = response.json()
    assert set(page) == {"items", "nextCursor"}, describe(response)
    return page


def listed_once_settled(api: httpx.Client, client_id: str, ready: Callable[[list[Item]], bool]) -> list[Item]:
    """The client's first 100 items once ``ready`` holds (the local stack: at once)."""
    deadline = time.monotonic() + HISTORY_SETTLE_SECONDS
    while True:
        items: list[Item] = list_page(api, client_id, limit=100)["items"]
        if ready(items):
            return items
        if time.monotonic() > deadline:
            listed = [item["id"] for item in items]
            raise AssertionError(
                f"GET /api/predictions?clientId={client_id} still lists {listed} after {HISTORY_SETTLE_SECONDS:.0f} s"
            )
        time.sleep(HISTORY_POLL_SECONDS)


def ids(items: list[Item]) -> list[str]:
    return [item["id"] for item in items]
