"""Client ids for tests that talk to a stack: a fresh one per test, so that no
test sees another's history."""

from __future__ import annotations

import uuid


def new_client_id() -> str:
    return f"client-{uuid.uuid4().hex[:12]}"
