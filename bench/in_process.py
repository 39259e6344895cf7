"""The four workflow handlers wired in this process, as the benchmarks measure them:
the real model behind the local SageMaker endpoint, SQLite history in a
temporary folder, quiet unless asked (log level, metrics)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from functions.core.config import Settings
from functions.handlers import invoke_model, persist, preprocess, validate
from local.sagemaker_endpoint import LocalSageMakerEndpoint
from workflows.definition import TASKS

Handler = Callable[[Any, Any], Any]
ENDPOINT_NAME = "digits-bench"


@contextmanager
def workflow_handlers(
    model_dir: str | None = None, log_level: str = "WARNING", metrics: bool = False
) -> Iterator[dict[str, Handler]]:
    """``{task: handler}`` for validate, preprocess, invoke_model and persist, in TASKS order."""
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="ap-southeast-1",
        POWERTOOLS_METRICS_DISABLED="false" if metrics else "true",
    )
    with tempfile.TemporaryDirectory() as data_dir, LocalSageMakerEndpoint(model_dir, ENDPOINT_NAME) as endpoint:
        os.environ["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"] = endpoint.url
        settings = Settings(
            history_backend="sqlite",
            history_sqlite_path=str(Path(data_dir) / "history.sqlite3"),
            sagemaker_endpoint_name=ENDPOINT_NAME,
            log_level=log_level,
        )
        modules = {"validate": validate, "preprocess": preprocess, "invoke_model": invoke_model, "persist": persist}
        yield {task: modules[task].build(settings) for task in TASKS}
