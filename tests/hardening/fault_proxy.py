"""A small HTTP proxy that injects faults between the local stack and one of
its dependencies (here: DynamoDB Local), so the faults are met by the real
server process over real sockets, exactly as an AWS outage would be.

    proxy = FaultProxy(upstream_url, decide)
    with proxy:
        ...  # point the stack at proxy.url

``decide(request_target, body)`` returns ``None`` to forward the request
untouched, or a ``Fault``: an error answer given instead of forwarding, or
(``after_forwarding=True``) after forwarding, so the work is done upstream but
its acknowledgement is lost.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

STARTUP_TIMEOUT_SECONDS = 10.0
UPSTREAM_TIMEOUT_SECONDS = 30.0
# Hop-by-hop headers (RFC 9110 7.6.1) and those httpx recomputes (it also decodes bodies).
_NOT_FORWARDED = frozenset(
    {"host", "connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}
)


@dataclass(frozen=True)
class Fault:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    after_forwarding: bool = False


Decide = Callable[[str, bytes], "Fault | None"]


class FaultProxy:
    def __init__(self, upstream_url: str, decide: Decide) -> None:
        self._upstream_url = upstream_url.rstrip("/")
        self._decide = decide
        self._upstream = httpx.AsyncClient(timeout=UPSTREAM_TIMEOUT_SECONDS)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def __enter__(self) -> FaultProxy:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        app = Starlette(routes=[Route("/{path:path}", self._forward, methods=["GET", "POST", "PUT", "DELETE"])])
        self._server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1)
        )
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self._server.started:
            raise RuntimeError("the fault proxy did not start")
        host, port = sock.getsockname()[:2]
        self.url = f"http://{host}:{port}"
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(STARTUP_TIMEOUT_SECONDS)

    async def _forward(self, request: Request) -> Response:
        body = await request.body()
        target = request.headers.get("x-amz-target") or request.url.path
        fault = self._decide(target, body)
        if fault is not None and not fault.after_forwarding:
            return _answer(fault)
        upstream = await self._upstream.request(
            request.method,
            self._upstream_url + request.url.path,
            params=request.query_params,
            headers=[(k, v) for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED],
            content=body,
        )
        if fault is not None:
            return _answer(fault)
        headers = {k: v for k, v in upstream.headers.items() if k.lower() not in _NOT_FORWARDED}
        return Response(upstream.content, status_code=upstream.status_code, headers=headers)


def _answer(fault: Fault) -> Response:
    return Response(fault.body, status_code=fault.status, headers=fault.headers)
