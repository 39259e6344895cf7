"""The history store's contract: every test taking ``store`` runs against both
adapters (SQLite and DynamoDB on DynamoDB Local); the adapter-specific
promises (SQLite durability and concurrency, DynamoDB's TTL, number
handling and batched deletes) follow at the end."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.core.errors import BadRequest, InternalError, NotFound, Throttled
from functions.core.history.dynamodb_store import (
    BATCH_WRITE_ATTEMPTS,
    BATCH_WRITE_MAX_ITEMS,
    STORE_BUSY_MESSAGE,
    DynamoDbHistoryStore,
)
from functions.core.history.port import HistoryStore, Item, encode_cursor
from functions.core.history.sqlite_store import SqliteHistoryStore
from functions.core.history.table import INDEX_BY_CLIENT, TTL_ATTRIBUTE

MakeItem = Callable[..., Item]
# DynamoDB Local answers in milliseconds, not microseconds: fewer examples there.
EXAMPLES = {"sqlite": 40, "dynamodb": 8}


def examples_for(backend: str) -> settings:
    return settings(max_examples=EXAMPLES[backend], deadline=None)


def all_pages(store: HistoryStore, client_id: str, limit: int) -> list[list[Item]]:
    """Every page of a client's history, following cursors to the end."""
    pages = []
    cursor = None
    for _ in range(1000):  # far more pages than any test writes: a loop means a bug
        page = store.list(client_id, limit=limit, cursor=cursor)
        pages.append(page.items)
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor
    raise AssertionError("the cursor never ran out")


def ids(items: list[Item]) -> list[str]:
    return [item["id"] for item in items]


# DynamoDB's indexes (DynamoDB Local's too) are eventually consistent: a write
# shows in a client's listing a moment later. Listing assertions wait for it.
INDEX_SETTLE_SECONDS = 10.0


def listed_once_settled(store: HistoryStore, client_id: str, ready: Callable[[list[Item]], bool]) -> list[Item]:
    """The client's first 100 items, once ``ready`` holds (SQLite: at once)."""
    deadline = time.monotonic() + INDEX_SETTLE_SECONDS
    while True:
        items = store.list(client_id, limit=100).items
        if ready(items):
            return items
        if time.monotonic() > deadline:
            raise AssertionError(
                f"the listing did not settle in {INDEX_SETTLE_SECONDS} s: {len(items)} items {ids(items)}"
            )
        time.sleep(0.02)


def settle(store: HistoryStore, client_id: str, count: int) -> None:
    listed_once_settled(store, client_id, lambda items: len(items) >= count)


# --- storing and reading back ------------------------------------------------


def test_given_a_new_item_when_stored_then_get_returns_it_exactly(
    store: HistoryStore, client_id: str, make_item: MakeItem
) -> None:
    item = make_item(client_id)

    returned = store.put_new(item)

    assert returned == item
    fetched = store.get(client_id, item["id"])
    assert fetched == item
    assert fetched["probabilities"] == item["probabilities"]  # every float bit for bit
    assert all(isinstance(p, float) for p in fetched["probabilities"])
    assert fetched["input"] == item["input"] and fetched["timingsMs"] == item["timingsMs"]


def test_given_random_probabilities_when_stored_then_they_round_trip(
    store: HistoryStore, backend: str, make_item: MakeItem, make_client_id: Callable[[], str]
) -> None:
    # Below 1e-130 DynamoDB stores 0: that case has its own test.
    probability = st.floats(min_value=0, max_value=1).filter(lambda p: p == 0 or p >= 1e-130)

    @examples_for(backend)
    @given(probabilities=st.lists(probability, min_size=10, max_size=10))
    def check(probabilities: list[float]) -> None:
        client_id = make_client_id()
        nested = {"a": {"b": [probabilities[0], "x", None]}}
        item = make_item(client_id, probabilities=probabilities, nested=nested)
        store.put_new(item)
        assert store.get(client_id, item["id"]) == item

    check()


# --- idempotent writes --------------------------------------------------------


def test_given_a_stored_item_when_the_identical_item_is_stored_again_then_one_item_is_kept(
    store: HistoryStore, client_id: str, make_item: MakeItem
) -> None:
    item = make_item(client_id)
    store.put_new(item)

    again = store.put_new(dict(item))

    assert again == item
    settle(store, client_id, 1)
    assert ids(store.list(client_id).items) == [item["id"]]


def test_given_a_stored_item_when_a_different_item_reuses_its_id_then_bad_request_and_nothing_changes(
    store: HistoryStore, client_id: str, make_item: MakeItem
) -> None:
    item = make_item(client_id)
    store.put_new(item)
    other_client = client_id + "-other"

    with pytest.raises(BadRequest, match="An item with this id already exists"):
        store.put_new({**item, "digit": (item["digit"] + 1) % 10})
    with pytest.raises(BadRequest, match="An item with this id already exists"):
        store.put_new({**item, "clientId": other_client})

    assert store.get(client_id, item["id"]) == item
    settle(store, client_id, 1)
    assert store.list(client_id).items == [item]
    assert store.list(other_client).items == []


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda item: item.pop("id"), id="no id"),
        pytest.param(lambda item: item.update(id=""), id="empty id"),
        pytest.param(lambda item: item.update(id="x" * 1025), id="id too long"),
        pytest.param(lambda item: item.update(clientId=7), id="clientId not a string"),
        pytest.param(lambda item: item.update(createdAt="2024-05-01 12:00:00"), id="createdAt in another form"),
        pytest.param(lambda item: item.update(confidence=float("nan")), id="NaN"),
        pytest.param(lambda item: item["probabilities"].append(float("inf")), id="infinity in a list"),
    ],
)
def test_given_an_item_that_breaks_the_contract_when_stored_then_bad_request(
    store: HistoryStore, client_id: str, make_item: MakeItem, change: Callable[[Item], Any]
) -> None:
    item = make_item(client_id)
    change(item)

    with pytest.raises(BadRequest):
        store.put_new(item)

    assert store.list(client_id).items == []


# --- listing --------------------------------------------------------------------


def test_given_items_stored_in_any_order_when_listed_then_newest_first(
    store: HistoryStore, client_id: str, make_item: MakeItem
) -> None:
    items = [make_item(client_id, offset_ms=offset) for offset in (5, 1, 999_999, 30, 2)]
    for item in items:
        store.put_new(item)

    settle(store, client_id, len(items))
    page = store.list(client_id, limit=100)

    assert ids(page.items) == ids(sorted(items, key=lambda item: item["createdAt"], reverse=True))
    assert page.next_cursor is None


def test_given_random_histories_when_paged_through_then_every_item_comes_once_newest_first(
    store: HistoryStore, backend: str, make_item: MakeItem, make_client_id: Callable[[], str]
) -> None:
    @examples_for(backend)
    @given(
        # Few distinct instants, so many items share a createdAt.
        offsets=st.lists(st.integers(min_value=0, max_value=6), max_size=14 if backend == "dynamodb" else 30),
        neighbours=st.integers(min_value=0, max_value=3),
        limit=st.integers(min_value=1, max_value=8),
    )
    def check(offsets: list[int], neighbours: int, limit: int) -> None:
        client_id = make_client_id()
        items = [make_item(client_id, offset_ms=offset) for offset in offsets]
        for item in items:
            store.put_new(item)
        for offset in range(neighbours):  # other clients' items, interleaved in time
            store.put_new(make_item(make_client_id(), offset_ms=offset))

        settle(store, client_id, len(items))
        pages = all_pages(store, client_id, limit)

        listed = [item for page in pages for item in page]
        assert sorted(ids(listed)) == sorted(ids(items))  # none missed, none twice, no strangers
        assert [item["createdAt"] for item in listed] == sorted((item["createdAt"] for item in items), reverse=True)
        assert all(len(page) == limit for page in pages[:-1])
        assert len(pages[-1]) <= limit
        assert pages[-1] or not items  # no empty trailing page
        assert all(item["clientId"] == client_id for item in listed)

    check()


def test_given_the_same_history_when_paged_twice_then_the_order_is_the_same(
    store: HistoryStore, client_id: str, make_item: MakeItem
) -> None:
    for offset in (1, 1, 1, 2, 2, 3, 1):
        store.put_new(make_item(client_id, offset_ms=offset))

    settle(store, client_id, 7)
    assert all_pages(store, client_id, 2) == all_pages(store, client_id, 2)
    assert [item for page in all_pages(store, client_id, 3) for item in page] == store.list(client_id, 100).items


@pytest.mark.parametrize("limit", [1, 100])
def test_given_a_limit_at_either_bound_when_listed_then_it_is_accepted(
    store: HistoryStore, client_id: str, make_item: MakeItem, limit: int
) -> None:
    store.put_new(make_item(client_id))

    settle(store, client_id, 1)
    assert len(store.list(client_id, limit=limit).items) == 1


@pytest.mark.parametrize("limit", [0, -1, 101, 10_000, True, 2.5, "5", None])
def test_given_a_limit_out_of_bounds_when_listed_then_bad_request(
    store: HistoryStore, client_id: str, limit: Any
) -> None:
    with pytest.raises(BadRequest, match="limit"):
        store.list(client_id, limit=limit)


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("", id="empty"),
        pytest.param("not a cursor!", id="text"),
        pytest.param("%%%", id="no base64 at all"),
        pytest.param("gA", id="not UTF-8"),
        pytest.param(encode_cursor(None), id="null"),
        pytest.param(encode_cursor({"x": 1}), id="an unknown object"),
        pytest.param(encode_cursor(["2024-05-01T12:00:00.000Z"]), id="half a position"),
        pytest.param(encode_cursor([1, 2]), id="a position of numbers"),
        pytest.param("ñ", id="not ASCII"),
    ],
)
def test_given_a_bad_cursor_when_listed_then_bad_request(store: HistoryStore, client_id: str, cursor: str) -> None:
    with pytest.raises(BadRequest, match="cursor"):
        store.list(client_id, cursor=cursor)


def test_given_a_client_without_items_when_listed_then_an_empty_last_page(store: HistoryStore, client_id: str) -> None:
    page = store.list(client_id)

    assert page.items == [] and page.next_cursor is None


# --- clients are kept apart ---------------------------------------------------


def test_given_another_clients_item_when_read_or_corrected_then_not_found_and_unchanged(
    store: HistoryStore, client_id: str, make_item: MakeItem
) -> None:
    theirs = make_item(client_id + "-other")
    store.put_new(theirs)

    with pytest.raises(NotFound):
        store.get(client_id, theirs["id"])
    with pytest.raises(NotFound):
        store.set_feedback(client_id, theirs["id"], 1)
    with pytest.raises(NotFound):
        store.delete(client_id, theirs["id"])
    assert store.clear(client_id) == 0

    assert store.list(client_id).items == []
    assert store.get(theirs["clientId"], theirs["id"]) == theirs


@pytest.mark.parametrize("item_id", ["no-such-id", "", "x" * 5000])
def test_given_an_id_that_was_never_stored_when_read_corrected_or_deleted_then_not_found(
    store: HistoryStore, client_id: str, item_id: str
) -> None:
    with pytest.raises(NotFound):
        store.get(client_id, item_id)
    with pytest.raises(NotFound):
        store.set_feedback(client_id, item_id, 4)
    with pytest.raises(NotFound):
        store.delete(client_id, item_id)


# --- feedback -------------------------------------------------------------------


@pytest.mark.parametrize("label", [0, 9])
def test_given_an_item_when_feedback_is_recorded_then_it_is_returned_and_kept(
    store: HistoryStore, client_id: str, make_item: MakeItem, label: int
) -> None:
    item = make_item(client_id)
    store.put_new(item)

    updated = store.set_feedback(client_id, item["id"], label)

    assert updated == {**item, "feedbackLabel": label}
    assert store.get(client_id, item["id"]) == updated
    assert listed_once_settled(store, client_id, lambda items: items == [updated]) == [updated]
    assert store.set_feedback(client_id, item["id"], 3)["feedbackLabel"] == 3  # a person may change their mind


@pytest.mark.parametrize("label", [-1, 10, True, 3.0, "3", None])
def test_given_a_label_that_is_not_a_digit_when_recorded_then_bad_request_and_nothing_changes(
    store: HistoryStore, client_id: str, make_item: MakeItem, label: Any
) -> None:
    item = make_item(client_id)
    store.put_new(item)

    with pytest.raises(BadRequest, match="label"):
        store.set_feedback(client_id, item["id"], label)

    assert store.get(client_id, item["id"]) == item


# --- deleting ---------------------------------------------------------------------


def test_given_two_items_when_one_is_deleted_then_only_it_is_gone_and_a_second_delete_is_not_found(
    store: HistoryStore, client_id: str, make_item: MakeItem
) -> None:
    kept, deleted = make_item(client_id, offset_ms=1), make_item(client_id, offset_ms=2)
    store.put_new(kept)
    store.put_new(deleted)
    settle(store, client_id, 2)

    store.delete(client_id, deleted["id"])

    with pytest.raises(NotFound):
        store.get(client_id, deleted["id"])
    with pytest.raises(NotFound):
        store.delete(client_id, deleted["id"])
    with pytest.raises(NotFound):
        store.set_feedback(client_id, deleted["id"], 2)
    assert store.get(client_id, kept["id"]) == kept
    assert listed_once_settled(store, client_id, lambda items: ids(items) == [kept["id"]]) == [kept]


def test_given_a_deleted_item_when_the_same_item_is_stored_again_then_it_is_back(
    store: HistoryStore, client_id: str, make_item: MakeItem
) -> None:
    """A retried Persist after a delete writes the item again, as new: deleting
    leaves nothing behind that blocks its id."""
    item = make_item(client_id)
    store.put_new(item)
    store.delete(client_id, item["id"])

    assert store.put_new(item) == item
    assert store.get(client_id, item["id"]) == item


def test_given_two_clients_when_one_clears_then_all_of_theirs_and_none_of_the_others_are_gone(
    store: HistoryStore, client_id: str, make_item: MakeItem
) -> None:
    other = client_id + "-other"
    # More than one DynamoDB batch of deletes, interleaved in time with the other client's.
    mine = [make_item(client_id, offset_ms=2 * n) for n in range(BATCH_WRITE_MAX_ITEMS + 5)]
    theirs = [make_item(other, offset_ms=2 * n + 1) for n in range(3)]
    for item in mine + theirs:
        store.put_new(item)
    settle(store, client_id, len(mine))
    settle(store, other, len(theirs))

    removed = store.clear(client_id)

    assert removed == len(mine)
    assert listed_once_settled(store, client_id, lambda items: items == []) == []
    for item in mine[:3]:
        with pytest.raises(NotFound):
            store.get(client_id, item["id"])
    assert ids(store.list(other, limit=100).items) == ids(theirs[::-1])
    assert store.clear(client_id) == 0  # clearing an empty history is no error


def test_given_random_histories_of_two_clients_when_one_clears_then_the_other_keeps_everything(
    store: HistoryStore, backend: str, make_item: MakeItem, make_client_id: Callable[[], str]
) -> None:
    @examples_for(backend)
    @given(
        # (whose, when): items of the client who clears and of the one who keeps, in any order.
        history=st.lists(
            st.tuples(st.booleans(), st.integers(min_value=0, max_value=5)),
            max_size=12 if backend == "dynamodb" else 40,
        ),
    )
    def check(history: list[tuple[bool, int]]) -> None:
        cleared, kept = make_client_id(), make_client_id()
        items = [make_item(cleared if is_cleared else kept, offset_ms=offset) for is_cleared, offset in history]
        for item in items:
            store.put_new(item)
        for client in (cleared, kept):
            settle(store, client, sum(item["clientId"] == client for item in items))

        assert store.clear(cleared) == sum(is_cleared for is_cleared, _ in history)

        assert listed_once_settled(store, cleared, lambda listed: listed == []) == []
        remaining = [item for page in all_pages(store, kept, 100) for item in page]
        assert sorted(ids(remaining)) == sorted(item["id"] for item in items if item["clientId"] == kept)

    check()


# --- SQLite: durability and concurrency ---------------------------------------


def test_given_a_sqlite_store_when_closed_and_reopened_then_items_and_feedback_are_still_there(
    tmp_path: Path, client_id: str, make_item: MakeItem
) -> None:
    path = tmp_path / "history.db"
    items = [make_item(client_id, offset_ms=offset) for offset in range(3)]
    first = SqliteHistoryStore(path)
    for item in items:
        first.put_new(item)
    first.set_feedback(client_id, items[0]["id"], 7)
    first.close()

    reopened = SqliteHistoryStore(path)

    assert reopened.get(client_id, items[0]["id"])["feedbackLabel"] == 7
    assert ids(reopened.list(client_id).items) == ids(items[::-1])
    reopened.close()
    with sqlite3.connect(path) as connection:  # write-ahead log, kept in the file itself
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_given_items_that_share_a_timestamp_when_listed_then_ties_come_by_id_descending(
    store: HistoryStore, client_id: str, make_item: MakeItem
) -> None:
    """The order the port documents, on both adapters (DynamoDB: the index's
    sort key is ``createdAt#id``)."""
    tied = [make_item(client_id, offset_ms=1, id=item_id) for item_id in ("b", "c", "a")]
    for item in tied:
        store.put_new(item)
    settle(store, client_id, len(tied))

    assert [ids(page) for page in all_pages(store, client_id, 2)] == [["c", "b"], ["a"]]


def test_given_one_sqlite_store_when_many_threads_write_at_once_then_no_item_is_lost(
    tmp_path: Path, client_id: str, make_item: MakeItem
) -> None:
    store = SqliteHistoryStore(tmp_path / "history.db")
    shared = make_item(client_id, offset_ms=0)
    errors: list[BaseException] = []

    def write(thread: int) -> None:
        try:
            for n in range(20):
                store.put_new(make_item(client_id, offset_ms=n, id=f"thread{thread}-{n}"))
                store.put_new(shared)  # every thread retries the same write
        except BaseException as error:  # noqa: BLE001 - reported below: a thread cannot fail the test itself
            errors.append(error)

    threads = [threading.Thread(target=write, args=(thread,)) for thread in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    listed = [item for page in all_pages(store, client_id, 100) for item in page]
    assert len(listed) == 8 * 20 + 1
    assert len(set(ids(listed))) == len(listed)
    store.close()


def _write_from_another_process(path: str, items: list[Item], shared: Item) -> None:
    store = SqliteHistoryStore(path)
    for item in items:
        store.put_new(item)
        store.put_new(shared)  # every process retries the same write
    store.close()


def test_given_several_processes_when_they_write_to_one_sqlite_file_then_no_item_is_lost(
    tmp_path: Path, client_id: str, make_item: MakeItem
) -> None:
    path = str(tmp_path / "history.db")
    shared = make_item(client_id, offset_ms=0)
    batches = [[make_item(client_id, offset_ms=n) for n in range(25)] for _ in range(4)]
    # Fresh interpreters, as separate server processes would be (and no fork
    # of a test process that may be running other threads).
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_from_another_process, args=(path, batch, shared)) for batch in batches]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)

    assert [worker.exitcode for worker in workers] == [0] * 4
    store = SqliteHistoryStore(path)
    listed = [item for page in all_pages(store, client_id, 100) for item in page]
    assert len(listed) == 4 * 25 + 1
    assert len(set(ids(listed))) == len(listed)
    assert store.get(client_id, shared["id"]) == shared
    store.close()


# --- DynamoDB: TTL, numbers, failures ---------------------------------------------


def test_given_a_ttl_when_an_item_is_stored_then_dynamodb_gets_expires_at_and_callers_never_see_it(
    dynamodb_client: Any, history_table: str, client_id: str, make_item: MakeItem
) -> None:
    item = make_item(client_id)
    store = DynamoDbHistoryStore(history_table, dynamodb_client, ttl_days=30)

    returned = store.put_new(item)

    raw = dynamodb_client.get_item(TableName=history_table, Key={"id": {"S": item["id"]}})["Item"]
    created = datetime.fromisoformat(item["createdAt"]).timestamp()
    assert int(raw[TTL_ATTRIBUTE]["N"]) == int(created) + 30 * 86_400
    assert TTL_ATTRIBUTE not in returned
    assert TTL_ATTRIBUTE not in store.get(client_id, item["id"])
    settle(store, client_id, 1)
    assert TTL_ATTRIBUTE not in store.list(client_id).items[0]
    assert store.put_new(item) == item  # a retry still counts as identical
    ttl = dynamodb_client.describe_time_to_live(TableName=history_table)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", TTL_ATTRIBUTE)


def test_given_no_ttl_when_an_item_is_stored_then_it_never_expires(
    dynamodb_client: Any, history_table: str, client_id: str, make_item: MakeItem
) -> None:
    item = make_item(client_id)
    DynamoDbHistoryStore(history_table, dynamodb_client, ttl_days=0).put_new(item)

    raw = dynamodb_client.get_item(TableName=history_table, Key={"id": {"S": item["id"]}})["Item"]
    assert TTL_ATTRIBUTE not in raw


@pytest.mark.parametrize("ttl_days", [-1, 1.5, True])
def test_given_a_ttl_that_is_not_a_whole_number_of_days_then_the_store_refuses_it(ttl_days: Any) -> None:
    with pytest.raises(ValueError, match="ttl_days"):
        DynamoDbHistoryStore("PredictionHistory", client=object(), ttl_days=ttl_days)


def test_given_numbers_smaller_than_dynamodb_can_hold_when_stored_then_they_read_back_as_zero(
    dynamodb_client: Any, history_table: str, client_id: str, make_item: MakeItem
) -> None:
    store = DynamoDbHistoryStore(history_table, dynamodb_client)
    item = make_item(client_id, probabilities=[1e-200, 5e-324, -1e-140, 1e-130, 1.0, 0.1, 0.0, 0, 2.5e-45, 0.5])

    returned = store.put_new(item)

    expected = [0, 0, 0, 1e-130, 1.0, 0.1, 0.0, 0, 2.5e-45, 0.5]
    assert returned["probabilities"] == expected
    assert store.get(client_id, item["id"])["probabilities"] == expected
    assert store.put_new(item) == returned  # a retry of the same item is still recognised


def test_given_a_cursor_of_another_client_when_listed_on_dynamodb_then_bad_request(
    dynamodb_client: Any, history_table: str, client_id: str, make_item: MakeItem
) -> None:
    store = DynamoDbHistoryStore(history_table, dynamodb_client)
    for offset in range(2):
        store.put_new(make_item(client_id, offset_ms=offset))
    settle(store, client_id, 2)
    cursor = store.list(client_id, limit=1).next_cursor
    assert cursor is not None

    with pytest.raises(BadRequest, match="cursor"):
        store.list(client_id + "-other", cursor=cursor)


def test_given_a_missing_table_when_used_then_an_internal_error_rather_than_not_found(
    dynamodb_client: Any, client_id: str, make_item: MakeItem
) -> None:
    """No botocore error crosses the port: a missing table is ``InternalError``
    (not worth a retry), with DynamoDB's error chained for the log."""
    store = DynamoDbHistoryStore("NoSuchTable", dynamodb_client)

    for call in (
        lambda: store.put_new(make_item(client_id)),
        lambda: store.get(client_id, "some-id"),
        lambda: store.list(client_id),
        lambda: store.set_feedback(client_id, "some-id", 1),
        lambda: store.delete(client_id, "some-id"),
        lambda: store.clear(client_id),
    ):
        with pytest.raises(InternalError) as raised:
            call()
        assert isinstance(raised.value.__cause__, ClientError)
        assert raised.value.__cause__.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ProvisionedThroughputExceededException", Throttled.default_message),
        ("ThrottlingException", Throttled.default_message),
        ("InternalServerError", STORE_BUSY_MESSAGE),
    ],
)
def test_given_dynamodb_throttles_or_fails_when_writing_then_throttled_for_a_retry(
    dynamodb_client: Any, history_table: str, client_id: str, make_item: MakeItem, code: str, message: str
) -> None:
    """DynamoDB's throttling and 5xx, once the client's own attempts are spent,
    are ``Throttled``: the workflow retries Persist on it, the API answers 429
    ("Error handling with DynamoDB": throttling and 500/503 are worth a retry)."""
    store = DynamoDbHistoryStore(history_table, dynamodb_client)
    with Stubber(dynamodb_client) as stubber:  # the only way to make DynamoDB Local throttle
        stubber.add_client_error("put_item", service_error_code=code, http_status_code=400)
        stubber.add_client_error("update_item", service_error_code=code, http_status_code=500)
        stubber.add_client_error("delete_item", service_error_code=code, http_status_code=400)

        with pytest.raises(Throttled) as on_put:
            store.put_new(make_item(client_id))
        with pytest.raises(Throttled) as on_feedback:
            store.set_feedback(client_id, "some-id", 1)
        with pytest.raises(Throttled) as on_delete:
            store.delete(client_id, "some-id")

    for raised in (on_put, on_feedback, on_delete):
        assert raised.value.message == message
        assert isinstance(raised.value.__cause__, ClientError)
        assert raised.value.__cause__.response["Error"]["Code"] == code


def test_given_a_history_larger_than_one_query_page_when_cleared_then_every_page_is_deleted(
    dynamodb_client: Any, history_table: str, client_id: str, make_item: MakeItem
) -> None:
    """A Query returns at most 1 MB of items per call (DynamoDB developer
    guide, "Paginating table query results"): clearing must follow
    LastEvaluatedKey, not stop after the first page."""
    store = DynamoDbHistoryStore(history_table, dynamodb_client)
    bulky = "A" * 40_000  # 30 items of ~40 KB: over 1 MB
    for offset in range(30):
        store.put_new(make_item(client_id, offset_ms=offset, thumbnail=bulky))
    settle(store, client_id, 30)
    first_page = dynamodb_client.query(
        TableName=history_table,
        IndexName=INDEX_BY_CLIENT,
        KeyConditionExpression="clientId = :client",
        ExpressionAttributeValues={":client": {"S": client_id}},
    )
    assert "LastEvaluatedKey" in first_page and len(first_page["Items"]) < 30

    assert store.clear(client_id) == 30

    assert listed_once_settled(store, client_id, lambda items: items == []) == []


def _index_entries(client_id: str, item_ids: list[str]) -> dict[str, Any]:
    """A Query answer of the client's index, projected to the table key."""
    return {
        "Items": [{"id": {"S": item_id}} for item_id in item_ids],
        "Count": len(item_ids),
        "ScannedCount": len(item_ids),
    }


def _deletes(table: str, item_ids: list[str]) -> dict[str, Any]:
    return {table: [{"DeleteRequest": {"Key": {"id": {"S": item_id}}}} for item_id in item_ids]}


def test_given_dynamodb_leaves_part_of_a_batch_unprocessed_when_clearing_then_only_that_part_is_sent_again(
    dynamodb_client: Any, history_table: str, client_id: str
) -> None:
    """BatchWriteItem answers throttled requests in UnprocessedItems instead of
    failing; the API reference asks callers to resend them with exponential
    backoff (BatchWriteItem, "UnprocessedItems")."""
    store = DynamoDbHistoryStore(history_table, dynamodb_client)
    item_ids = ["a", "b", "c"]
    with Stubber(dynamodb_client) as stubber:
        stubber.add_response("query", _index_entries(client_id, item_ids))
        stubber.add_response(
            "batch_write_item",
            {"UnprocessedItems": _deletes(history_table, ["c"])},
            {"RequestItems": _deletes(history_table, item_ids)},
        )
        stubber.add_response(
            "batch_write_item", {"UnprocessedItems": {}}, {"RequestItems": _deletes(history_table, ["c"])}
        )

        assert store.clear(client_id) == 3

        stubber.assert_no_pending_responses()


def test_given_dynamodb_keeps_refusing_a_batch_when_clearing_then_throttled_after_a_bounded_number_of_tries(
    dynamodb_client: Any, history_table: str, client_id: str
) -> None:
    store = DynamoDbHistoryStore(history_table, dynamodb_client)
    with Stubber(dynamodb_client) as stubber:
        stubber.add_response("query", _index_entries(client_id, ["a"]))
        for _ in range(BATCH_WRITE_ATTEMPTS):
            stubber.add_response("batch_write_item", {"UnprocessedItems": _deletes(history_table, ["a"])})

        with pytest.raises(Throttled):
            store.clear(client_id)

        stubber.assert_no_pending_responses()  # every try made, and no more (a further call would fail the stub)
