"""Every error code a request can reach on the local stack, with the error
table's status and the contract's error JSON (ModelUnavailable, Throttled and
InternalError need a failing AWS, covered by tests/workflow)."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.functional.conftest import (
    assert_error,
    new_client_id,
    predict,
    prediction_body,
)
from tests.support.local_stack import peak_memory_bytes, server_pid

FIFTY_MB = 50 * 1024 * 1024
CHUNK = 1024 * 1024
# Far below the 50 MB that reading the body would cost.
MEMORY_HEADROOM_BYTES = 16 * 1024 * 1024


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _image_body(data: bytes) -> dict[str, str]:
    return {"image": base64.b64encode(data).decode("ascii"), "clientId": new_client_id()}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"clientId": "someone"},
        {"image": "iVBORw0KGgo="},
        {"image": 42, "clientId": "someone"},
        {"image": "not base64 at all!", "clientId": "someone"},
        ["image", "clientId"],
        "a string",
    ],
    ids=["empty", "no-image", "no-client", "image-not-string", "image-not-base64", "array", "string"],
)
def test_a_prediction_request_missing_its_fields_is_a_bad_request(api: httpx.Client, body: Any) -> None:
    assert_error(api.post("/api/predictions", json=body), 400, "BadRequest")


@pytest.mark.parametrize("client_id", ["", "has space", "semi;colon", "x" * 65, "ünïcode"])
def test_a_bad_client_id_is_a_bad_request(api: httpx.Client, client_id: str) -> None:
    body = {"image": base64.b64encode(_png(Image.new("L", (28, 28), 255))).decode(), "clientId": client_id}

    assert_error(api.post("/api/predictions", json=body), 400, "BadRequest")
    assert_error(api.get("/api/predictions", params={"clientId": client_id}), 400, "BadRequest")


@pytest.mark.parametrize("content", [b"", b"{not json", b"\xff\xfe\x00", b'{"image": "abc"'])
def test_a_body_that_is_not_json_is_a_bad_request(api: httpx.Client, content: bytes) -> None:
    response = api.post("/api/predictions", content=content, headers={"content-type": "application/json"})

    assert_error(response, 400, "BadRequest")


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "2.5"])
def test_a_bad_limit_is_a_bad_request(api: httpx.Client, limit: str) -> None:
    assert_error(api.get("/api/predictions", params={"clientId": "someone", "limit": limit}), 400, "BadRequest")
    assert_error(api.get("/api/executions", params={"limit": limit}), 400, "BadRequest")


def test_a_bad_cursor_is_a_bad_request(api: httpx.Client) -> None:
    response = api.get("/api/predictions", params={"clientId": "someone", "cursor": "not-a-cursor!"})

    assert_error(response, 400, "BadRequest")


@pytest.mark.parametrize(
    "feedback",
    [
        {"label": 10},
        {"label": -1},
        {"label": "3"},
        {"label": 2.5},
        {"label": True},
        {},
    ],
    ids=["ten", "negative", "string", "fraction", "boolean", "missing"],
)
def test_a_bad_feedback_label_is_a_bad_request(
    api: httpx.Client, clear_digits: list[tuple[bytes, int]], feedback: dict[str, Any]
) -> None:
    client_id = new_client_id()
    item = predict(api, clear_digits[0][0], client_id)

    response = api.post(f"/api/predictions/{item['id']}/feedback", json={"clientId": client_id, **feedback})

    assert_error(response, 400, "BadRequest")


def test_a_feedback_body_that_is_not_json_is_a_bad_request(api: httpx.Client) -> None:
    response = api.post("/api/predictions/some-id/feedback", content=b"\xff{")

    assert_error(response, 400, "BadRequest")


def test_a_truncated_image_is_an_invalid_image(api: httpx.Client, clear_digits: list[tuple[bytes, int]]) -> None:
    png = clear_digits[0][0]

    assert_error(api.post("/api/predictions", json=_image_body(png[: len(png) // 2])), 400, "InvalidImage")


def test_an_image_over_the_upload_limit_is_too_large(api: httpx.Client) -> None:
    # Noise does not compress: a PNG of about 210 KB, over the 180 KB limit.
    noise = np.random.default_rng(0).integers(0, 256, (460, 460), dtype=np.uint8)
    png = _png(Image.fromarray(noise, "L"))

    assert_error(api.post("/api/predictions", json=_image_body(png)), 413, "ImageTooLarge")


def test_a_50_mb_body_gets_a_quick_413_without_being_held_in_memory(api: httpx.Client, stack_url: str) -> None:
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


@pytest.mark.parametrize(
    "data",
    [b"just some text, not an image at all", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", b"\x00\x00\x01\x00icon"],
    ids=["text", "pdf", "ico"],
)
def test_a_file_that_is_not_a_supported_image_is_unsupported(api: httpx.Client, data: bytes) -> None:
    assert_error(api.post("/api/predictions", json=_image_body(data)), 415, "UnsupportedImageType")


def test_a_blank_image_has_no_digit(api: httpx.Client) -> None:
    blank = _png(Image.new("L", (280, 280), 255))

    assert_error(api.post("/api/predictions", json=_image_body(blank)), 422, "NoDigitFound")


def test_an_unknown_item_is_not_found(api: httpx.Client) -> None:
    client_id = new_client_id()

    assert_error(api.get("/api/predictions/no-such-id", params={"clientId": client_id}), 404, "NotFound")
    response = api.post("/api/predictions/no-such-id/feedback", json={"clientId": client_id, "label": 1})
    assert_error(response, 404, "NotFound")


def test_an_unknown_execution_is_not_found(api: httpx.Client) -> None:
    assert_error(api.get("/api/executions/no-such-execution"), 404, "NotFound")


@pytest.mark.parametrize("path", ["/api/nothing", "/api/predictions/a/b/c", "/api/"])
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_an_unknown_api_route_is_not_found_as_json(api: httpx.Client, method: str, path: str) -> None:
    assert_error(api.request(method, path), 404, "NotFound")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/predictions", "GET, POST"),
        ("PUT", "/api/predictions/some-id", "GET"),
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


def test_json_padding_within_the_body_limit_is_parsed_not_refused(api: httpx.Client) -> None:
    body = prediction_body(_png(Image.new("L", (28, 28), 255)), new_client_id())
    padded = ("{" + " " * 100_000 + json.dumps(body)[1:]).encode()

    assert_error(api.post("/api/predictions", content=padded), 422, "NoDigitFound")
