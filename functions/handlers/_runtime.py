"""The Lambda entry point's shape, kept free of heavy imports.

Each handler module exposes ``build(settings, ...) -> Handler``, taking exactly
its own settings (``functions.core.config``; its parts can be passed in: tests
and the local stack give their own store or client) and the Lambda entry point
``handler = cold_start(build, <its settings class>)``. Importing a handler
module is therefore cheap (its heavy imports live inside ``build``); the first
call reads the environment (a bad variable fails there, naming it) and creates
clients once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from functions.core.config import FunctionSettings

SettingsT = TypeVar("SettingsT", bound="FunctionSettings")
Handler = Callable[[Any, Any], Any]

# When this environment's code started loading (the init phase).
LOADED_AT = time.monotonic()
# The part of a cold start before this module loads (the runtime's own start),
# which the caller's clock counts but ours cannot see.
RUNTIME_START_ALLOWANCE_SECONDS = 0.3


def cold_start(build: Callable[[SettingsT], Handler], settings_kind: type[SettingsT]) -> Handler:
    """A handler that, on its first call, once and thread-safely, reads
    ``settings_kind`` from the environment and builds the real one."""
    lock = threading.Lock()
    built: list[Handler] = []

    def handler(event: Any, context: Any) -> Any:
        if not built:
            init_seconds = time.monotonic() - LOADED_AT + RUNTIME_START_ALLOWANCE_SECONDS
            with lock:
                if not built:
                    from functions.core.config import load_settings

                    built.append(build(load_settings(settings_kind)))
                    if hasattr(context, "get_remaining_time_in_millis"):
                        # Lambda's timeout does not count the init phase; the calling task's does.
                        context = _LateContext(context, init_seconds)
        return built[0](event, context)

    return handler


class _LateContext:
    """The first invocation's context: its remaining time less what the init
    phase already took from the calling task."""

    def __init__(self, context: Any, init_seconds: float) -> None:
        self._context = context
        self._init_millis = int(init_seconds * 1000)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._context.get_remaining_time_in_millis()) - self._init_millis)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)
