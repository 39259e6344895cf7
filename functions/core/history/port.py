"""The history store's port: what the handlers need, whatever keeps the data.

Adapters: ``functions.core.history.sqlite_store.SqliteHistoryStore`` (the local
stack's default) and ``functions.core.history.dynamodb_store.DynamoDbHistoryStore``
(AWS). Both pass the same contract tests in ``tests/integration/history``.

Errors: the port owns them. Every method raises only the error table's
exceptions (``functions.core.errors``), as each method lists below, whatever
keeps the data; none of a storage library's own errors crosses the port. Besides
what a method lists, any method may raise ``Throttled`` (the storage is
throttling, failing for a moment, unreachable or too slow: worth another try,
which may meet an earlier attempt's write done after all) and ``InternalError``
(any other failure of the storage, such as a missing table; not worth another
try). The storage's own error stays chained as the cause, for the log.

An item is the contract's prediction item, a plain JSON-ready dict with at least
``id``, ``clientId`` and ``createdAt``. ``createdAt`` is ISO 8601 UTC with
milliseconds in exactly one form, ``2024-05-01T12:34:56.789Z``, because both
adapters sort on its text. Items come back as plain JSON values: a
float that happens to be whole (``1.0``) may come back as the int ``1``, which
compares equal and means the same JSON number.

The checks and the cursor encoding below are shared by the adapters so both
reject the same bad input with the same error.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Protocol

from functions.core import strict_json
from functions.core.errors import BadRequest

Item = dict[str, Any]

MIN_LIMIT = 1
MAX_LIMIT = 100
DEFAULT_LIMIT = 20
REQUIRED_KEYS = ("id", "clientId", "createdAt")
# Longest ``id`` or ``clientId`` (UTF-8 bytes): within every adapter's key limits.
MAX_KEY_BYTES = 1024
DUPLICATE_ID_MESSAGE = "An item with this id already exists."
BAD_CURSOR_MESSAGE = "The cursor is not valid. Start again from the first page."
CREATED_AT_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
# A cursor's position is one flat list or object of keys.
CURSOR_DEPTH = 1


@dataclass(frozen=True)
class Page:
    items: list[Item]  # newest first
    next_cursor: str | None  # opaque; None when there is nothing more


class HistoryStore(Protocol):
    def put_new(self, item: Item) -> Item:
        """Stores a new item once and returns the stored item. Idempotent on
        ``id``: storing an identical item again returns the stored one; a
        *different* item with an existing id raises ``BadRequest`` and changes
        nothing. An item without an ``id`` and a ``clientId`` (strings of 1 to
        ``MAX_KEY_BYTES`` bytes), with a ``createdAt`` not in the form above,
        or with a non-finite number, is a ``BadRequest``."""
        ...

    def get(self, client_id: str, item_id: str) -> Item:
        """One item of this client; ``NotFound`` if absent or another client's."""
        ...

    def list(self, client_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page:
        """A client's items, newest first; items with the same ``createdAt``
        by ``id``, descending (both adapters sort on ``createdAt`` then ``id``),
        so the order is the same from page to page. ``limit`` outside 1-100
        or a bad cursor raises ``BadRequest``.
        ``next_cursor`` is None exactly when no item follows."""
        ...

    def set_feedback(self, client_id: str, item_id: str, label: int) -> Item:
        """Records a person's correction as ``feedbackLabel``; returns the
        updated item. ``label`` must be an int 0-9 (``BadRequest``).
        ``NotFound`` if the item is absent or another client's."""
        ...

    def delete(self, client_id: str, item_id: str) -> None:
        """Removes one item of this client for good. ``NotFound`` if it is
        absent (also when it was deleted before) or another client's, whose
        item is left as it is."""
        ...

    def clear(self, client_id: str) -> int:
        """Removes every item of this client, and no other client's; returns
        how many it removed (0 for a client without items). DynamoDB finds the
        items through its eventually consistent index: an item stored a moment
        before may be missed, and a later ``clear`` removes it. ``Throttled``
        also when DynamoDB keeps refusing part of the work after a few retries
        (some items may be gone by then: calling again finishes the job)."""
        ...


def check_item(item: Item) -> None:
    """Raises ``BadRequest`` unless the item can be stored as it is."""
    if not isinstance(item, dict):
        raise BadRequest("A history item must be a JSON object.")
    for key in REQUIRED_KEYS:
        if not isinstance(item.get(key), str):
            raise BadRequest(f"A history item needs a string '{key}'.")
    for key in ("id", "clientId"):
        if not is_key(item[key]):
            raise BadRequest(f"A history item's '{key}' must be 1 to {MAX_KEY_BYTES} bytes long.")
    if not CREATED_AT_FORMAT.fullmatch(item["createdAt"]):
        raise BadRequest("A history item's 'createdAt' must look like 2024-05-01T12:34:56.789Z.")
    if not _all_finite(item):
        raise BadRequest("A history item may only hold finite numbers.")


def is_key(value: str) -> bool:
    """Whether a string can be an ``id`` or ``clientId`` at all."""
    return 0 < len(value.encode("utf-8", "surrogatepass")) <= MAX_KEY_BYTES


def check_limit(limit: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not MIN_LIMIT <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from {MIN_LIMIT} to {MAX_LIMIT}.")


def check_label(label: int) -> None:
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label <= 9:
        raise BadRequest("label must be a whole number from 0 to 9.")


def encode_cursor(position: Any) -> str:
    """An opaque, URL-safe cursor for a JSON-ready position."""
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> Any:
    """The position inside a cursor made by ``encode_cursor``; ``BadRequest``
    for anything else, including JSON no store could take back (``NaN``, a
    lone surrogate escape, nesting deeper than a position has). Adapters still
    check the position's shape."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return strict_json.loads(base64.urlsafe_b64decode(padded.encode("ascii")), CURSOR_DEPTH)
    except (TypeError, ValueError, UnicodeError, binascii.Error):
        raise BadRequest(BAD_CURSOR_MESSAGE) from None


def _all_finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_all_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_all_finite(v) for v in value)
    return True
