"""The Lambda entry point's shape, kept free of heavy imports.

Each handler module exposes ``build(settings, ...) -> Handler`` (its parts can
be passed in: tests and the local stack give their own store or client) and the
Lambda entry point ``handler = cold_start(build, needs)``. Importing a handler
module is therefore cheap (its heavy imports live inside ``build``); the first
call reads the environment (a bad variable fails there, naming it) and creates
clients once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from functions.core.config import Settings

Handler = Callable[[Any, Any], Any]


def cold_start(build: Callable[[Settings], Handler], needs: tuple[str, ...] = ()) -> Handler:
    """A handler that, on its first call, once and thread-safely, reads the
    environment (also the settings ``needs`` names, values of
    ``functions.core.config.Need``) and builds the real one."""
    lock = threading.Lock()
    built: list[Handler] = []

    def handler(event: Any, context: Any) -> Any:
        if not built:
            with lock:
                if not built:
                    from functions.core.config import Need, load_settings

                    built.append(build(load_settings(needs=[Need(need) for need in needs])))
        return built[0](event, context)

    return handler
