"""The history Lambda's delete routes over each store (SQLite, DynamoDB Local),
called with API Gateway REST proxy events as on AWS: 204 with no body, the
error table's JSON otherwise."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from functions.core.config import DynamoDbHistory, HistoryApiSettings, HistoryLocation, SqliteHistory
from functions.core.errors import NotFound, Throttled
from functions.core.history.dynamodb_store import BATCH_WRITE_ATTEMPTS, DynamoDbHistoryStore
from functions.core.history.port import HistoryStore, Item
from functions.handlers import history
from functions.handlers._runtime import Handler
from tests.integration.history.test_store_contract import listed_once_settled
from tests.support.api_events import api_gateway_event
from tests.support.history_items import TTL_DAYS

MakeItem = Callable[..., Item]


@pytest.fixture(autouse=True)
def quiet_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


QUIET = "WARNING"


@pytest.fixture
def api(store: HistoryStore, backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Handler:
    """The history Lambda over ``store``, with settings that name that same store."""
    location: HistoryLocation = (
        SqliteHistory(path=str(tmp_path / "history.db"))
        if backend == "sqlite"
        else DynamoDbHistory(table=request.getfixturevalue("history_table"), ttl_days=TTL_DAYS)
    )
    return history.build(HistoryApiSettings(log_level=QUIET, history=location), store=store)


def delete(handler: Handler, path: str, query: dict[str, str] | None) -> dict[str, Any]:
    response: dict[str, Any] = handler(api_gateway_event("DELETE", path, query), None)
    return response


def error_of(response: dict[str, Any]) -> tuple[int, str]:
    body = json.loads(response["body"])
    assert set(body) == {"error"} and body["error"]["message"]
    return response["statusCode"], body["error"]["code"]


def test_given_an_item_when_its_owner_deletes_it_then_204_without_a_body_and_it_is_gone(
    api: Handler, store: HistoryStore, client_id: str, make_item: MakeItem
) -> None:
    item = store.put_new(make_item(client_id))

    response = delete(api, f"/api/predictions/{item['id']}", {"clientId": client_id})

    assert response["statusCode"] == 204 and not response["body"]
    with pytest.raises(NotFound):
        store.get(client_id, item["id"])
    assert error_of(delete(api, f"/api/predictions/{item['id']}", {"clientId": client_id})) == (404, "NotFound")


def test_given_another_clients_item_when_deleted_then_not_found_and_kept(
    api: Handler, store: HistoryStore, client_id: str, make_item: MakeItem
) -> None:
    theirs = store.put_new(make_item(client_id + "-other"))

    response = delete(api, f"/api/predictions/{theirs['id']}", {"clientId": client_id})

    assert error_of(response) == (404, "NotFound")
    assert store.get(theirs["clientId"], theirs["id"]) == theirs


def test_given_two_clients_when_one_clears_then_204_and_only_their_items_are_gone(
    api: Handler, store: HistoryStore, client_id: str, make_item: MakeItem
) -> None:
    mine = [store.put_new(make_item(client_id, offset_ms=n)) for n in range(3)]
    theirs = store.put_new(make_item(client_id + "-other"))
    listed_once_settled(store, client_id, lambda items: len(items) == len(mine))

    response = delete(api, "/api/predictions", {"clientId": client_id})

    assert response["statusCode"] == 204 and not response["body"]
    assert listed_once_settled(store, client_id, lambda items: items == []) == []
    assert store.get(theirs["clientId"], theirs["id"]) == theirs


@pytest.mark.parametrize("path", ["/api/predictions", "/api/predictions/some-id"])
@pytest.mark.parametrize("query", [None, {"clientId": ""}, {"clientId": "has space"}, {"clientId": "x" * 65}])
def test_given_no_valid_client_id_when_deleting_then_bad_request(
    api: Handler, path: str, query: dict[str, str] | None
) -> None:
    assert error_of(delete(api, path, query)) == (400, "BadRequest")


def test_given_dynamodb_keeps_refusing_deletes_when_clearing_then_429_throttled(
    dynamodb_client: Any, history_table: str, client_id: str
) -> None:
    settings = HistoryApiSettings(log_level=QUIET, history=DynamoDbHistory(table=history_table))
    handler = history.build(settings, store=DynamoDbHistoryStore(history_table, dynamodb_client))
    unprocessed = {history_table: [{"DeleteRequest": {"Key": {"id": {"S": "a"}}}}]}
    with Stubber(dynamodb_client) as stubber:
        stubber.add_response("query", {"Items": [{"id": {"S": "a"}}]})
        for _ in range(BATCH_WRITE_ATTEMPTS):
            stubber.add_response("batch_write_item", {"UnprocessedItems": unprocessed})

        response = delete(handler, "/api/predictions", {"clientId": client_id})

    assert error_of(response) == (Throttled.status, "Throttled")
