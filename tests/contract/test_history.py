"""The history calls: list and page, get, feedback, delete one, clear, and
clients kept apart. On AWS a listing reads an eventually consistent index, so
listings are read again until they show a write (``listed_once_settled``)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.contract.digits import clear_digits
from tests.contract.expect import (
    assert_error,
    assert_status,
    describe,
    ids,
    list_page,
    listed_once_settled,
    predict,
)


def test_history_lists_a_clients_items_newest_first_page_by_page(api: httpx.Client, client_id: str) -> None:
    posted = [predict(api, digit, client_id)["id"] for digit in clear_digits()[:3]]
    listed_once_settled(api, client_id, lambda items: len(items) == len(posted))

    first = list_page(api, client_id, limit=2)
    second = list_page(api, client_id, limit=2, cursor=first["nextCursor"])

    assert ids(first["items"]) == posted[::-1][:2]
    assert ids(second["items"]) == posted[::-1][2:]
    assert second["nextCursor"] is None
    created = [item["createdAt"] for item in first["items"] + second["items"]]
    assert created == sorted(created, reverse=True)


def test_history_of_a_client_without_predictions_is_empty(api: httpx.Client, client_id: str) -> None:
    assert list_page(api, client_id) == {"items": [], "nextCursor": None}


def test_one_item_is_fetched_by_its_id_for_its_own_client_only(
    api: httpx.Client, new_client_id: Callable[[], str]
) -> None:
    owner, stranger = new_client_id(), new_client_id()
    item = predict(api, clear_digits()[0], owner)

    own = api.get(f"/api/predictions/{item['id']}", params={"clientId": owner})
    other = api.get(f"/api/predictions/{item['id']}", params={"clientId": stranger})

    assert_status(own, 200)
    assert own.json() == item, describe(own)
    assert_error(other, 404, "NotFound")


def test_feedback_records_a_persons_correction_on_the_item(api: httpx.Client, client_id: str) -> None:
    item = predict(api, clear_digits()[0], client_id)

    response = api.post(f"/api/predictions/{item['id']}/feedback", json={"clientId": client_id, "label": 3})
    fetched = api.get(f"/api/predictions/{item['id']}", params={"clientId": client_id})

    assert_status(response, 200)
    assert response.json() == {**item, "feedbackLabel": 3}, describe(response)
    assert fetched.json()["feedbackLabel"] == 3, describe(fetched)
    listed = listed_once_settled(api, client_id, lambda items: [i.get("feedbackLabel") for i in items] == [3])
    assert listed == [{**item, "feedbackLabel": 3}]


def test_deleting_an_item_answers_204_and_removes_only_that_item(api: httpx.Client, client_id: str) -> None:
    kept, deleted = (predict(api, digit, client_id) for digit in clear_digits()[:2])

    response = api.delete(f"/api/predictions/{deleted['id']}", params={"clientId": client_id})

    assert_status(response, 204)
    assert response.content == b"", describe(response)
    assert_error(api.get(f"/api/predictions/{deleted['id']}", params={"clientId": client_id}), 404, "NotFound")
    assert_error(api.delete(f"/api/predictions/{deleted['id']}", params={"clientId": client_id}), 404, "NotFound")
    feedback = api.post(f"/api/predictions/{deleted['id']}/feedback", json={"clientId": client_id, "label": 1})
    assert_error(feedback, 404, "NotFound")
    assert listed_once_settled(api, client_id, lambda items: ids(items) == [kept["id"]]) == [kept]


def test_clearing_a_history_answers_204_and_removes_every_item_of_that_client(
    api: httpx.Client, client_id: str
) -> None:
    for digit in clear_digits()[:3]:
        predict(api, digit, client_id)
    listed_once_settled(api, client_id, lambda items: len(items) == 3)

    response = api.delete("/api/predictions", params={"clientId": client_id})

    assert_status(response, 204)
    assert response.content == b"", describe(response)
    assert listed_once_settled(api, client_id, lambda items: items == []) == []
    assert_status(api.delete("/api/predictions", params={"clientId": client_id}), 204)  # nothing left: still fine


def test_two_clients_never_see_read_correct_or_delete_each_others_items(
    api: httpx.Client, new_client_id: Callable[[], str]
) -> None:
    alice, bob = new_client_id(), new_client_id()
    alices = predict(api, clear_digits()[0], alice)
    bobs = predict(api, clear_digits()[1], bob)
    listed_once_settled(api, alice, lambda items: len(items) == 1)
    listed_once_settled(api, bob, lambda items: len(items) == 1)

    assert ids(list_page(api, alice)["items"]) == [alices["id"]]
    assert ids(list_page(api, bob)["items"]) == [bobs["id"]]
    assert_error(api.get(f"/api/predictions/{bobs['id']}", params={"clientId": alice}), 404, "NotFound")
    feedback = api.post(f"/api/predictions/{bobs['id']}/feedback", json={"clientId": alice, "label": 0})
    assert_error(feedback, 404, "NotFound")
    assert_error(api.delete(f"/api/predictions/{bobs['id']}", params={"clientId": alice}), 404, "NotFound")
    assert_status(api.delete("/api/predictions", params={"clientId": alice}), 204)

    assert listed_once_settled(api, alice, lambda items: items == []) == []
    untouched = api.get(f"/api/predictions/{bobs['id']}", params={"clientId": bob})
    assert_status(untouched, 200)
    assert untouched.json() == bobs, describe(untouched)
    assert ids(list_page(api, bob)["items"]) == [bobs["id"]]
