"""The history store port owns its errors: a storage failure leaves an
adapter as one of the error table's exceptions, never as botocore's or
sqlite3's, with the storage's own error chained as the cause for the log.
No Java here: DynamoDB is a socket that refuses or never answers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import BotoCoreError, EndpointConnectionError, NoCredentialsError, ReadTimeoutError

from functions.core.errors import InternalError, Throttled
from functions.core.history.dynamodb_client import PERSIST_ATTEMPTS, dynamodb_client
from functions.core.history.dynamodb_store import STORE_BUSY_MESSAGE, DynamoDbHistoryStore
from functions.core.history.sqlite_store import SqliteHistoryStore
from tests.support.aws_env import use_no_aws_credentials

TABLE = "PredictionHistory-test"
CLIENT = "client-1"


def _listening_socket() -> socket.socket:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    return listener


@pytest.fixture
def silent_dynamodb() -> Iterator[str]:
    """An endpoint that takes connections and never answers: the kernel
    completes them in the listen backlog, nothing ever reads them."""
    listener = _listening_socket()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.fixture
def refusing_dynamodb() -> str:
    """An endpoint where nothing listens any more."""
    listener = _listening_socket()
    port = listener.getsockname()[1]
    listener.close()
    return f"http://127.0.0.1:{port}"


def persist_store(monkeypatch: pytest.MonkeyPatch, endpoint_url: str, credentials: bool = True) -> DynamoDbHistoryStore:
    """The store as Persist opens it on AWS (its client's timeouts and one
    attempt per call), pointed at ``endpoint_url``, with dummy credentials or none."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint_url)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    if credentials:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return DynamoDbHistoryStore(TABLE, client=dynamodb_client(PERSIST_ATTEMPTS))


def test_given_dynamodb_that_never_answers_when_read_then_throttled_with_the_busy_message(
    monkeypatch: pytest.MonkeyPatch, silent_dynamodb: str
) -> None:
    """A read timeout: the write may have happened, so the workflow's retry is
    the right answer (it meets its own item, never a duplicate)."""
    store = persist_store(monkeypatch, silent_dynamodb)

    with pytest.raises(Throttled) as raised:
        store.get(CLIENT, "some-id")

    assert raised.value.message == STORE_BUSY_MESSAGE
    assert isinstance(raised.value.__cause__, ReadTimeoutError)


def test_given_dynamodb_unreachable_when_written_then_throttled_with_the_busy_message(
    monkeypatch: pytest.MonkeyPatch, refusing_dynamodb: str
) -> None:
    store = persist_store(monkeypatch, refusing_dynamodb)

    for call in (lambda: store.delete(CLIENT, "some-id"), lambda: store.clear(CLIENT)):
        with pytest.raises(Throttled) as raised:
            call()
        assert raised.value.message == STORE_BUSY_MESSAGE
        assert isinstance(raised.value.__cause__, EndpointConnectionError)


def test_given_no_aws_credentials_when_used_then_internal_error_not_worth_a_retry(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, refusing_dynamodb: str
) -> None:
    use_no_aws_credentials(monkeypatch, tmp_path)
    store = persist_store(monkeypatch, refusing_dynamodb, credentials=False)

    with pytest.raises(InternalError) as raised:
        store.list(CLIENT)

    assert type(raised.value) is InternalError
    assert isinstance(raised.value.__cause__, NoCredentialsError)


def test_given_a_closed_sqlite_store_when_used_then_internal_error(tmp_path: Path) -> None:
    store = SqliteHistoryStore(tmp_path / "history.db")
    store.close()

    with pytest.raises(InternalError) as raised:
        store.list(CLIENT)

    assert not isinstance(raised.value.__cause__, BotoCoreError)
    assert type(raised.value.__cause__).__module__ == "sqlite3"
