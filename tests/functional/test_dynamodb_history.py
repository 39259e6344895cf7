"""``HISTORY_BACKEND=dynamodb``: the same command starts DynamoDB Local, creates
the table, and the history calls behave as with SQLite, deletes included."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.contract.digits import clear_digits
from tests.contract.expect import assert_error, listed_once_settled, predict
from tests.support.client_ids import new_client_id
from tests.support.local_stack import REQUEST_TIMEOUT_SECONDS, running_stack

pytestmark = pytest.mark.java


def test_the_stack_keeps_history_in_dynamodb_local_when_asked(tmp_path: Path) -> None:
    client_id, other_client = new_client_id(), new_client_id()

    with (
        running_stack(tmp_path, env={"HISTORY_BACKEND": "dynamodb"}) as base_url,
        httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS) as api,
    ):
        backend = api.get("/api/health").json()["historyBackend"]
        first, second, third = (predict(api, digit, client_id) for digit in clear_digits()[:3])
        others = predict(api, clear_digits()[3], other_client)
        corrected = api.post(f"/api/predictions/{first['id']}/feedback", json={"clientId": client_id, "label": 5})
        listed = listed_once_settled(api, client_id, lambda items: len(items) == 3)
        deleted = api.delete(f"/api/predictions/{third['id']}", params={"clientId": client_id})
        not_theirs = api.delete(f"/api/predictions/{others['id']}", params={"clientId": client_id})
        after_delete = listed_once_settled(api, client_id, lambda items: len(items) == 2)
        cleared = api.delete("/api/predictions", params={"clientId": client_id})
        after_clear = listed_once_settled(api, client_id, lambda items: items == [])
        others_kept = api.get(f"/api/predictions/{others['id']}", params={"clientId": other_client})

    assert backend == "dynamodb"
    assert corrected.status_code == 200 and corrected.json()["feedbackLabel"] == 5
    assert [item["id"] for item in listed] == [third["id"], second["id"], first["id"]]
    assert deleted.status_code == 204
    assert_error(not_theirs, 404, "NotFound")
    assert [item["id"] for item in after_delete] == [second["id"], first["id"]]
    assert cleared.status_code == 204 and after_clear == []
    assert others_kept.status_code == 200 and others_kept.json() == others
    assert not list(tmp_path.glob("*.sqlite3"))
