"""The history store in DynamoDB's ``PredictionHistory`` table (AWS).

Keys (docs/INTERFACES.md): hash key ``id`` answers "one item by id"; the
global secondary index ``ByClient`` (hash ``clientId``, range ``createdAtId`` =
``createdAt#id``) answers "a client's items, newest first"; ``expiresAt`` (epoch seconds) lets
DynamoDB's TTL delete old items.

Stored form: every field of the item is an attribute, except two that are
stored smaller so that even the largest prediction item stays within 1 KB, one
write unit, for the table and for the index ("DynamoDB item sizes and
formats"; checked by tests/integration/history/test_item_size.py):

- ``thumbnail``, when it is the canonical base64 of a 28x28 uint8 image, is
  binary: the box around its non-zero pixels, deflated when that is smaller.
  Preprocessing centres a digit of at most 20x20 pixels in the 28x28 field, so
  that is 405 bytes at most instead of 1,048 characters. Any other value stays
  a string.
- ``createdAt`` is not stored: it is the first part of ``createdAtId``.

Items written before keep their string thumbnail and ``createdAt`` and read the
same. The ``ByClient`` index holds the item's fields (``LISTED_ATTRIBUTES``) but
not ``expiresAt``: a history page returns whole items, so that is all it can leave out.

DynamoDB keeps numbers as decimals: floats go in as ``Decimal`` (from their
shortest repr, so they come back bit for bit) and come out as plain ints and
floats. Magnitudes below DynamoDB's smallest number (1e-130), which only a
probability can reach, are stored as 0.

Errors are the error table's, never botocore's (the port lists them):
DynamoDB's throttling, once the client's own attempts are spent, is
``Throttled`` (the workflow retries Persist on it, and the API answers 429); so
are its 5xx, lost connections and timeouts, with a message that says the
history is busy; any other failure (a missing table, a validation error, no
credentials) is ``InternalError``. The botocore error stays chained as the
cause, for the log.

Deleting: one item with ``DeleteItem`` on a condition that it exists and is
the asking client's; a whole history by querying the client's index for ids
and deleting them with ``BatchWriteItem``, 25 at a time (the API's maximum),
resending what DynamoDB leaves unprocessed with exponential backoff, as its
API reference asks, a bounded number of times.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from functions.core.errors import BadRequest, InternalError, NotFound, Throttled
from functions.core.history.port import (
    BAD_CURSOR_MESSAGE,
    DEFAULT_LIMIT,
    DUPLICATE_ID_MESSAGE,
    Item,
    Page,
    check_item,
    check_label,
    check_limit,
    decode_cursor,
    encode_cursor,
    is_key,
)
from functions.core.history.table import (
    CLIENT_KEY,
    CREATED_AT,
    HASH_KEY,
    INDEX_BY_CLIENT,
    KEY_ATTRIBUTES,
    LISTED_ATTRIBUTES,
    ORDER_KEY,
    STRING,
    THUMBNAIL,
    TTL_ATTRIBUTE,
)
from functions.core.limits import SIDE

_INTERNAL_ATTRIBUTES = (TTL_ATTRIBUTE, ORDER_KEY)
# A packed thumbnail: kind, then top, left, height and width of its non-zero box.
_RAW_BOX, _DEFLATED_BOX = 0, 1
_SMALLEST_NUMBER = Decimal("1e-130")
_SECONDS_PER_DAY = 86_400
_CONDITION_FAILED = "ConditionalCheckFailedException"
# BatchWriteItem takes at most 25 put or delete requests per call.
BATCH_WRITE_MAX_ITEMS = 25
# Calls per batch while DynamoDB leaves some of it unprocessed; the waits
# between them double from the first (0.05 + 0.1 + 0.2 + 0.4 s at most).
BATCH_WRITE_ATTEMPTS = 5
BATCH_WRITE_FIRST_BACKOFF_SECONDS = 0.05
UNPROCESSED_MESSAGE = "Your history is busy right now: part of it is not cleared yet. Please try again."
# DynamoDB's throttling codes, and its own failures worth another try (its
# error reference, "Error handling with DynamoDB": HTTP 500/503).
THROTTLING_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})
SERVER_ERROR_CODES = frozenset({"InternalServerError", "ServiceUnavailable"})
STORE_BUSY_MESSAGE = "The history is busy right now. Please try again shortly."

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

AttributeMap = dict[str, Any]


@contextmanager
def _as_store_errors() -> Iterator[None]:
    """botocore's failures in the error table's terms (see the module's docstring)."""
    try:
        yield
    except ClientError as error:
        code = _error_code(error)
        if code in THROTTLING_CODES:
            raise Throttled() from error
        if code in SERVER_ERROR_CODES:
            raise Throttled(STORE_BUSY_MESSAGE) from error
        raise InternalError() from error
    except (BotocoreConnectionError, HTTPClientError) as error:
        # The write may have happened (an answer lost, a read timeout): the
        # workflow's retry meets its own item and answers it, never a duplicate.
        raise Throttled(STORE_BUSY_MESSAGE) from error
    except BotoCoreError as error:
        raise InternalError() from error


class DynamoDbHistoryStore:
    def __init__(self, table_name: str, client: Any = None, ttl_days: int = 0) -> None:
        """``client`` is a boto3 DynamoDB client (default: one from the
        environment). ``ttl_days`` > 0 makes each item expire that many days
        after its ``createdAt``; 0 keeps items forever."""
        if isinstance(ttl_days, bool) or not isinstance(ttl_days, int) or ttl_days < 0:
            raise ValueError(f"ttl_days must be a whole number of days >= 0, not {ttl_days!r}")
        self._table = table_name
        self._client = client if client is not None else boto3.client("dynamodb")
        self._ttl_days = ttl_days

    @_as_store_errors()
    def put_new(self, item: Item) -> Item:
        check_item(item)
        attributes = stored_attributes(item, self._ttl_days)
        stored = _from_attributes(attributes)
        try:
            self._client.put_item(
                TableName=self._table,
                Item=attributes,
                ConditionExpression=f"attribute_not_exists({HASH_KEY})",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if _error_code(error) != _CONDITION_FAILED:
                raise
            existing = _from_attributes(error.response["Item"])
            if existing != stored:
                raise BadRequest(DUPLICATE_ID_MESSAGE) from None
            return existing
        return stored

    @_as_store_errors()
    def get(self, client_id: str, item_id: str) -> Item:
        if not is_key(item_id):
            raise NotFound()
        response = self._client.get_item(TableName=self._table, Key={HASH_KEY: {"S": item_id}}, ConsistentRead=True)
        attributes = response.get("Item")
        if attributes is None or attributes[CLIENT_KEY] != {STRING: client_id}:
            raise NotFound()
        return _from_attributes(attributes)

    @_as_store_errors()
    def list(self, client_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page:
        check_limit(limit)
        start_key = _start_key(client_id, cursor)
        if not is_key(client_id):
            return Page(items=[], next_cursor=None)
        found: list[AttributeMap] = []
        # One more than asked tells whether another page follows; a query may
        # stop early at 1 MB, so keep reading until that many are found.
        while True:
            query = {**self._client_query(client_id), "ScanIndexForward": False, "Limit": limit + 1 - len(found)}
            if start_key is not None:
                query["ExclusiveStartKey"] = start_key
            response = self._client.query(**query)
            found += response["Items"]
            start_key = response.get("LastEvaluatedKey")
            if len(found) > limit or start_key is None:
                break
        page = found[:limit]
        next_cursor = None
        if len(found) > limit:
            next_cursor = encode_cursor({name: page[-1][name]["S"] for name in KEY_ATTRIBUTES})
        return Page(items=[_from_attributes(attributes) for attributes in page], next_cursor=next_cursor)

    @_as_store_errors()
    def set_feedback(self, client_id: str, item_id: str, label: int) -> Item:
        check_label(label)
        if not is_key(item_id):
            raise NotFound()
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key={HASH_KEY: {"S": item_id}},
                UpdateExpression="SET feedbackLabel = :label",
                ConditionExpression=f"attribute_exists({HASH_KEY}) AND {CLIENT_KEY} = :client",
                ExpressionAttributeValues={":label": {"N": str(label)}, ":client": {"S": client_id}},
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _error_code(error) == _CONDITION_FAILED:
                raise NotFound() from None
            raise
        return _from_attributes(response["Attributes"])

    @_as_store_errors()
    def delete(self, client_id: str, item_id: str) -> None:
        if not is_key(item_id):
            raise NotFound()
        try:
            self._client.delete_item(
                TableName=self._table,
                Key={HASH_KEY: {"S": item_id}},
                # Without attribute_exists, deleting a missing item succeeds silently.
                ConditionExpression=f"attribute_exists({HASH_KEY}) AND {CLIENT_KEY} = :client",
                ExpressionAttributeValues={":client": {"S": client_id}},
            )
        except ClientError as error:
            if _error_code(error) == _CONDITION_FAILED:
                raise NotFound() from None
            raise

    def _client_query(self, client_id: str) -> dict[str, Any]:
        """A query of one client's items, through the index."""
        return {
            "TableName": self._table,
            "IndexName": INDEX_BY_CLIENT,
            "KeyConditionExpression": f"{CLIENT_KEY} = :client",
            "ExpressionAttributeValues": {":client": {"S": client_id}},
        }

    @_as_store_errors()
    def clear(self, client_id: str) -> int:
        if not is_key(client_id):
            return 0
        removed = 0
        start_key: AttributeMap | None = None
        while True:
            query = {**self._client_query(client_id), "ProjectionExpression": HASH_KEY}
            if start_key is not None:
                query["ExclusiveStartKey"] = start_key
            response = self._client.query(**query)
            item_ids = [attributes[HASH_KEY]["S"] for attributes in response["Items"]]
            for first in range(0, len(item_ids), BATCH_WRITE_MAX_ITEMS):
                self._delete_batch(item_ids[first : first + BATCH_WRITE_MAX_ITEMS])
            removed += len(item_ids)
            start_key = response.get("LastEvaluatedKey")
            if start_key is None:
                return removed

    def _delete_batch(self, item_ids: Sequence[str]) -> None:
        """Deletes these items unconditionally: they came from the client's
        own index entries, and an item never changes owner."""
        requests = {self._table: [{"DeleteRequest": {"Key": {HASH_KEY: {"S": item_id}}}} for item_id in item_ids]}
        for attempt in range(BATCH_WRITE_ATTEMPTS):
            if attempt:
                time.sleep(BATCH_WRITE_FIRST_BACKOFF_SECONDS * 2 ** (attempt - 1))
            requests = self._client.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
            if not requests:
                return
        raise Throttled(UNPROCESSED_MESSAGE)


def create_table(client: Any, table_name: str) -> None:
    """Creates the ``PredictionHistory`` schema (on demand, TTL on
    ``expiresAt``) and waits until it is usable: for tests and the local
    stack's DynamoDB mode. The Pulumi storage component declares the same."""
    client.create_table(
        TableName=table_name,
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": STRING} for name in KEY_ATTRIBUTES],
        KeySchema=[{"AttributeName": HASH_KEY, "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": INDEX_BY_CLIENT,
                "KeySchema": [
                    {"AttributeName": CLIENT_KEY, "KeyType": "HASH"},
                    {"AttributeName": ORDER_KEY, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(LISTED_ATTRIBUTES)},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )


def _start_key(client_id: str, cursor: str | None) -> AttributeMap | None:
    if cursor is None:
        return None
    position = decode_cursor(cursor)
    if (
        not isinstance(position, dict)
        or sorted(position) != sorted(KEY_ATTRIBUTES)
        or not all(isinstance(value, str) and value for value in position.values())
        or position[CLIENT_KEY] != client_id
    ):
        raise BadRequest(BAD_CURSOR_MESSAGE)
    return {name: {"S": value} for name, value in position.items()}


def stored_attributes(item: Item, ttl_days: int = 0) -> AttributeMap:
    """The item as ``put_new`` writes it (an item that passed ``check_item``)."""
    attributes = _to_attributes(item)
    attributes[ORDER_KEY] = {"S": f"{item[CREATED_AT]}#{item['id']}"}
    del attributes[CREATED_AT]
    packed = pack_thumbnail(item.get(THUMBNAIL))
    if packed is not None:
        attributes[THUMBNAIL] = {"B": packed}
    if ttl_days:
        attributes[TTL_ATTRIBUTE] = {"N": str(_epoch_seconds(item[CREATED_AT]) + ttl_days * _SECONDS_PER_DAY)}
    return attributes


def item_size(attributes: AttributeMap) -> int:
    """Bytes of a stored item by DynamoDB's rules ("DynamoDB item sizes and
    formats"): names and values; a number, 1 byte per two significant digits
    plus 1; a list or map, 3 bytes plus 1 per element. A write costs one unit
    per started KB of it."""
    return sum(len(name.encode()) + _value_size(value) for name, value in attributes.items())


def _value_size(value: AttributeMap) -> int:
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "B":
        return len(content)
    if kind == "N":
        digits = "".join(map(str, Decimal(content).as_tuple().digits)).strip("0")
        return math.ceil(len(digits) / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + _value_size(element) for element in content)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + _value_size(element) for name, element in content.items())
    raise ValueError(f"no size rule for DynamoDB type {kind}")


def pack_thumbnail(value: Any) -> bytes | None:
    """The binary form of a thumbnail that is the canonical base64 of a 28x28
    uint8 image; None for any other value (stored as it is)."""
    if not isinstance(value, str):
        return None
    try:
        pixels = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(pixels) != SIDE * SIDE or base64.b64encode(pixels).decode("ascii") != value:
        return None
    rows = [row for row in range(SIDE) if any(pixels[row * SIDE : (row + 1) * SIDE])]
    columns = [column for column in range(SIDE) if any(pixels[column::SIDE])]
    if not rows:
        return bytes([_RAW_BOX, 0, 0, 0, 0])
    top, left = rows[0], columns[0]
    height, width = rows[-1] + 1 - top, columns[-1] + 1 - left
    box = b"".join(pixels[row * SIDE + left : row * SIDE + left + width] for row in range(top, top + height))
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate: no header or checksum
    deflated = compressor.compress(box) + compressor.flush()
    kind, payload = (_DEFLATED_BOX, deflated) if len(deflated) < len(box) else (_RAW_BOX, box)
    return bytes([kind, top, left, height, width]) + payload


def unpack_thumbnail(packed: bytes) -> str:
    """The thumbnail's base64 from its binary form (``pack_thumbnail``)."""
    kind, top, left, height, width = packed[:5]
    box = zlib.decompress(packed[5:], -15) if kind == _DEFLATED_BOX else packed[5:]
    pixels = bytearray(SIDE * SIDE)
    for row in range(height):
        start = (top + row) * SIDE + left
        pixels[start : start + width] = box[row * width : (row + 1) * width]
    return base64.b64encode(bytes(pixels)).decode("ascii")


def _to_attributes(item: Item) -> AttributeMap:
    decimal_item = json.loads(json.dumps(item, allow_nan=False), parse_float=_to_decimal)
    return {name: _serializer.serialize(value) for name, value in decimal_item.items()}


def _from_attributes(attributes: AttributeMap) -> Item:
    item: Item = {
        name: _plain(_deserializer.deserialize(value))
        for name, value in attributes.items()
        if name not in _INTERNAL_ATTRIBUTES
    }
    if CREATED_AT not in item and ORDER_KEY in attributes:
        item[CREATED_AT] = attributes[ORDER_KEY]["S"].partition("#")[0]
    if THUMBNAIL in attributes and "B" in attributes[THUMBNAIL]:
        item[THUMBNAIL] = unpack_thumbnail(attributes[THUMBNAIL]["B"])
    return item


def _to_decimal(text: str) -> Decimal:
    number = Decimal(text)
    return Decimal(0) if abs(number) < _SMALLEST_NUMBER else number


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    return value


def _epoch_seconds(created_at: str) -> int:
    return int(datetime.fromisoformat(created_at).timestamp())


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
