"""Runs the bootstrap program (``bootstrap/``) against Pulumi's unit-test mocks
with a given config and writes every registered resource and the stack outputs
as JSON: ``python tests/pipeline/bootstrap_mock_program.py '<config JSON>' out.json``.

One process per run, as for the main program (tests/infra/mock_program.py,
whose recording mocks this reuses): Pulumi's runtime settings are process globals.
"""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path
from typing import Any

import pulumi

from tests.infra.mock_program import ACCOUNT, RecordingMocks, RecordingMonitor, _plain

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "digit-recognition-bootstrap"
STACK = "bootstrap"
# IAM is global; the mocks only need a region to write ARNs with.
REGION = "us-east-1"


def run(config: dict[str, str]) -> dict[str, Any]:
    mocks = RecordingMocks(REGION)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=STACK, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(config)
    outputs: dict[str, Any] = {}

    def program() -> pulumi.Output[Any]:
        runpy.run_path(str(ROOT / "bootstrap" / "__main__.py"), run_name="__main__")
        root = pulumi.runtime.get_root_resource()
        assert isinstance(root, pulumi.runtime.stack.Stack)
        return pulumi.Output.from_input(root.outputs).apply(outputs.update)

    pulumi.runtime.test(program)()  # type: ignore[no-untyped-call]  # pulumi.runtime.test is untyped
    return {"account": ACCOUNT, "resources": mocks.resources, "outputs": outputs}


if __name__ == "__main__":
    settings, destination = json.loads(sys.argv[1]), sys.argv[2]
    Path(destination).write_text(json.dumps(run(settings), default=_plain, indent=1))
