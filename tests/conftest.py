"""Fixtures shared by the test folders that talk HTTP to the real local stack,
and the ``--base-url`` option of the HTTP contract suite.

``tests/contract`` is the contract suite for any running stack (``make smoke``).
A plain ``pytest`` does not collect it: ``make test`` runs it once, through the
smoke command itself, against the local stack (tests/smoke). Name the folder
(``pytest tests/contract``) to run it directly; without ``--base-url`` it
starts the local stack.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.local_stack import (
    REQUEST_TIMEOUT_SECONDS,
    SQLITE_HISTORY,
    running_stack,
)

# Both stacks' Pulumi programs under mocks, once per session, for tests/infra and tests/pipeline.
pytest_plugins = ["tests.support.pulumi_stacks"]

CONTRACT_DIR = Path(__file__).resolve().parent / "contract"
# Where ``--base-url`` comes from when the option is not given.
BASE_URL_VARIABLE = "SMOKE_BASE_URL"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--base-url",
        default=os.environ.get(BASE_URL_VARIABLE) or None,
        help=f"the stack the contract suite tests, e.g. https://d111.cloudfront.net "
        f"(default: ${BASE_URL_VARIABLE}, else a local stack started for the run)",
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path != CONTRACT_DIR:
        return None
    named = any(Path(str(arg).split("::")[0]).resolve().is_relative_to(CONTRACT_DIR) for arg in config.args)
    return None if named else True


@pytest.fixture(scope="session")
def stack_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stack-data")


@pytest.fixture(scope="session")
def stack_url(stack_data_dir: Path) -> Iterator[str]:
    """One server with the built-in model and SQLite, shared by the tests that neither break nor restart it."""
    with running_stack(stack_data_dir, env=SQLITE_HISTORY) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def api(stack_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack_url, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        yield client
