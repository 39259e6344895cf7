"""A local stand-in for one SageMaker endpoint, on loopback, speaking the
SageMaker Runtime ``InvokeEndpoint`` protocol.

It serves ``model/inference.py`` the way the scikit-learn serving container
does: ``model_fn`` loads the model, and each invocation is the toolkit's
request (Content-Type defaulting to JSON, Accept of ``*/*`` or none meaning
JSON, the body as text for ``application/json``) handed to ``transform_fn``,
whose answer is a WSGI response carrying its own status. boto3's
``sagemaker-runtime`` client reaches it unchanged given ``endpoint_url`` or
``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME`` (and any dummy credentials and region)::

    with LocalSageMakerEndpoint(endpoint_name="digits-local") as endpoint:
        os.environ["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"] = endpoint.url
        ...

- ``POST /endpoints/{name}/invocations``: the container's 200 answer as is;
  any other container status is what SageMaker Runtime makes of it, a
  ``424 ModelError`` with ``OriginalStatusCode`` and ``OriginalMessage`` (the
  container's body). An exception in ``transform_fn`` is the toolkit's 500. An
  unknown endpoint name is a ``400 ValidationError``.
- ``GET /ping``: 200 once the model is loaded.

For tests, ``fail_next(n, status)`` makes the next ``n`` invocations fail with
a service error of that status (429 throttling, 500, 503, ...) and
``slow(seconds)`` delays every invocation until ``slow(0)``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from model import inference

DEFAULT_ENDPOINT_NAME = "digits-local"
SERVICE_ERROR_TYPES = {429: "ThrottlingException", 500: "InternalFailure", 503: "ServiceUnavailable"}
STARTUP_TIMEOUT_SECONDS = 10.0
# The serving toolkit's defaults (sagemaker-containers 2.8.6.post2, ``_worker.Request``
# and ``_content_types``): a request without Content-Type is JSON, an Accept of
# none or ``*/*`` becomes SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT (JSON), and the
# body reaches the user code as text only for these exact content types.
TOOLKIT_DEFAULT_CONTENT_TYPE = inference.JSON_CONTENT_TYPE
TOOLKIT_DEFAULT_ACCEPT = inference.JSON_CONTENT_TYPE
TOOLKIT_TEXT_CONTENT_TYPES = frozenset({"application/json", "text/csv"})

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ContainerAnswer:
    status: int
    body: bytes
    content_type: str


class LocalSageMakerEndpoint:
    def __init__(
        self,
        model_dir: str | Path | None = None,
        endpoint_name: str = DEFAULT_ENDPOINT_NAME,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """``model_dir`` holds the weights (default: model/weights); ``port`` 0
        picks a free one."""
        directory = Path(model_dir) if model_dir else inference.default_weights_path().parent
        self.model = inference.model_fn(str(directory))
        self.endpoint_name = endpoint_name
        self.invocations = 0
        self._host, self._port = host, port
        self._faults: list[int] = []
        self._delay_seconds = 0.0
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("The endpoint is not running: call start() first.")
        return self._url

    def start(self) -> str:
        """Serves in a background thread; returns the base URL once it answers."""
        # IPPROTO_TCP explicitly: asyncio only disables Nagle's algorithm on sockets
        # that say so, and keep-alive calls would otherwise wait ~40 ms for delayed ACKs.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        host, port = sock.getsockname()[:2]
        config = uvicorn.Config(
            self._app(), log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self._server.started:
            self.stop()
            raise RuntimeError(f"The local SageMaker endpoint did not start on {host}:{port}.")
        self._url = f"http://{host}:{port}"
        return self._url

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=STARTUP_TIMEOUT_SECONDS)
        self._server = self._thread = self._url = None

    def __enter__(self) -> LocalSageMakerEndpoint:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    # --- Test-facing fault injection ---

    def fail_next(self, count: int, status: int = 503) -> None:
        """The next ``count`` invocations answer with a service error of ``status``."""
        with self._lock:
            self._faults.extend([status] * count)

    def slow(self, seconds: float) -> None:
        """Every invocation waits ``seconds`` before answering (0: no delay)."""
        self._delay_seconds = seconds

    # --- The protocol ---

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/endpoints/{name}/invocations", self._invoke, methods=["POST"]),
                Route("/ping", self._ping, methods=["GET"]),
            ]
        )

    async def _ping(self, request: Request) -> Response:
        return JSONResponse({"status": "Healthy", "modelVersion": self.model.version})

    async def _invoke(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self.invocations += 1
            fault = self._faults.pop(0) if self._faults else None
        if self._delay_seconds:
            await asyncio.sleep(self._delay_seconds)
        if fault is not None:
            return _service_error(fault, SERVICE_ERROR_TYPES.get(fault, "ValidationError"), "Injected failure.")
        if request.path_params["name"] != self.endpoint_name:
            return _service_error(400, "ValidationError", f"Endpoint {request.path_params['name']} not found.")
        answer = await run_in_threadpool(self._run_container, body, request.headers)
        if answer.status != HTTPStatus.OK.value:
            return _model_error(answer.status, answer.body.decode("utf-8", "replace"))
        return Response(
            answer.body, media_type=answer.content_type, headers={"x-amzn-invoked-production-variant": "AllTraffic"}
        )

    def _run_container(self, body: bytes, headers: Headers) -> ContainerAnswer:
        """What the serving container answers to this request."""
        content_type = headers.get("content-type") or TOOLKIT_DEFAULT_CONTENT_TYPE
        accept = headers.get("accept") or ""
        if accept in ("", "*/*"):
            accept = TOOLKIT_DEFAULT_ACCEPT
        content: str | bytes = body.decode("utf-8", "replace") if content_type in TOOLKIT_TEXT_CONTENT_TYPES else body
        try:
            return _run_wsgi(inference.transform_fn(self.model, content, content_type, accept))
        except Exception:
            # The toolkit wraps any exception of the user code into a 500 and logs it.
            logger.exception("transform_fn failed")
            return ContainerAnswer(HTTPStatus.INTERNAL_SERVER_ERROR.value, b"Internal Server Error", "text/plain")


def _run_wsgi(application: Callable[[dict[str, Any], Callable[..., Any]], Any]) -> ContainerAnswer:
    """Runs ``transform_fn``'s answer as Flask does with a WSGI callable a view returns."""
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        started.update(status=int(status.split(" ", 1)[0]), headers={name.lower(): value for name, value in headers})
        return lambda _: None

    body = b"".join(application({"REQUEST_METHOD": "POST"}, start_response))
    return ContainerAnswer(started["status"], body, started["headers"].get("content-type", "text/html"))


def _service_error(status: int, error_type: str, message: str, **extra: Any) -> Response:
    return Response(
        json.dumps({"message": message, **extra}),
        status_code=status,
        media_type="application/json",
        headers={"x-amzn-errortype": error_type},
    )


def _model_error(original_status: int, message: str) -> Response:
    """How SageMaker Runtime reports a container answer other than 200: ``ModelError``
    (HTTP 424) with the container's status and body (botocore's sagemaker-runtime
    model; "Received client|server error (N) from primary with message ...")."""
    kind = "client" if original_status < 500 else "server"
    return _service_error(
        424,
        "ModelError",
        f'Received {kind} error ({original_status}) from primary with message "{message}".',
        OriginalStatusCode=original_status,
        OriginalMessage=message,
    )
