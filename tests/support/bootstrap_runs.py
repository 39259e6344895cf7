"""Runs of the bootstrap program (bootstrap/) under Pulumi's mocks: the
configurations under test, one process per run, and what a run registered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.pipeline.bootstrap_mock_program import PROJECT

ROOT = Path(__file__).resolve().parents[2]
OWNER, REPOSITORY = "octo-org", "digits"
REQUIRED = {f"{PROJECT}:githubOwner": OWNER, f"{PROJECT}:githubRepo": REPOSITORY}
STATE_BUCKET = "octo-org-pulumi-state"
EXISTING_PROVIDER = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
# The bootstrap's configurations under test: Pulumi Cloud for state, a state bucket, a provider already there.
CONFIGS: Mapping[str, Mapping[str, str]] = {
    "pulumi-cloud": REQUIRED,
    "state-bucket": {**REQUIRED, f"{PROJECT}:stateBucket": STATE_BUCKET},
    "existing-provider": {**REQUIRED, f"{PROJECT}:oidcProviderArn": EXISTING_PROVIDER},
}


@dataclass(frozen=True)
class BootstrapRecord:
    """What one bootstrap run registered."""

    account: str
    resources: list[dict[str, Any]]
    outputs: dict[str, Any]

    def of_type(self, resource_type: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == resource_type]

    def role(self, name: str) -> dict[str, Any]:
        [role] = [r for r in self.of_type("aws:iam/role:Role") if r["name"] == name]
        return role

    def trust(self, role: str) -> dict[str, Any]:
        trust: dict[str, Any] = json.loads(self.role(role)["inputs"]["assumeRolePolicy"])
        return trust

    def statements(self, role: str) -> list[dict[str, Any]]:
        """The role's permissions: its inline policies' statements (none without a policy)."""
        return [
            statement
            for policy in self.of_type("aws:iam/rolePolicy:RolePolicy")
            if policy["name"] == role
            for statement in json.loads(policy["inputs"]["policy"])["Statement"]
        ]


def start_bootstrap(config: Mapping[str, str], out: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "pipeline" / "bootstrap_mock_program.py"), json.dumps(config), str(out)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
