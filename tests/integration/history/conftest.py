"""Fixtures for the history store's contract tests: each test that takes
``store`` runs once per adapter, SQLite in a temporary file and DynamoDB
against DynamoDB Local (one process and one table for the whole session;
tests keep apart by using fresh client ids).

Every test that reaches DynamoDB Local carries the ``java`` marker (it starts
Java), so ``-m "not java"`` still runs the SQLite half of the contract."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.core.history.dynamodb_store import DynamoDbHistoryStore, create_table
from functions.core.history.port import HistoryStore
from functions.core.history.sqlite_store import SqliteHistoryStore
from local.dynamodb_local import DynamoDbLocal, running_dynamodb_local
from tests.support.client_ids import new_client_id
from tests.support.history_items import TTL_DAYS, MakeItem, prediction_item

BACKENDS = ("sqlite", pytest.param("dynamodb", marks=pytest.mark.java))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "dynamodb_local" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.java)


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


@pytest.fixture
def client_id() -> str:
    return new_client_id()


@pytest.fixture
def make_client_id() -> Callable[[], str]:
    """For tests that need a fresh client per generated example."""
    return new_client_id


@pytest.fixture
def make_item() -> MakeItem:
    return prediction_item
