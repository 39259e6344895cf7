"""No stray records: once Persist has stored a prediction, the request is
answered 200 with it. Persist is the workflow's last state and nothing after
it can fail the answer: the local engine's bookkeeping of an execution (its
record for the console) may break on any data, or fail outright, and the
execution still SUCCEEDS with its item. What the client is told and what the
history holds agree: exactly one item, the one in the answer.

The real local server (in a thread of this process, so that a fault can be
put inside it), the real engine, handlers, model and a SQLite history.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

import local.engine
from functions.core.config import (
    HistoryApiSettings,
    InvokeModelSettings,
    PersistSettings,
    PreprocessSettings,
    SqliteHistory,
    ValidateSettings,
)
from functions.core.history.sqlite_store import SqliteHistoryStore
from functions.handlers import history, invoke_model, persist, preprocess, validate
from local.engine import LocalEngine
from local.sagemaker_endpoint import LocalSageMakerEndpoint
from local.server import ServerSettings, create_app
from local.stack import SITE_DIR
from tests.support.aws_env import use_loopback_aws
from tests.support.client_ids import new_client_id
from tests.support.digit_requests import digit_request
from tests.support.stack_probes import history_of

ENDPOINT_NAME = "digits-records"
START_TIMEOUT_SECONDS = 10.0


@pytest.fixture(scope="module")
def model_endpoint() -> Iterator[LocalSageMakerEndpoint]:
    with LocalSageMakerEndpoint(endpoint_name=ENDPOINT_NAME) as endpoint:
        yield endpoint


QUIET = "WARNING"


@pytest.fixture
def history_file(
    model_endpoint: LocalSageMakerEndpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> SqliteHistory:
    use_loopback_aws(monkeypatch, model_endpoint.url)
    return SqliteHistory(path=str(tmp_path / "history.db"))


@pytest.fixture
def store(history_file: SqliteHistory) -> Iterator[SqliteHistoryStore]:
    store = SqliteHistoryStore(history_file.path)
    yield store
    store.close()


@pytest.fixture
def engine(history_file: SqliteHistory, store: SqliteHistoryStore) -> Iterator[LocalEngine]:
    engine = LocalEngine(
        {
            "validate": validate.build(ValidateSettings(log_level=QUIET)),
            "preprocess": preprocess.build(PreprocessSettings(log_level=QUIET)),
            "invoke_model": invoke_model.build(
                InvokeModelSettings(log_level=QUIET, sagemaker_endpoint_name=ENDPOINT_NAME)
            ),
            "persist": persist.build(PersistSettings(log_level=QUIET, history=history_file), store=store),
        }
    )
    yield engine
    engine.close()


@pytest.fixture
def api(engine: LocalEngine, history_file: SqliteHistory, store: SqliteHistoryStore) -> Iterator[httpx.Client]:
    """The local server around ``engine`` and the history, on a free loopback port."""
    api_settings = HistoryApiSettings(log_level=QUIET, history=history_file)
    app = create_app(engine, history.build(api_settings, store=store), ServerSettings(site_dir=SITE_DIR))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "the server did not start"
    host, port = sock.getsockname()
    with httpx.Client(base_url=f"http://{host}:{port}", timeout=30) as client:
        yield client
    server.should_exit = True
    thread.join(START_TIMEOUT_SECONDS)


def _execution_input(client_id: str, **extra: Any) -> str:
    return json.dumps({"requestId": f"request-{client_id}", "request": {**digit_request(client_id), **extra}})


def test_given_the_execution_record_fails_after_persist_then_the_answer_is_200_and_the_only_item(
    api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failure injected after Persist: building the execution's record raises."""

    def broken_record(events: Any) -> list[dict[str, Any]]:
        raise RuntimeError("injected: the execution record cannot be built")

    monkeypatch.setattr(local.engine, "_states_from_history", broken_record)
    client_id = new_client_id()

    response = api.post("/api/predictions", json=digit_request(client_id))

    assert response.status_code == 200, response.text
    item = response.json()
    assert history_of(api, client_id) == [item]
    # Kept for the console without its states, under the item's id.
    execution = api.get(f"/api/executions/{item['id']}").json()
    assert (execution["status"], execution["states"]) == ("SUCCEEDED", [])


def test_given_text_that_is_not_unicode_past_the_edge_then_the_execution_succeeds_and_is_recorded(
    engine: LocalEngine,
) -> None:
    """The server's edge refuses a lone surrogate; the engine must not depend on it."""
    client_id = new_client_id()

    result = engine.start_sync_execution(_execution_input(client_id, note="\ud800"), name="lone-surrogate")

    assert result["status"] == "SUCCEEDED", result
    recorded = engine.describe_execution("lone-surrogate")
    assert recorded["input"]["request"]["note"] == "\\ud800"
    assert [state["name"] for state in recorded["states"] if state["type"] == "Task"] == [
        "Validate",
        "Preprocess",
        "InvokeModel",
        "Persist",
    ]


def test_given_a_prediction_then_its_execution_is_named_after_the_item(api: httpx.Client) -> None:
    """So the console opens the run that made a history item: /console.html#<item id>."""
    item = api.post("/api/predictions", json=digit_request(new_client_id())).json()

    execution = api.get(f"/api/executions/{item['id']}")

    assert execution.status_code == 200, execution.text
    assert execution.json()["name"] == item["id"]
    assert execution.json()["status"] == "SUCCEEDED"
