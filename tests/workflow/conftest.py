"""Fixtures for the workflow scenarios: the real definition run by the local
engine, the real handlers, the real model behind the local SageMaker endpoint
(reached by boto3 through ``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME``) and a SQLite
history store in a temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.core.config import InvokeModelSettings, SqliteHistory
from functions.core.history.port import HistoryStore
from functions.core.history.sqlite_store import SqliteHistoryStore
from local.engine import LocalEngine
from local.sagemaker_endpoint import LocalSageMakerEndpoint
from local.wiring import WorkflowSettings, workflow_handlers
from tests.support.aws_env import use_loopback_aws
from tests.support.workflow_runs import EngineFactory

ENDPOINT_NAME = "digits-test"
QUIET = "WARNING"


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
def history_file(tmp_path: Path) -> SqliteHistory:
    return SqliteHistory(path=str(tmp_path / "history.db"))


@pytest.fixture
def invoke_model_settings() -> InvokeModelSettings:
    return InvokeModelSettings(log_level=QUIET, sagemaker_endpoint_name=ENDPOINT_NAME)


@pytest.fixture
def store(history_file: SqliteHistory) -> SqliteHistoryStore:
    return SqliteHistoryStore(history_file.path)


@pytest.fixture
def make_engine(
    history_file: SqliteHistory, invoke_model_settings: InvokeModelSettings, store: HistoryStore
) -> Iterator[EngineFactory]:
    """An engine over the real handlers; ``persist_store`` replaces the store
    Persist writes to (e.g. a flaky wrapper around ``store``)."""
    engines: list[LocalEngine] = []

    def make(persist_store: HistoryStore | None = None, **handler_overrides: Any) -> LocalEngine:
        settings = WorkflowSettings.with_defaults(ENDPOINT_NAME, history_file, QUIET)
        engine = LocalEngine({**workflow_handlers(settings, persist_store or store), **handler_overrides})
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()


@pytest.fixture
def engine(make_engine: EngineFactory) -> LocalEngine:
    return make_engine()
