"""Both stacks' Pulumi programs, run once per session against Pulumi's mocks
(a pytest plugin, registered in tests/conftest.py, so that tests/infra and
tests/pipeline share one run).

Each stack runs in its own process (Pulumi's runtime settings are process
globals), both at once; the records are plain JSON the tests query.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.infra.records import StackRecord

ROOT = Path(__file__).resolve().parents[2]
STACKS = ("dev", "prod")


def _run_stacks(directory: Path) -> Iterator[tuple[str, subprocess.Popen[str], Path]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    for stack in STACKS:
        out = directory / f"{stack}.json"
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "infra" / "mock_program.py"), stack, str(out)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        yield stack, process, out


@pytest.fixture(scope="session")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, StackRecord]:
    directory = tmp_path_factory.mktemp("pulumi-mocks")
    records = {}
    for stack, process, out in list(_run_stacks(directory)):
        log, _ = process.communicate(timeout=240)
        assert process.returncode == 0, f"the {stack} program failed under mocks:\n{log[-6000:]}"
        data = json.loads(out.read_text())
        records[stack] = StackRecord(stack, data["resources"], data["urns"], data["outputs"])
    return records


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest, stacks: dict[str, StackRecord]) -> StackRecord:
    """Each stack in turn."""
    return stacks[request.param]
