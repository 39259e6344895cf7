"""Executions of the workflow by the local engine, for the workflow scenarios:
their input, and the record of a state's visit."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from local.engine import LocalEngine

CLIENT_ID = "scenario-client"

# An engine over the real handlers (tests/workflow/conftest.py's ``make_engine``).
EngineFactory = Callable[..., LocalEngine]


def execution_input(image: bytes | str, client_id: str = CLIENT_ID, request_id: str = "request-1", **extra: Any) -> str:
    encoded = image if isinstance(image, str) else base64.b64encode(image).decode("ascii")
    return json.dumps({"requestId": request_id, "request": {"image": encoded, "clientId": client_id, **extra}})


def state(execution: dict[str, Any], name: str) -> dict[str, Any]:
    """The record of the one visit of state ``name``."""
    visits = [visited for visited in execution["states"] if visited["name"] == name]
    assert len(visits) == 1, f"{name} visited {len(visits)} times"
    visit: dict[str, Any] = visits[0]
    return visit
