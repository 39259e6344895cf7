"""``HISTORY_BACKEND=dynamodb``: the same command starts DynamoDB Local, creates
the table, and the history calls behave as with SQLite."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.functional.conftest import new_client_id, predict
from tests.support.local_stack import REQUEST_TIMEOUT_SECONDS, running_stack


def test_the_stack_keeps_history_in_dynamodb_local_when_asked(
    tmp_path: Path, clear_digits: list[tuple[bytes, int]]
) -> None:
    client_id = new_client_id()

    with running_stack(tmp_path, env={"HISTORY_BACKEND": "dynamodb"}) as base_url, httpx.Client(
        base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS
    ) as api:
        backend = api.get("/api/health").json()["historyBackend"]
        first = predict(api, clear_digits[0][0], client_id)
        second = predict(api, clear_digits[1][0], client_id)
        corrected = api.post(f"/api/predictions/{first['id']}/feedback", json={"clientId": client_id, "label": 5})
        listed = api.get("/api/predictions", params={"clientId": client_id}).json()

    assert backend == "dynamodb"
    assert corrected.status_code == 200 and corrected.json()["feedbackLabel"] == 5
    assert [item["id"] for item in listed["items"]] == [second["id"], first["id"]]
    assert listed["nextCursor"] is None
    assert not list(tmp_path.glob("*.sqlite3"))
