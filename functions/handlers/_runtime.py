"""The Lambda entry point's shape, kept free of heavy imports.

Each handler module exposes ``build(settings, ...) -> Handler`` (its parts can
be passed in: tests and the local stack give their own store or client) and the
Lambda entry point ``handler = cold_start(...)``. Importing a handler module is
therefore cheap (its heavy imports live inside ``build``); the first call reads
the environment (a bad variable fails there, naming it) and creates clients once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

Handler = Callable[[Any, Any], Any]


def cold_start(build: Callable[[], Handler]) -> Handler:
    """A handler that builds the real one on its first call, once, thread-safely."""
    lock = threading.Lock()
    built: list[Handler] = []

    def handler(event: Any, context: Any) -> Any:
        if not built:
            with lock:
                if not built:
                    built.append(build())
        return built[0](event, context)

    return handler
