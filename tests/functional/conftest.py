"""Checks that only the local stack can answer (its executions, its server
process, its restart), with the local stack's ``api`` client (tests/conftest.py)
and the contract suite's digits and helpers (tests/contract)."""

from __future__ import annotations

import uuid


def new_client_id() -> str:
    return f"client-{uuid.uuid4().hex[:12]}"
