"""Stand-ins for a stack, served on loopback, to prove what ``make smoke``
reports: a deliberately wrong stack that answers ``GET /api/health`` as a real
one does and breaks the contract on every other call (in one of two ways),
and a health check that throttles every other request, as a deployed stack
does past its limit."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from functions.core.errors import Throttled
from tests.support.local_stack import free_port

# fault -> (status, body) of every call but the health check
FAULTS: dict[str, tuple[int, dict[str, str]]] = {
    "server-error": (500, {"message": "Internal server error"}),
    "wrong-error-json": (400, {"message": "Bad request"}),  # the status of a BadRequest, not its JSON
}
START_TIMEOUT_SECONDS = 10.0
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def wrong_app(fault: str) -> Starlette:
    status, body = FAULTS[fault]

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def anything_else(request: Request) -> JSONResponse:
        return JSONResponse(body, status_code=status)

    return Starlette(
        routes=[
            Route("/api/health", health, methods=["GET"]),
            Route("/{path:path}", anything_else, methods=ALL_METHODS),
        ]
    )


def throttling_health() -> Starlette:
    """``GET /api/health`` answered 200 and 429 ``Throttled`` in turn."""
    answers = itertools.cycle([True, False])

    async def health(request: Request) -> JSONResponse:
        if next(answers):
            return JSONResponse({"status": "ok"})
        return JSONResponse(Throttled().to_body(), status_code=Throttled.status)

    return Starlette(routes=[Route("/api/health", health, methods=["GET"])])


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """Serves ``app`` on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the stand-in did not start on port {port}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(START_TIMEOUT_SECONDS)
