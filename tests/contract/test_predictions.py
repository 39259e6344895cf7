"""``POST /api/predictions``: real uploads of known digits come back read
right, as complete prediction items (DESIGN.md)."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.contract.digits import KnownDigit, canvas_drawings, clear_digits, phone_photos
from tests.contract.expect import assert_complete_item, assert_status, describe, predict

KNOWN_DIGITS = [*clear_digits(), *canvas_drawings(), *phone_photos()]


def test_the_stack_answers_its_health_check(api: httpx.Client) -> None:
    response = api.get("/api/health")

    assert_status(response, 200)
    assert response.json()["status"] == "ok", describe(response)


@pytest.mark.parametrize("digit", KNOWN_DIGITS, ids=[digit.name for digit in KNOWN_DIGITS])
def test_given_a_known_digit_when_posted_then_it_comes_back_read_right_as_a_complete_item(
    api: httpx.Client, client_id: str, digit: KnownDigit
) -> None:
    assert_complete_item(predict(api, digit, client_id), digit, client_id)


def test_given_a_plain_base64_image_without_a_data_url_when_posted_then_it_is_read_too(
    api: httpx.Client, client_id: str
) -> None:
    digit = clear_digits()[0]
    response = api.post(
        "/api/predictions", json={"image": base64.b64encode(digit.data).decode(), "clientId": client_id}
    )

    assert_status(response, 200)
    assert_complete_item(response.json(), digit, client_id)


def test_every_item_says_whether_the_model_is_unsure(api: httpx.Client, client_id: str) -> None:
    item = predict(api, clear_digits()[0], client_id)

    assert isinstance(item.get("lowConfidence"), bool), f"lowConfidence is {item.get('lowConfidence')!r}"
    assert item["lowConfidence"] is False  # a clear MNIST digit
