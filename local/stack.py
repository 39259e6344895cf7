"""The local stack's wiring: one command starts the model endpoint, the history
store, the workflow engine and the HTTP server, and stops them in order.

    python -m local [--host 127.0.0.1] [--port 8000] [--data-dir .local] [--history sqlite|dynamodb]
                    [--model-endpoint-url URL] [--dynamodb-endpoint-url URL]

Defaults come from ``HOST``, ``PORT``, ``DATA_DIR``, ``HISTORY_BACKEND``,
``MODEL_ENDPOINT_URL`` and ``DYNAMODB_ENDPOINT_URL``.

The two URLs replace parts the stack would otherwise start itself: an external
SageMaker-protocol endpoint instead of the built-in one (named ``digits-local``),
and a running DynamoDB (Local) instead of a fresh in-memory DynamoDB Local (the
table is created when missing). The hardening tests put fault-injecting proxies
there; nothing else changes in the code path.
The handlers are configured exactly as on AWS, through the environment
(``functions/core/config.py``): the model is reached through boto3's
``sagemaker-runtime`` client with ``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME`` pointing
at the local endpoint, with dummy credentials so no real AWS account is ever
signed for or reached.

Stopping (Ctrl-C or SIGTERM): uvicorn stops accepting, lets in-flight requests
finish (each prediction's record is written in one SQLite transaction), then
the store is closed and the model endpoint stopped.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import uvicorn

from functions.core.history.table import TABLE_NAME

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from functions.core.history.port import HistoryStore

REPOSITORY = Path(__file__).resolve().parents[1]
SITE_DIR = REPOSITORY / "site"
REGION = "ap-southeast-1"
ENDPOINT_NAME = "digits-local"
HISTORY_FILE = "history.sqlite3"
# In-flight requests get this long to finish on shutdown: the workflow's own cap.
GRACEFUL_SHUTDOWN_SECONDS = 30
# The handlers' JSON logs say little the access log does not; LOG_LEVEL=INFO shows them.
DEFAULT_HANDLER_LOG_LEVEL = "WARNING"
HISTORY_BACKENDS = ("sqlite", "dynamodb")
# What /api/health reports as the model version when the endpoint is not ours.
EXTERNAL_MODEL_VERSION = "external"
# Dummy AWS keys: nothing local checks them, and no real account is ever signed for.
LOCAL_CREDENTIAL = "local"

_log = logging.getLogger("local.stack")


@dataclass(frozen=True)
class LocalStackOptions:
    host: str
    port: int
    data_dir: Path
    history_backend: str
    # None: start the built-in model endpoint / DynamoDB Local.
    model_endpoint_url: str | None = None
    dynamodb_endpoint_url: str | None = None


def parse_args(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> LocalStackOptions:
    env = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(
        prog="python -m local",
        description="The digit recognition stack on this machine: site, API, workflow and model.",
    )
    parser.add_argument("--host", default=env.get("HOST", "127.0.0.1"), help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=_port(env.get("PORT", "8000"), parser), help="port (default 8000)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(env.get("DATA_DIR", ".local")),
        help="where history is kept (default .local)",
    )
    parser.add_argument(
        "--history",
        choices=HISTORY_BACKENDS,
        default=env.get("HISTORY_BACKEND", "sqlite").lower(),
        help="history store: sqlite in the data dir (default) or dynamodb (DynamoDB Local, in memory)",
    )
    parser.add_argument(
        "--model-endpoint-url",
        default=env.get("MODEL_ENDPOINT_URL") or None,
        help="an external SageMaker-protocol endpoint (serving digits-local) instead of the built-in one",
    )
    parser.add_argument(
        "--dynamodb-endpoint-url",
        default=env.get("DYNAMODB_ENDPOINT_URL") or None,
        help="with --history dynamodb: a running DynamoDB (Local) instead of starting one",
    )
    args = parser.parse_args(argv)
    if args.history not in HISTORY_BACKENDS:
        parser.error(f"HISTORY_BACKEND must be one of {', '.join(HISTORY_BACKENDS)}")
    if not 0 <= args.port <= 65535:
        parser.error("the port must be from 0 to 65535")
    if args.dynamodb_endpoint_url and args.history != "dynamodb":
        parser.error("--dynamodb-endpoint-url needs --history dynamodb")
    return LocalStackOptions(
        args.host, args.port, args.data_dir, args.history, args.model_endpoint_url, args.dynamodb_endpoint_url
    )


def run(settings: LocalStackOptions) -> None:
    """Runs the stack in the foreground until Ctrl-C or SIGTERM."""
    _configure_logging()
    # uvicorn handles both signals while it serves and raises them again once
    # it has shut down gracefully; before and after, they stop us the same
    # way, so the cleanup below always runs.
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, _stop)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as resources:
        endpoint_url, model_version = _model_endpoint(settings, resources)
        # A real profile or session token would otherwise pair with the dummy keys.
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        os.environ.update(handler_environment(settings, endpoint_url, _dynamodb_url(settings, resources)))

        from functions.core.config import HistoryApiSettings, load_settings
        from functions.core.history.open_store import open_history_store

        store = open_history_store(load_settings(HistoryApiSettings).history)
        close_store = getattr(store, "close", None)  # SQLite holds a file; DynamoDB's client needs nothing
        if close_store is not None:
            resources.callback(close_store)
        app = _application(store, model_version=model_version, backend=settings.history_backend)
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            http="httptools",
            loop="asyncio",
            lifespan="off",
            access_log=False,  # our own access log carries the execution id
            log_level="warning",
            server_header=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        _AnnouncingServer(config, endpoint_url).run()


def handler_environment(settings: LocalStackOptions, endpoint_url: str, dynamodb_url: str | None) -> dict[str, str]:
    """What the Lambda handlers read, pointed at the local parts."""
    env = {
        "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIAL,
        "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIAL,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": endpoint_url,
        "SAGEMAKER_ENDPOINT_NAME": ENDPOINT_NAME,
        "HISTORY_BACKEND": settings.history_backend,
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", DEFAULT_HANDLER_LOG_LEVEL),
        "POWERTOOLS_SERVICE_NAME": "digit-recognition-local",
        # Metrics are CloudWatch's business; locally they would only flood stdout.
        "POWERTOOLS_METRICS_DISABLED": os.environ.get("POWERTOOLS_METRICS_DISABLED", "true"),
    }
    if settings.history_backend == "sqlite":
        env["HISTORY_SQLITE_PATH"] = str((settings.data_dir / HISTORY_FILE).resolve())
    else:
        env["HISTORY_TABLE"] = TABLE_NAME
        env["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb_url or ""
    return env


def _model_endpoint(settings: LocalStackOptions, resources: ExitStack) -> tuple[str, str]:
    """The model endpoint's URL and the model version for ``/api/health``:
    the built-in endpoint, started here, unless an external one is given."""
    if settings.model_endpoint_url:
        return settings.model_endpoint_url, EXTERNAL_MODEL_VERSION
    from local.sagemaker_endpoint import LocalSageMakerEndpoint

    endpoint = LocalSageMakerEndpoint(endpoint_name=ENDPOINT_NAME)
    endpoint_url = endpoint.start()
    resources.callback(endpoint.stop)
    return endpoint_url, endpoint.model.version


def _dynamodb_url(settings: LocalStackOptions, resources: ExitStack) -> str | None:
    """The DynamoDB endpoint when asked for: the given one, or a DynamoDB
    Local started here; either way with the table."""
    if settings.history_backend != "dynamodb":
        return None
    from functions.core.history.dynamodb_store import create_table

    if settings.dynamodb_endpoint_url:
        import boto3

        # The handlers' credentials and region: DynamoDB Local keeps one database per pair.
        client = boto3.client(
            "dynamodb",
            endpoint_url=settings.dynamodb_endpoint_url,
            region_name=REGION,
            aws_access_key_id=LOCAL_CREDENTIAL,
            aws_secret_access_key=LOCAL_CREDENTIAL,
        )
        if TABLE_NAME not in client.list_tables()["TableNames"]:
            create_table(client, TABLE_NAME)
        return settings.dynamodb_endpoint_url
    from local import dynamodb_local

    instance = dynamodb_local.start()
    resources.callback(instance.stop)
    create_table(instance.client(), TABLE_NAME)
    return instance.endpoint_url


def _application(store: HistoryStore, *, model_version: str, backend: str) -> ASGIApp:
    """The handlers, each with its own settings from the environment."""
    from functions.core.config import HistoryApiSettings, load_settings
    from functions.handlers import history
    from local.engine import LocalEngine
    from local.server import ServerSettings, create_app
    from local.wiring import WorkflowSettings, workflow_handlers

    # DynamoDB: persist's own client, one attempt per call as on AWS (the workflow
    # retries); SQLite has no client retries, so one store serves all.
    persist_store = store if backend == "sqlite" else None
    engine = LocalEngine(workflow_handlers(WorkflowSettings.from_environment(), persist_store))
    return create_app(
        engine,
        history.build(load_settings(HistoryApiSettings), store=store),
        ServerSettings(site_dir=SITE_DIR, health={"modelVersion": model_version, "historyBackend": backend}),
    )


class _AnnouncingServer(uvicorn.Server):
    """Prints where everything is once the socket is listening."""

    def __init__(self, config: uvicorn.Config, endpoint_url: str) -> None:
        super().__init__(config)
        self._endpoint_url = endpoint_url

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if not self.started:
            return
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        base = f"http://{f'[{host}]' if ':' in host else host}:{port}"
        print(
            f"\nDigit recognition is running (Ctrl-C to stop).\n"
            f"  Site:           {base}/\n"
            f"  API:            {base}/api  (health: {base}/api/health)\n"
            f"  Executions:     {base}/console.html\n"
            f"  Model endpoint: {self._endpoint_url}/endpoints/{ENDPOINT_NAME}/invocations\n",
            flush=True,
        )


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger("local")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False


def _port(text: str, parser: argparse.ArgumentParser) -> int:
    try:
        return int(text)
    except ValueError:
        parser.error(f"PORT must be a number, not {text!r}")


def _stop(signal_number: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
