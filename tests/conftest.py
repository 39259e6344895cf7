"""Fixtures shared by the test folders that talk HTTP to the real local stack."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.local_stack import (
    REQUEST_TIMEOUT_SECONDS,
    SQLITE_HISTORY,
    running_stack,
)


@pytest.fixture(scope="session")
def stack_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server with the built-in model and SQLite, shared by the tests that neither break nor restart it."""
    with running_stack(tmp_path_factory.mktemp("stack-data"), env=SQLITE_HISTORY) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def api(stack_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack_url, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        yield client
