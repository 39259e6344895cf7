"""The four workflow handlers wired in this process, as the benchmarks measure them:
the real model behind the local SageMaker endpoint, SQLite history in a
temporary folder, quiet unless asked (log level, metrics)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from functions.core.config import SqliteHistory
from local import wiring
from local.sagemaker_endpoint import LocalSageMakerEndpoint
from local.wiring import Handler, WorkflowSettings

ENDPOINT_NAME = "digits-bench"


@contextmanager
def workflow_handlers(
    model_dir: str | None = None, log_level: str = "WARNING", metrics: bool = False
) -> Iterator[dict[str, Handler]]:
    """``{task key: handler}`` for the four tasks, in the workflow's order."""
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="ap-southeast-1",
        POWERTOOLS_METRICS_DISABLED="false" if metrics else "true",
    )
    with tempfile.TemporaryDirectory() as data_dir, LocalSageMakerEndpoint(model_dir, ENDPOINT_NAME) as endpoint:
        os.environ["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"] = endpoint.url
        history = SqliteHistory(path=str(Path(data_dir) / "history.sqlite3"))
        yield wiring.workflow_handlers(WorkflowSettings.with_defaults(ENDPOINT_NAME, history, log_level))
