"""The stored prediction item stays within 1 KB, so that each prediction costs
one write unit for the table and one for its index, even with the largest
thumbnail preprocessing can make: a 20x20 box of pixels that do not compress
(functions/core/imaging.py scales a digit's longer side to 20 px). DynamoDB
charges a write unit per started KB of the item ("DynamoDB item sizes and
formats"), and writes an index entry of the projected attributes too."""

from __future__ import annotations

import base64
import random
from typing import Any

import pytest

from functions.core.history.dynamodb_store import (
    DynamoDbHistoryStore,
    item_size,
    pack_thumbnail,
    stored_attributes,
    unpack_thumbnail,
)
from functions.core.history.table import CREATED_AT, INDEX_BY_CLIENT, ORDER_KEY, THUMBNAIL
from functions.core.imaging import BOX, preprocess, thumbnail_base64
from functions.core.limits import SIDE
from functions.core.predictions import CLIENT_ID
from tests.imagegen import mnist_digit, mnist_png
from tests.support.history_items import TTL_DAYS, created_at

KB = 1024
LONGEST_CLIENT_ID = "c" * 64
# The stored form of a thumbnail: its kind and box (5 bytes), then at most BOX x BOX pixels.
LARGEST_PACKED_THUMBNAIL = 5 + BOX * BOX


def incompressible_thumbnail(seed: int = 13) -> str:
    """The largest thumbnail preprocessing can make: a full BOX x BOX box of
    random non-zero pixels, off centre, in the 28x28 field."""
    rng = random.Random(seed)
    pixels = bytearray(SIDE * SIDE)
    for row in range(3, 3 + BOX):
        for column in range(5, 5 + BOX):
            pixels[row * SIDE + column] = rng.randrange(1, 256)
    return base64.b64encode(bytes(pixels)).decode()


def largest_item(thumbnail: str) -> dict[str, Any]:
    """A prediction item with every field at its longest: 17-digit floats, the
    longest client id, a big JPEG's facts, slow stages, a correction."""
    rng = random.Random(7)
    weights = [rng.random() for _ in range(10)]
    probabilities = [w / sum(weights) for w in weights]
    return {
        "id": "0b9c0b1e-5a3f-5e0b-8c39-2b8f7a0e6d11",
        "clientId": LONGEST_CLIENT_ID,
        "digit": 7,
        "confidence": max(probabilities),
        "lowConfidence": True,
        "probabilities": probabilities,
        "modelVersion": "v2026.12",
        "createdAt": created_at(0),
        "input": {"format": "jpeg", "width": 40000, "height": 1000, "bytes": 184320, "sha256": "ab" * 32},
        "thumbnail": thumbnail,
        "timingsMs": {"validate": 1234.567, "preprocess": 12345.678, "invokeModel": 23456.789},
        "feedbackLabel": 3,
    }


def test_given_the_longest_client_id_then_it_is_the_one_the_contract_allows() -> None:
    assert CLIENT_ID.fullmatch(LONGEST_CLIENT_ID) and not CLIENT_ID.fullmatch(LONGEST_CLIENT_ID + "c")


def test_given_the_largest_thumbnail_then_it_is_stored_in_405_bytes_and_reads_back_exactly() -> None:
    thumbnail = incompressible_thumbnail()

    packed = pack_thumbnail(thumbnail)

    assert packed is not None and len(packed) == LARGEST_PACKED_THUMBNAIL
    assert unpack_thumbnail(packed) == thumbnail


@pytest.mark.parametrize("index", range(8))
def test_given_real_thumbnails_then_they_pack_small_and_read_back_exactly(index: int) -> None:
    thumbnail = thumbnail_base64(preprocess(mnist_png(mnist_digit(index))).tensor)

    packed = pack_thumbnail(thumbnail)

    assert packed is not None and len(packed) < LARGEST_PACKED_THUMBNAIL
    assert unpack_thumbnail(packed) == thumbnail


@pytest.mark.parametrize(
    "value",
    ["", "AAAA" * 196, "not base64!", base64.b64encode(bytes(SIDE * SIDE)).decode() + "\n", None, 42],
    ids=["empty", "wrong-size", "not-base64", "not-canonical", "none", "number"],
)
def test_given_a_thumbnail_that_is_not_a_28x28_image_then_it_is_stored_as_it_is(value: Any) -> None:
    assert pack_thumbnail(value) is None


def test_given_a_blank_thumbnail_then_it_packs_to_its_header_alone() -> None:
    blank = base64.b64encode(bytes(SIDE * SIDE)).decode()
    packed = pack_thumbnail(blank)
    assert packed is not None and len(packed) == 5 and unpack_thumbnail(packed) == blank


def test_given_the_largest_item_then_its_stored_size_is_within_one_kb_by_dynamodb_s_rules() -> None:
    attributes = stored_attributes(largest_item(incompressible_thumbnail()), ttl_days=TTL_DAYS)

    assert item_size(attributes) <= KB
    assert CREATED_AT not in attributes and attributes[THUMBNAIL].keys() == {"B"}
    assert item_size({"n": {"N": "0.12345678901234567"}}) == 1 + 10  # 17 digits: 9 bytes, plus 1


def test_given_the_largest_item_then_dynamodb_bills_one_write_unit_for_the_table_and_one_for_the_index(
    dynamodb_client: Any, history_table: str
) -> None:
    """DynamoDB Local reports the capacity a write consumed, per table and index."""
    item = largest_item(incompressible_thumbnail())
    store = DynamoDbHistoryStore(history_table, dynamodb_client, ttl_days=TTL_DAYS)
    stored = store.put_new(item)
    assert stored == item and store.get(item["clientId"], item["id"]) == item
    raw = dynamodb_client.get_item(TableName=history_table, Key={"id": {"S": item["id"]}})["Item"]

    again = dynamodb_client.put_item(
        TableName=history_table,
        Item={**raw, "id": {"S": item["id"].replace("0b9c", "1b9c")}},
        ReturnConsumedCapacity="INDEXES",
    )["ConsumedCapacity"]
    corrected = dynamodb_client.update_item(
        TableName=history_table,
        Key={"id": {"S": item["id"]}},
        UpdateExpression="SET feedbackLabel = :label",
        ExpressionAttributeValues={":label": {"N": "9"}},
        ReturnConsumedCapacity="INDEXES",
    )["ConsumedCapacity"]

    assert again["Table"]["CapacityUnits"] == 1.0
    assert again["GlobalSecondaryIndexes"] == {INDEX_BY_CLIENT: {"CapacityUnits": 1.0}}
    assert corrected["Table"]["CapacityUnits"] == 1.0


def test_given_an_item_stored_in_the_earlier_form_then_it_reads_back_the_same(
    dynamodb_client: Any, history_table: str
) -> None:
    """Items written before the compact form keep a string thumbnail and their createdAt."""
    item = largest_item(thumbnail_base64(preprocess(mnist_png(mnist_digit(4))).tensor))
    item["id"] = "2b9c0b1e-5a3f-5e0b-8c39-2b8f7a0e6d11"
    item["clientId"] = "client-earlier-form"
    earlier = stored_attributes(item)
    earlier[THUMBNAIL] = {"S": item["thumbnail"]}
    earlier[CREATED_AT] = {"S": item["createdAt"]}
    assert earlier[ORDER_KEY] == {"S": f"{item['createdAt']}#{item['id']}"}
    dynamodb_client.put_item(TableName=history_table, Item=earlier)

    assert DynamoDbHistoryStore(history_table, dynamodb_client).get(item["clientId"], item["id"]) == item
