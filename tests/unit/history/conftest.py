"""Fixtures for the history store's contract tests: each test that takes
``store`` runs once per adapter, SQLite in a temporary file and DynamoDB
against DynamoDB Local (one process and one table for the whole session;
tests keep apart by using fresh client ids)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from functions.core.history.dynamodb_store import DynamoDbHistoryStore, create_table
from functions.core.history.port import HistoryStore, Item
from functions.core.history.sqlite_store import SqliteHistoryStore
from local.dynamodb_local import DynamoDbLocal, running_dynamodb_local

BACKENDS = ("sqlite", "dynamodb")
TTL_DAYS = 30
# Items are dated from the session's start, not a fixed past date: with a TTL
# they would otherwise be expired already, and DynamoDB Local's TTL sweeper
# deletes expired items at moments of its own choosing, mid-test.
EPOCH = datetime.now(UTC).replace(microsecond=0)

MakeItem = Callable[..., Item]


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[DynamoDbLocal]:
    with running_dynamodb_local() as instance:
        yield instance


@pytest.fixture(scope="session")
def dynamodb_client(dynamodb_local: DynamoDbLocal) -> Any:
    return dynamodb_local.client()


@pytest.fixture(scope="session")
def history_table(dynamodb_client: Any) -> str:
    name = "PredictionHistory-test"
    create_table(dynamodb_client, name)
    return name


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[HistoryStore]:
    if backend == "sqlite":
        sqlite_store = SqliteHistoryStore(tmp_path / "history.db")
        yield sqlite_store
        sqlite_store.close()
    else:
        # Looked up only here so that SQLite-only runs never start Java.
        client = request.getfixturevalue("dynamodb_client")
        yield DynamoDbHistoryStore(request.getfixturevalue("history_table"), client, ttl_days=TTL_DAYS)


def new_client_id() -> str:
    return f"client-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def client_id() -> str:
    return new_client_id()


@pytest.fixture
def make_client_id() -> Callable[[], str]:
    """For tests that need a fresh client per generated example."""
    return new_client_id


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


@pytest.fixture
def make_item() -> MakeItem:
    return prediction_item
