"""Opens the history store that the settings name: ``SqliteHistoryStore`` for
a SQLite file (the local stack), ``DynamoDbHistoryStore`` for a DynamoDB table
(AWS). Each adapter is imported only when chosen, so that the SQLite path
never loads boto3."""

from __future__ import annotations

from pathlib import Path

from functions.core.config import HistoryLocation, SqliteHistory
from functions.core.history.dynamodb_client import HISTORY_API_ATTEMPTS
from functions.core.history.port import HistoryStore


def open_history_store(location: HistoryLocation, attempts: int = HISTORY_API_ATTEMPTS) -> HistoryStore:
    """``attempts``: how many times the DynamoDB client tries one call."""
    if isinstance(location, SqliteHistory):
        from functions.core.history.sqlite_store import SqliteHistoryStore

        path = Path(location.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHistoryStore(path)
    from functions.core.history.dynamodb_client import dynamodb_client
    from functions.core.history.dynamodb_store import DynamoDbHistoryStore

    return DynamoDbHistoryStore(location.table, client=dynamodb_client(attempts), ttl_days=location.ttl_days)
