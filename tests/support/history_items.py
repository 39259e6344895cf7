"""Prediction items for the history store's tests, shaped like the contract's."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.core.history.port import Item

TTL_DAYS = 30
# Items are dated from the session's start, not a fixed past date: with a TTL
# they would otherwise be expired already, and DynamoDB Local's TTL sweeper
# deletes expired items at moments of its own choosing, mid-test.
EPOCH = datetime.now(UTC).replace(microsecond=0)

MakeItem = Callable[..., Item]


def created_at(offset_ms: int) -> str:
    """The contract's timestamp ``offset_ms`` milliseconds after a fixed instant."""
    moment = EPOCH + timedelta(milliseconds=offset_ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def prediction_item(client_id: str, offset_ms: int = 0, **fields: Any) -> Item:
    """A prediction item shaped like the contract's, with awkward floats."""
    weights = [random.random() + 1e-9 for _ in range(10)]
    weights[3] = 1e-20  # tiny but well within every adapter's range
    total = sum(weights)
    probabilities = [w / total for w in weights]
    digit = max(range(10), key=probabilities.__getitem__)
    item: Item = {
        "id": str(uuid.uuid4()),
        "clientId": client_id,
        "digit": digit,
        "confidence": probabilities[digit],
        "probabilities": probabilities,
        "modelVersion": "mlp-2024.05-ü",
        "createdAt": created_at(offset_ms),
        "input": {"format": "PNG", "width": 280, "height": 280, "bytes": 5123, "sha256": "ab" * 32},
        "thumbnail": "AAAA" * 196,
        "timingsMs": {"validate": 0.4, "preprocess": 3.25, "invokeModel": 1 / 3, "persist": 2.0},
    }
    item.update(fields)
    return item
