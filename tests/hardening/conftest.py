"""The real local stack for the hardening tests, and what every answer to a
bad request must look like."""

from __future__ import annotations

import base64
import re
import uuid
from pathlib import Path
from typing import Any

import httpx

from functions.core.errors import ERROR_TABLE
from tests.imagegen import mnist_digit, mnist_png

# What a leaked stack trace or internal path looks like in a body or a log.
LEAK_PATTERN = re.compile(r'Traceback|File "|/work/|site-packages|\.py", line')


def new_client_id() -> str:
    return f"hardening-{uuid.uuid4().hex}"


def digit_request(client_id: str, index: int = 0) -> dict[str, str]:
    """A clear MNIST test digit, dark ink on white, as the page would upload it."""
    png = mnist_png(mnist_digit(index), dark_ink=True)
    return {"image": "data:image/png;base64," + base64.b64encode(png).decode("ascii"), "clientId": client_id}


def assert_contract_error(response: httpx.Response, status: int | None = None, code: str | None = None) -> None:
    """A 4xx (or the given status) with the contract's error JSON, a code of
    the table, a message for a person, and nothing internal."""
    if status is None:
        assert 400 <= response.status_code < 500, response.text
    else:
        assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] in ERROR_TABLE
    assert code is None or body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"].strip()
    assert_no_leak(response.text)


def assert_no_leak(text: str) -> None:
    leak = LEAK_PATTERN.search(text)
    assert leak is None, f"internal detail leaked: ...{text[max(0, leak.start() - 200) : leak.end() + 200]}..."


def assert_healthy(api: httpx.Client) -> None:
    response = api.get("/api/health")
    assert response.status_code == 200 and response.json()["status"] == "ok", response.text


def history_of(api: httpx.Client, client_id: str) -> list[dict[str, Any]]:
    """Every item of one client, all pages."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"clientId": client_id, "limit": "100", **({"cursor": cursor} if cursor else {})}
        response = api.get("/api/predictions", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        cursor = page["nextCursor"]
        if cursor is None:
            return items


def server_stderr(pid: int) -> str:
    """What the server process wrote to its standard error so far (wherever it goes)."""
    return Path(f"/proc/{pid}/fd/2").read_text(encoding="utf-8", errors="replace")
