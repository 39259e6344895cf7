"""How the contract suite talks to a stack: every request paced, counted,
timed and logged, so that a failure can name the call that broke.

- ``StackLink`` holds the run's settings (base URL, pace, request budget) and
  the log of calls; ``client()`` gives an ``httpx.Client`` whose every request
  goes through it, ``post_whole_body()`` sends a body the way urllib and
  browsers' fetch do (all of it before reading the answer).
- Against a deployed stack requests are spaced out, far below the stack's API
  throttling (dev: 5 requests/s, burst 10), unless a test asks for a burst.
"""

from __future__ import annotations

import ipaddress
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

# Within API Gateway's 29 s integration timeout, or the call failed.
REQUEST_TIMEOUT_SECONDS = 29.0
# Requests per second towards a stack that is not on this machine.
DEPLOYED_RATE_PER_SECOND = 2.0
# A run makes about 220 requests, plus at most 100 warm predictions and a
# throttling burst of at most 500 when asked: far more means a loop gone wrong.
DEFAULT_REQUEST_BUDGET = 1000
# How much of a body a failure message shows.
EXCERPT_CHARS = 300


class RequestBudgetExceeded(RuntimeError):
    """The run made more requests than it may."""


def site_root(url: str) -> str:
    """``scheme://host[:port]`` of a stack's site URL; ``ValueError`` for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not a site URL such as https://d111111abcdef8.cloudfront.net")
    if parts.path.strip("/") or parts.query:
        raise ValueError(f"{url!r} has a path: give the site's root (the siteUrl output), not the API stage URL")
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class Call:
    """One request and what came back (``status`` None: no answer at all)."""

    method: str
    target: str  # path and query, as sent
    status: int | None
    excerpt: str
    seconds: float

    def __str__(self) -> str:
        answer = f"{self.status}" if self.status is not None else "no answer"
        return f"{self.method} {self.target} -> {answer}: {self.excerpt}"


@dataclass
class StackLink:
    base_url: str
    # Seconds between the starts of two requests (0: no pacing).
    min_interval_seconds: float
    request_budget: int = DEFAULT_REQUEST_BUDGET
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _next_start: float = field(default=0.0, init=False, repr=False)
    _paced: bool = field(default=True, init=False, repr=False)

    @classmethod
    def to(
        cls, base_url: str, rate_per_second: float | None = None, request_budget: int = DEFAULT_REQUEST_BUDGET
    ) -> StackLink:
        """Unpaced on this machine; ``DEPLOYED_RATE_PER_SECOND`` elsewhere unless ``rate_per_second`` says otherwise."""
        rate = (
            rate_per_second
            if rate_per_second is not None
            else (None if is_loopback(base_url) else DEPLOYED_RATE_PER_SECOND)
        )
        return cls(site_root(base_url), 1.0 / rate if rate else 0.0, request_budget)

    @property
    def is_https(self) -> bool:
        return urlsplit(self.base_url).scheme == "https"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=REQUEST_TIMEOUT_SECONDS, transport=_LoggedTransport(self))

    @contextmanager
    def unpaced(self) -> Iterator[None]:
        """For a deliberate burst (the throttling check); still counted and logged."""
        self._paced = False
        try:
            yield
        finally:
            self._paced = True

    def before_request(self) -> None:
        with self._lock:
            if len(self.calls) >= self.request_budget:
                raise RequestBudgetExceeded(f"the run has already made its {self.request_budget} requests")
            now = time.monotonic()
            wait = self._next_start - now if self._paced else 0.0
            self._next_start = max(now, self._next_start) + (self.min_interval_seconds if self._paced else 0.0)
        if wait > 0:
            time.sleep(wait)

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def post_whole_body(self, path: str, body: bytes, content_type: str = "application/json") -> tuple[Call, str]:
        """POSTs with urllib, which sends the whole body before it reads the
        answer; returns the call and the answer's body."""
        self.before_request()
        request = urllib.request.Request(
            self.base_url + path, data=body, method="POST", headers={"content-type": content_type}
        )
        started = time.perf_counter()
        status: int | None
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
                status, text = response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode("utf-8", "replace")
        except OSError as error:  # reset, refused, timed out: no answer to read
            status, text = None, f"{type(error).__name__}: {error}"
        call = Call("POST", f"{path} ({len(body):,} bytes)", status, excerpt(text), time.perf_counter() - started)
        self.record(call)
        return call, text


class _LoggedTransport(httpx.HTTPTransport):
    def __init__(self, link: StackLink) -> None:
        super().__init__()
        self._link = link

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._link.before_request()
        target = request.url.raw_path.decode("ascii", "replace")
        started = time.perf_counter()
        try:
            response = super().handle_request(request)
            response.read()
        except httpx.TransportError as error:
            self._link.record(
                Call(request.method, target, None, f"{type(error).__name__}: {error}", time.perf_counter() - started)
            )
            raise
        text = response.content.decode("utf-8", "replace")
        self._link.record(
            Call(request.method, target, response.status_code, excerpt(text), time.perf_counter() - started)
        )
        return response


def excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[:EXCERPT_CHARS] + "..."


def is_loopback(base_url: str) -> bool:
    host = urlsplit(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
