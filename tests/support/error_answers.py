"""What every answer to a bad request must look like: the contract's error
JSON, and nothing internal."""

from __future__ import annotations

import re

import httpx

from functions.core.errors import ERROR_TABLE

# What a leaked stack trace or internal path looks like in a body or a log.
LEAK_PATTERN = re.compile(r'Traceback|File "|/work/|site-packages|\.py", line')


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
