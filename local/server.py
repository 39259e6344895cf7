"""The local stack's HTTP server: the site and the whole ``/api`` contract on one origin.

What API Gateway does on AWS is done here, and only that: the routes and
methods of the contract (``functions/core/api_contract.py``; any other path or
method is ``NotFound``, as API Gateway answers it), the size of every request
body, the edge's checks of a prediction's body (strict JSON, nesting depth,
media type: the history Lambda checks a feedback body itself), ``POST
/api/predictions`` starting the workflow synchronously through the local engine
and mapping a failed execution's ``error`` to its status with the one error
table; the history routes call the real ``history`` Lambda handler in-process
with an API Gateway REST proxy event, the same code path as on AWS. The
contract's OpenAPI document is served at ``/api/openapi.json``.

Every ``/api`` failure, including unknown routes, oversized bodies and bugs, is
the contract's error JSON; stack traces go to the server log only. Every
response carries the security headers; every request gets one access-log line.

    app = create_app(engine, history_handler, ServerSettings(site_dir=..., health={...}))
"""

from __future__ import annotations

import json
import logging
import mimetypes
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from components.web_policy import CONTENT_SECURITY_POLICY
from functions.core.api_contract import (
    DOCUMENT_PATH,
    MAX_BODY_BYTES,
    NO_SUCH_ROUTE,
    ROUTES,
    UNSUPPORTED_MEDIA_TYPE,
    is_json_media_type,
    parse_body,
)
from functions.core.errors import (
    ERROR_TABLE,
    BadRequest,
    DigitError,
    ImageTooLarge,
    InternalError,
    NotFound,
    error_body,
)
from functions.core.history.api_parameters import parse_limit
from functions.core.openapi import document_json
from functions.core.predictions import item_id
from local.engine import LambdaContext

# How much of a refused body is read (and dropped, chunk by chunk) before the
# 413 goes out. Clients such as urllib and browsers' fetch send the whole body
# before they read any answer: closing on them mid-upload resets the
# connection and they never see the 413. A front end such as nginx reads on
# ("lingering close") for the same reason. Beyond this, the answer goes out at
# once and the connection is closed.
MAX_DISCARDED_BODY_BYTES = 64 * 1024 * 1024

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)

# The system's MIME table varies between machines; the browser needs these right.
for _suffix, _type in (
    (".js", "text/javascript"),
    (".mjs", "text/javascript"),
    (".css", "text/css"),
    (".svg", "image/svg+xml"),
    (".json", "application/json"),
    (".webmanifest", "application/manifest+json"),
):
    mimetypes.add_type(_type, _suffix)

SITE_NOT_FOUND = "There is nothing at this address."

_log = logging.getLogger("local.server")
_access_log = logging.getLogger("local.access")

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
Endpoint = Callable[[Request], Awaitable[Response]]


class Engine(Protocol):
    """What the server needs of ``local.engine.LocalEngine``."""

    def start_sync_execution(self, input: str, name: str | None = None) -> dict[str, Any]: ...  # noqa: A002 - the API's name

    def list_executions(self, limit: int) -> list[dict[str, Any]]: ...

    def describe_execution(self, arn: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ServerSettings:
    site_dir: Path
    # Extra fields of ``GET /api/health`` (model version, history backend).
    health: Mapping[str, Any] = field(default_factory=dict)
    # The contract's limit (Step Functions' input limit); it also bounds what
    # the server ever holds in memory per request.
    max_body_bytes: int = MAX_BODY_BYTES
    max_discarded_body_bytes: int = MAX_DISCARDED_BODY_BYTES
    # The history Lambda's ARN, as its context object reports it.
    history_function_arn: str = "arn:aws:lambda:ap-southeast-1:123456789012:function:digits-local-history"


def create_app(engine: Engine, history_handler: LambdaHandler, settings: ServerSettings) -> ASGIApp:
    api = _Api(engine, history_handler, settings)
    by_path: dict[str, dict[str, Endpoint]] = {}
    for (path, method), endpoint in api.endpoints().items():
        by_path.setdefault(path, {})[method] = endpoint
    app = Starlette(
        routes=[
            # Every method reaches the route, so that one it does not have is
            # NotFound, as on AWS, rather than Starlette's 405 (HEAD included).
            Route(path, _MethodDispatch(endpoints))
            for path, endpoints in by_path.items()
        ]
        + [
            # Any other path under /api is no route, whatever the method.
            Mount("/api", routes=[]),
            Mount("/", _SiteFiles(directory=settings.site_dir, html=True)),
        ],
        exception_handlers={
            DigitError: _digit_error,
            HTTPException: _http_error,
            Exception: _unexpected_error,
        },
    )
    # Outermost, so that even the response to an unexpected error gets the
    # headers and an access-log line.
    return _SecuredAndLogged(app)


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    content = body if isinstance(body, (bytes, str)) else _dumps(body)
    response = Response(content, status_code=status, media_type="application/json", headers=headers)
    response.headers["cache-control"] = "no-store"
    return response


def error_response(
    code: str, message: str, status: int | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    error_class = ERROR_TABLE.get(code, InternalError)
    return json_response(error_body(code, message), status or error_class.status, headers)


class _Api:
    def __init__(self, engine: Engine, history_handler: LambdaHandler, settings: ServerSettings) -> None:
        self._engine = engine
        self._history_handler = history_handler
        self._settings = settings
        self._health = _dumps({"status": "ok", "stack": "local", **settings.health})
        self._openapi = document_json()

    def endpoints(self) -> dict[tuple[str, str], Endpoint]:
        """The endpoint of every route and method the server has: the contract's
        and the local stack's own."""
        own: dict[tuple[str, str], Endpoint] = {
            ("/api/predictions", "POST"): self._predict,
            ("/api/health", "GET"): self.health,
            (DOCUMENT_PATH, "GET"): self.openapi,
            # On AWS the document is a file of the site bucket, which answers HEAD.
            (DOCUMENT_PATH, "HEAD"): self.openapi,
            # The local stack's own, for the executions console (not on AWS).
            ("/api/executions", "GET"): self.executions,
            ("/api/executions/{id}", "GET"): self.execution,
        }
        # The rest of the contract is the history Lambda's, as on AWS.
        history = {
            (path, method): self._history_route(path)
            for path, methods in ROUTES.items()
            for method in methods
            if (path, method) not in own
        }
        return {**history, **own}

    async def health(self, request: Request) -> Response:
        return json_response(self._health)

    async def openapi(self, request: Request) -> Response:
        return json_response(self._openapi)

    async def executions(self, request: Request) -> Response:
        limit = parse_limit(request.query_params.get("limit"))
        executions = await anyio.to_thread.run_sync(self._engine.list_executions, limit)
        return json_response({"executions": executions})

    async def execution(self, request: Request) -> Response:
        described = await anyio.to_thread.run_sync(self._engine.describe_execution, request.path_params["id"])
        return json_response(described)

    async def _predict(self, request: Request) -> Response:
        # Read first, so that the client, still sending, gets to read the answer.
        body = await self._read_body(request)
        # The integration maps only JSON: API Gateway answers any other body
        # with its UNSUPPORTED_MEDIA_TYPE gateway response.
        if not is_json_media_type(request.headers.get("content-type")):
            raise BadRequest(UNSUPPORTED_MEDIA_TYPE)
        parsed = await anyio.to_thread.run_sync(parse_body, body)
        request_id = str(uuid.uuid4())
        execution_input = _dumps({"requestId": request_id, "request": parsed})
        # Named after the item it creates, so the console can find it from the history.
        result = await anyio.to_thread.run_sync(self._engine.start_sync_execution, execution_input, item_id(request_id))
        request.state.execution_id = result.get("executionArn")
        if result.get("status") == "SUCCEEDED":
            return json_response(result["output"])
        return _failed_execution(result)

    def _history_route(self, resource: str) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            return await self._history(request, resource)

        return endpoint

    async def _history(self, request: Request, resource: str) -> Response:
        body = await self._read_body(request) if request.method == "POST" else b""
        request_id = str(uuid.uuid4())
        event = _proxy_event(request, resource, body, request_id)
        function_arn = self._settings.history_function_arn
        context = LambdaContext(function_arn.rsplit(":", 1)[-1], function_arn, request_id)
        result = await anyio.to_thread.run_sync(self._history_handler, event, context)
        answer = result.get("body") or ""
        return Response(
            answer,
            status_code=int(result.get("statusCode", 500)),
            headers={"cache-control": "no-store", **(result.get("headers") or {})},
            # A 204 has no body, so no content type either.
            media_type="application/json" if answer else None,
        )

    async def _read_body(self, request: Request) -> bytes:
        """The body, refused with 413 once it is known to exceed the limit:
        from Content-Length before reading anything, else while streaming it.
        A refused body is read to its end (up to the discard bound) first."""
        limit = self._settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            if int(declared) <= self._settings.max_discarded_body_bytes:
                await _discard(request.stream(), self._settings.max_discarded_body_bytes)
            raise _body_too_large(limit)
        chunks: list[bytes] = []
        received = 0
        stream = request.stream()
        async for chunk in stream:
            received += len(chunk)
            if received > limit:
                await _discard(stream, self._settings.max_discarded_body_bytes - received)
                raise _body_too_large(limit)
            chunks.append(chunk)
        return b"".join(chunks)


def _failed_execution(result: Mapping[str, Any]) -> Response:
    """As API Gateway's response template maps it (components/api_templates.py):
    a code of the table keeps its status, with its default message when the
    cause is empty; anything else (a timeout, a crash) is an InternalError
    whose cause, which may hold internals, stays in the log."""
    code, cause = result.get("error") or "", result.get("cause") or ""
    if code in ERROR_TABLE:
        return error_response(code, cause or ERROR_TABLE[code].default_message)
    _log.error("execution %s ended %s: %s %s", result.get("executionArn"), result.get("status"), code, cause)
    return error_response("InternalError", InternalError.default_message)


class _MethodDispatch:
    """One route's endpoint per method. An ASGI app rather than a function, so
    that Starlette hands it every method: any other (HEAD included) is
    ``NotFound``, as API Gateway answers a method a resource does not have."""

    def __init__(self, endpoints: Mapping[str, Endpoint]) -> None:
        self._endpoints = dict(endpoints)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        endpoint = self._endpoints.get(request.method)
        if endpoint is None:
            raise NotFound(NO_SUCH_ROUTE)
        response = await endpoint(request)
        await response(scope, receive, send)


async def _discard(stream: AsyncIterator[bytes], up_to: int) -> None:
    """Reads and drops the rest of a body, holding one chunk at a time, until
    it ends or ``up_to`` more bytes have gone by."""
    discarded = 0
    async for chunk in stream:
        discarded += len(chunk)
        if discarded >= up_to:
            return


def _body_too_large(limit: int) -> ImageTooLarge:
    return ImageTooLarge(f"The request is too large: at most {limit // 1024} KB. Send a smaller image.")


def _proxy_event(request: Request, resource: str, body: bytes, request_id: str) -> dict[str, Any]:
    """The event API Gateway's REST proxy integration would send."""
    try:
        text = body.decode("utf-8") if body else None
    except UnicodeDecodeError:
        raise BadRequest("The request body must be JSON.") from None
    query = request.query_params
    return {
        "resource": resource,
        "path": request.url.path,
        "httpMethod": request.method,
        "headers": dict(request.headers),
        "multiValueHeaders": {name: request.headers.getlist(name) for name in request.headers},
        "queryStringParameters": dict(query) or None,
        "multiValueQueryStringParameters": {name: query.getlist(name) for name in query} or None,
        "pathParameters": dict(request.path_params) or None,
        "stageVariables": None,
        "requestContext": {
            "requestId": request_id,
            "resourcePath": resource,
            "httpMethod": request.method,
            "path": request.url.path,
            "stage": "local",
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": request.client.host if request.client else None},
        },
        "body": text,
        "isBase64Encoded": False,
    }


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


async def _digit_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DigitError)
    return error_response(exc.code, exc.message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response("NotFound", NO_SUCH_ROUTE if request.url.path.startswith("/api/") else SITE_NOT_FOUND)
    code = "BadRequest" if exc.status_code < 500 else "InternalError"
    return error_response(code, exc.detail, status=exc.status_code, headers=exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    _log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response("InternalError", InternalError.default_message)


class _SiteFiles(StaticFiles):
    """The site, revalidated on every load (ETag / Last-Modified make that a
    cheap 304), so an edited page shows on the next reload."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["cache-control"] = "no-cache"
        return response


class _SecuredAndLogged:
    """Adds the security headers to every response and writes one access-log
    line per request: method, path, status, duration, execution id."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees if the app dies before answering

        async def send_secured(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), *SECURITY_HEADERS]
            await send(message)

        try:
            await self._app(scope, receive, send_secured)
        finally:
            execution_id = scope.get("state", {}).get("execution_id")
            _access_log.info(
                "method=%s path=%s status=%d durationMs=%.1f executionId=%s",
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
                execution_id or "-",
            )
