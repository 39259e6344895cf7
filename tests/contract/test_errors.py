"""Every error code a request can reach from outside, with the error table's
status and the contract's error JSON (``ModelUnavailable`` and
``InternalError`` need a failing part inside: tests/workflow and
tests/hardening; ``Throttled``: test_throttling.py)."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from functions.core.api_contract import MAX_BODY_BYTES
from tests.contract.digits import clear_digits
from tests.contract.expect import Item, assert_error, assert_error_call, predict
from tests.contract.run_record import ClientIds
from tests.contract.stack_client import StackLink

# Over API Gateway's 10 MB payload limit (API Gateway quotas: "Payload size",
# REST APIs), which answers it with its own REQUEST_TOO_LARGE gateway response.
LARGE_BODY_BYTES = 20 * 1024 * 1024


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _image_body(data: bytes, client_id: str = "someone") -> dict[str, str]:
    return {"image": base64.b64encode(data).decode("ascii"), "clientId": client_id}


def _prediction_request_of_size(size: int) -> bytes:
    """A well-formed prediction request of exactly ``size`` bytes (its image: zeros in base64)."""
    head, tail = b'{"clientId": "someone", "image": "', b'"}'
    return head + b"A" * (size - len(head) - len(tail)) + tail


@pytest.fixture(scope="module")
def own_item(api: httpx.Client, client_ids: ClientIds) -> Item:
    """One item, for the checks that need something to correct."""
    return predict(api, clear_digits()[0], client_ids.new())


# --- BadRequest -------------------------------------------------------------------


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
def test_a_bad_client_id_is_a_bad_request_on_every_call(api: httpx.Client, client_id: str) -> None:
    body = _image_body(_png(Image.new("L", (28, 28), 255)), client_id)

    assert_error(api.post("/api/predictions", json=body), 400, "BadRequest")
    assert_error(api.get("/api/predictions", params={"clientId": client_id}), 400, "BadRequest")
    assert_error(api.delete("/api/predictions", params={"clientId": client_id}), 400, "BadRequest")
    assert_error(api.delete("/api/predictions/some-id", params={"clientId": client_id}), 400, "BadRequest")


@pytest.mark.parametrize("path", ["/api/predictions", "/api/predictions/some-id"])
def test_a_call_without_a_client_id_is_a_bad_request(api: httpx.Client, path: str) -> None:
    assert_error(api.get(path), 400, "BadRequest")
    assert_error(api.delete(path), 400, "BadRequest")


@pytest.mark.parametrize("content", [b"", b"{not json", b"\xff\xfe\x00", b'{"image": "abc"'])
def test_a_body_that_is_not_json_is_a_bad_request(api: httpx.Client, content: bytes) -> None:
    response = api.post("/api/predictions", content=content, headers={"content-type": "application/json"})

    assert_error(response, 400, "BadRequest")


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "2.5"])
def test_a_bad_limit_is_a_bad_request(api: httpx.Client, limit: str) -> None:
    assert_error(api.get("/api/predictions", params={"clientId": "someone", "limit": limit}), 400, "BadRequest")


def test_a_bad_cursor_is_a_bad_request(api: httpx.Client) -> None:
    response = api.get("/api/predictions", params={"clientId": "someone", "cursor": "not-a-cursor!"})

    assert_error(response, 400, "BadRequest")


@pytest.mark.parametrize(
    "feedback",
    [{"label": 10}, {"label": -1}, {"label": "3"}, {"label": 2.5}, {"label": True}, {}],
    ids=["ten", "negative", "string", "fraction", "boolean", "missing"],
)
def test_a_bad_feedback_label_is_a_bad_request(api: httpx.Client, own_item: Item, feedback: dict[str, Any]) -> None:
    body = {"clientId": own_item["clientId"], **feedback}

    assert_error(api.post(f"/api/predictions/{own_item['id']}/feedback", json=body), 400, "BadRequest")


def test_a_feedback_body_that_is_not_json_is_a_bad_request(api: httpx.Client) -> None:
    response = api.post(
        "/api/predictions/some-id/feedback", content=b"\xff{", headers={"content-type": "application/json"}
    )

    assert_error(response, 400, "BadRequest")


# --- the image ------------------------------------------------------------------------


def test_a_truncated_image_is_an_invalid_image(api: httpx.Client) -> None:
    png = clear_digits()[0].data

    assert_error(api.post("/api/predictions", json=_image_body(png[: len(png) // 2])), 400, "InvalidImage")


def test_an_image_over_the_upload_limit_is_too_large(api: httpx.Client) -> None:
    # Noise does not compress: a PNG of about 210 KB, over the 180 KB limit, in a body under 256 KB.
    noise = np.random.default_rng(0).integers(0, 256, (460, 460), dtype=np.uint8)
    png = _png(Image.fromarray(noise, "L"))

    assert_error(api.post("/api/predictions", json=_image_body(png)), 413, "ImageTooLarge")


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, LARGE_BODY_BYTES], ids=["just-over-the-limit", "20MB"])
def test_a_body_over_the_limit_sent_whole_before_reading_gets_a_readable_413(link: StackLink, size: int) -> None:
    """As urllib and browsers' fetch send: the whole body, then read the answer."""
    call, body = link.post_whole_body("/api/predictions", _prediction_request_of_size(size))

    assert_error_call(call, 413, "ImageTooLarge", body)


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


def test_json_padding_within_the_body_limit_is_parsed_not_refused(api: httpx.Client) -> None:
    body = _image_body(_png(Image.new("L", (28, 28), 255)))
    padded = ("{" + " " * 100_000 + json.dumps(body)[1:]).encode()

    response = api.post("/api/predictions", content=padded, headers={"content-type": "application/json"})

    assert_error(response, 422, "NoDigitFound")


# --- NotFound ---------------------------------------------------------------------------


def test_an_unknown_item_is_not_found_on_every_call(api: httpx.Client, new_client_id: Callable[[], str]) -> None:
    client_id = new_client_id()

    assert_error(api.get("/api/predictions/no-such-id", params={"clientId": client_id}), 404, "NotFound")
    response = api.post("/api/predictions/no-such-id/feedback", json={"clientId": client_id, "label": 1})
    assert_error(response, 404, "NotFound")
    assert_error(api.delete("/api/predictions/no-such-id", params={"clientId": client_id}), 404, "NotFound")


@pytest.mark.parametrize("path", ["/api/nothing", "/api/predictions/a/b/c", "/api/"])
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_an_unknown_api_route_is_not_found_as_json(api: httpx.Client, method: str, path: str) -> None:
    assert_error(api.request(method, path), 404, "NotFound")
