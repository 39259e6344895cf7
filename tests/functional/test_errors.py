"""Refusals only the local server makes: its own routes' bad input, unsupported
methods (405 here; on AWS API Gateway answers them as unknown routes), and
oversized bodies without holding them in memory or waiting for them forever.
The error codes every stack answers are in tests/contract/test_errors.py."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from local.server import MAX_DISCARDED_BODY_BYTES
from tests.contract.expect import assert_error
from tests.support.local_stack import peak_memory_bytes, server_pid

FIFTY_MB = 50 * 1024 * 1024
CHUNK = 1024 * 1024
# Far below the 50 MB that reading the body would cost.
MEMORY_HEADROOM_BYTES = 16 * 1024 * 1024
SOCKET_TIMEOUT_SECONDS = 10.0


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "2.5"])
def test_a_bad_executions_limit_is_a_bad_request(api: httpx.Client, limit: str) -> None:
    assert_error(api.get("/api/executions", params={"limit": limit}), 400, "BadRequest")


def test_an_unknown_execution_is_not_found(api: httpx.Client) -> None:
    assert_error(api.get("/api/executions/no-such-execution"), 404, "NotFound")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/predictions", "DELETE, GET, POST"),
        ("PATCH", "/api/predictions/some-id", "DELETE, GET"),
        ("GET", "/api/predictions/some-id/feedback", "POST"),
        ("POST", "/api/health", "GET"),
    ],
)
def test_an_unsupported_method_is_refused_as_json_naming_the_allowed_ones(
    api: httpx.Client, method: str, path: str, allowed: str
) -> None:
    response = api.request(method, path)

    assert_error(response, 405, "BadRequest")
    assert set(response.headers["allow"].split(", ")) >= set(allowed.split(", "))


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
