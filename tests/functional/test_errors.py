"""Refusals the local server makes at its edge, where API Gateway makes them on
AWS: its own routes' bad input, methods a route does not have (404
``NotFound``, the answer API Gateway's MISSING_AUTHENTICATION_TOKEN gateway
response gives them), bodies that are not JSON as RFC 8259 has it, and
oversized bodies without holding them in memory or waiting for them forever.
The error codes every stack answers are in tests/contract/test_errors.py."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from functions.core.api_contract import DOCUMENT_PATH, NO_SUCH_ROUTE, UNSUPPORTED_MEDIA_TYPE
from local.server import MAX_DISCARDED_BODY_BYTES
from tests.contract.digits import clear_digits
from tests.contract.expect import assert_error, prediction_body
from tests.support.client_ids import new_client_id
from tests.support.local_stack import peak_memory_bytes, server_pid

FIFTY_MB = 50 * 1024 * 1024
CHUNK = 1024 * 1024
# Far below the 50 MB that reading the body would cost.
MEMORY_HEADROOM_BYTES = 16 * 1024 * 1024
SOCKET_TIMEOUT_SECONDS = 10.0


# "²" and "٣" are digits to str.isdigit() that int() cannot read; an empty value is no number.
@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "2.5", "²", "٣", "", "1" * 5000])
def test_a_bad_executions_limit_is_a_bad_request(api: httpx.Client, limit: str) -> None:
    assert_error(api.get("/api/executions", params={"limit": limit}), 400, "BadRequest")


@pytest.mark.parametrize("limit", ["²", "٣", "", " 5", "1" * 5000])
def test_a_history_limit_that_is_not_plain_ascii_digits_is_a_bad_request(api: httpx.Client, limit: str) -> None:
    response = api.get("/api/predictions", params={"clientId": new_client_id(), "limit": limit})

    assert_error(response, 400, "BadRequest")


def test_a_cursor_that_decodes_to_a_lone_surrogate_is_a_bad_request(api: httpx.Client) -> None:
    """``["\ud800","x"]`` in base64url: JSON, but no store can encode the text."""
    response = api.get("/api/predictions", params={"clientId": new_client_id(), "cursor": "WyJcdWQ4MDAiLCJ4Il0"})

    assert_error(response, 400, "BadRequest")


def test_an_unknown_execution_is_not_found(api: httpx.Client) -> None:
    assert_error(api.get("/api/executions/no-such-execution"), 404, "NotFound")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/api/predictions"),
        ("PATCH", "/api/predictions/some-id"),
        ("GET", "/api/predictions/some-id/feedback"),
        ("POST", "/api/health"),
        ("OPTIONS", "/api/predictions"),
        ("TRACE", "/api/health"),
        ("POST", "/api/executions"),
    ],
)
def test_a_method_the_route_does_not_have_is_not_found_as_on_aws(api: httpx.Client, method: str, path: str) -> None:
    response = api.request(method, path)

    assert_error(response, 404, "NotFound")
    assert response.json()["error"]["message"] == NO_SUCH_ROUTE
    assert "allow" not in response.headers


@pytest.mark.parametrize("path", ["/api/health", "/api/predictions?clientId=someone"])
def test_head_is_no_method_of_the_api_as_on_aws(api: httpx.Client, path: str) -> None:
    """API Gateway has no HEAD for a resource that only has GET: it is a method the route does not have."""
    assert api.head(path).status_code == 404


def test_head_of_the_openapi_document_is_answered_as_the_site_bucket_answers_it_on_aws(api: httpx.Client) -> None:
    response = api.head(DOCUMENT_PATH)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.content == b""


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_a_prediction_body_that_is_not_declared_json_is_a_bad_request(api: httpx.Client, content_type: str) -> None:
    """The integration maps application/json only, and API Gateway takes a body without
    a Content-Type as that; anything else gets the UNSUPPORTED_MEDIA_TYPE gateway response."""
    body = json.dumps(prediction_body(clear_digits()[0], new_client_id())).encode()

    response = api.post("/api/predictions", content=body, headers={"content-type": content_type})

    assert_error(response, 400, "BadRequest")
    assert response.json()["error"]["message"] == UNSUPPORTED_MEDIA_TYPE


@pytest.mark.parametrize("content_type", [None, "application/json; charset=utf-8", "Application/JSON"])
def test_a_prediction_body_declared_json_or_not_declared_at_all_is_read(
    api: httpx.Client, content_type: str | None
) -> None:
    body = json.dumps(prediction_body(clear_digits()[0], new_client_id())).encode()

    response = api.post(
        "/api/predictions", content=body, headers={"content-type": content_type} if content_type else {}
    )

    assert response.status_code == 200, response.text


def test_a_50_mb_body_gets_a_413_without_being_held_in_memory(api: httpx.Client, stack_url: str) -> None:
    """Declared and streamed (chunked): read on to its end and dropped, chunk by chunk."""
    pid = server_pid(stack_url)
    api.get("/api/health")
    before = peak_memory_bytes(pid)

    declared = api.post("/api/predictions", content=b"x" * FIFTY_MB, headers={"content-type": "application/json"})

    def chunks() -> Iterator[bytes]:
        for _ in range(FIFTY_MB // CHUNK):
            yield b"y" * CHUNK

    streamed = api.post("/api/predictions", content=chunks(), headers={"content-type": "application/json"})

    assert_error(declared, 413, "ImageTooLarge")
    assert_error(streamed, 413, "ImageTooLarge")
    assert peak_memory_bytes(pid) - before < MEMORY_HEADROOM_BYTES
    assert api.get("/api/health").status_code == 200


def test_a_body_declared_beyond_the_discard_bound_is_refused_without_waiting_for_it(stack_url: str) -> None:
    """Reading a refused body on has a bound: a client that announces more
    gets its 413 at once, though it sends only one byte of the body."""
    address = urlsplit(stack_url)
    assert address.hostname is not None and address.port is not None
    head = (
        "POST /api/predictions HTTP/1.1\r\n"
        f"Host: {address.netloc}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {MAX_DISCARDED_BODY_BYTES + 1}\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port), timeout=SOCKET_TIMEOUT_SECONDS) as connection:
        connection.sendall(head.encode("ascii") + b"{")
        answer = connection.makefile("rb").readline()

    assert answer.startswith(b"HTTP/1.1 413 "), answer
