"""The history store the configuration asks for, and its failures in the
error table's terms.

``history_store(settings)``: ``SqliteHistoryStore`` for ``HISTORY_BACKEND=sqlite``
(the local stack), ``DynamoDbHistoryStore`` for ``dynamodb`` (AWS) with a
client whose timeouts and retries fit inside the workflow's time budget.

``store_errors()``: DynamoDB throttling, once the client's own attempts are
spent, becomes ``Throttled`` (the workflow retries Persist on it, and the API
answers 429); so do DynamoDB's 5xx, lost connections and timeouts, with a
message that says the history is busy; any other storage failure is left to
surface as an internal error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from functions.core.config import ConfigError, Settings
from functions.core.errors import Throttled
from functions.core.history.port import HistoryStore

# DynamoDB answers in milliseconds: a call that takes a second is failing.
DYNAMODB_CONNECT_TIMEOUT_SECONDS = 0.5
DYNAMODB_READ_TIMEOUT_SECONDS = 1.0
# Attempts per call. Persist makes one: its task is short and the workflow
# retries Throttled with backoff; the history API (no workflow) retries itself.
PERSIST_ATTEMPTS = 1
HISTORY_API_ATTEMPTS = 2
# DynamoDB's own failures, worth another try (its error reference: HTTP 500/503).
SERVER_ERROR_CODES = frozenset({"InternalServerError", "ServiceUnavailable"})
STORE_BUSY_MESSAGE = "The history is busy right now. Please try again shortly."
THROTTLING_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})


def history_store(settings: Settings, attempts: int = HISTORY_API_ATTEMPTS) -> HistoryStore:
    """``attempts``: how many times the DynamoDB client tries one call."""
    if settings.history_backend == "sqlite" and settings.history_sqlite_path:
        from functions.core.history.sqlite_store import SqliteHistoryStore

        path = Path(settings.history_sqlite_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHistoryStore(path)
    if settings.history_backend == "dynamodb" and settings.history_table:
        import boto3
        from botocore.config import Config

        from functions.core.history.dynamodb_store import DynamoDbHistoryStore

        client = boto3.client("dynamodb", config=Config(**dynamodb_client_options(attempts)))
        return DynamoDbHistoryStore(settings.history_table, client=client, ttl_days=settings.history_ttl_days)
    raise ConfigError("Environment variable HISTORY_BACKEND must be set, with HISTORY_TABLE or HISTORY_SQLITE_PATH.")


def dynamodb_client_options(attempts: int) -> dict[str, Any]:
    """botocore ``Config`` options of the DynamoDB client."""
    return {
        "connect_timeout": DYNAMODB_CONNECT_TIMEOUT_SECONDS,
        "read_timeout": DYNAMODB_READ_TIMEOUT_SECONDS,
        "retries": {"mode": "standard", "total_max_attempts": attempts},
    }


@contextmanager
def store_errors() -> Iterator[None]:
    try:
        yield
    except Exception as error:
        if _error_code(error) in THROTTLING_CODES:
            raise Throttled() from error
        if _is_transient(error):
            # The write may have happened (an answer lost, a read timeout): the
            # workflow's retry meets its own item and answers it, never a duplicate.
            raise Throttled(STORE_BUSY_MESSAGE) from error
        raise


def _is_transient(error: Exception) -> bool:
    """A DynamoDB 5xx, or botocore's connection failures and timeouts (by class
    name, so that the SQLite path never imports botocore)."""
    if _error_code(error) in SERVER_ERROR_CODES:
        return True
    return any(
        cls.__module__ == "botocore.exceptions" and cls.__name__ in ("ConnectionError", "HTTPClientError")
        for cls in type(error).__mro__
    )


def _error_code(error: Exception) -> str | None:
    # botocore's ClientError carries its code in ``response``; duck-typed so
    # that the SQLite path never imports botocore.
    response: Any = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return code if isinstance(code, str) else None
    return None
