"""Fixtures for the workflow scenarios: the real definition run by the local
engine, the real handlers, the real model behind the local SageMaker endpoint
(reached by boto3 through ``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME``) and a SQLite
history store in a temporary directory."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.core.config import Settings
from functions.core.history.port import HistoryStore
from functions.core.history.sqlite_store import SqliteHistoryStore
from functions.handlers import invoke_model, persist, preprocess, validate
from local.engine import LocalEngine
from local.sagemaker_endpoint import LocalSageMakerEndpoint
from tests.support.aws_env import use_loopback_aws

ENDPOINT_NAME = "digits-test"
CLIENT_ID = "scenario-client"

EngineFactory = Callable[..., LocalEngine]


@pytest.fixture(scope="session")
def model_endpoint() -> Iterator[LocalSageMakerEndpoint]:
    with LocalSageMakerEndpoint(endpoint_name=ENDPOINT_NAME) as endpoint:
        yield endpoint


@pytest.fixture(autouse=True)
def aws_environment(model_endpoint: LocalSageMakerEndpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and the loopback endpoint: nothing can reach AWS."""
    use_loopback_aws(monkeypatch, model_endpoint.url)
    model_endpoint.slow(0)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        history_backend="sqlite",
        history_sqlite_path=str(tmp_path / "history.db"),
        sagemaker_endpoint_name=ENDPOINT_NAME,
        log_level="WARNING",
    )


@pytest.fixture
def store(settings: Settings) -> SqliteHistoryStore:
    assert settings.history_sqlite_path
    return SqliteHistoryStore(settings.history_sqlite_path)


@pytest.fixture
def make_engine(settings: Settings, store: HistoryStore) -> Iterator[EngineFactory]:
    """An engine over the real handlers; ``persist_store`` replaces the store
    Persist writes to (e.g. a flaky wrapper around ``store``)."""
    engines: list[LocalEngine] = []

    def make(persist_store: HistoryStore | None = None, **handler_overrides: Any) -> LocalEngine:
        handlers = {
            "validate": validate.build(settings),
            "preprocess": preprocess.build(settings),
            "invoke_model": invoke_model.build(settings),
            "persist": persist.build(settings, store=persist_store or store),
            **handler_overrides,
        }
        engine = LocalEngine(handlers)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()


@pytest.fixture
def engine(make_engine: EngineFactory) -> LocalEngine:
    return make_engine()


def execution_input(image: bytes | str, client_id: str = CLIENT_ID, request_id: str = "request-1", **extra: Any) -> str:
    encoded = image if isinstance(image, str) else base64.b64encode(image).decode("ascii")
    return json.dumps({"requestId": request_id, "request": {"image": encoded, "clientId": client_id, **extra}})


def state(execution: dict[str, Any], name: str) -> dict[str, Any]:
    """The record of the one visit of state ``name``."""
    visits = [visited for visited in execution["states"] if visited["name"] == name]
    assert len(visits) == 1, f"{name} visited {len(visits)} times"
    visit: dict[str, Any] = visits[0]
    return visit
