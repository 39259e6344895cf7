"""The pipeline's one-time AWS bootstrap: GitHub's OIDC identity provider and
the roles the workflows in ``.github/workflows`` assume (README, "The pipeline").

Run once per AWS account from this folder (``pulumi up``), then give the role
ARNs it exports to the repository's variables."""

from __future__ import annotations

import sys
from pathlib import Path

import pulumi
import yaml

# The repository's root: ``bootstrap`` is a package of it, for Pulumi as for the tests.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bootstrap.github_access import (  # noqa: E402 - needs the root on the path
    DEPLOY_SUBJECTS,
    AccessSettings,
    GitHubAccess,
    Repository,
)


def stack_region(stack: str) -> str:
    """``aws:region`` of one of the main program's stacks, read from its stack file."""
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return str(config["aws:region"])


config = pulumi.Config()
access = GitHubAccess(
    "github",
    AccessSettings(
        repository=Repository(config.require("githubOwner"), config.require("githubRepo")),
        stack_regions={stack: stack_region(stack) for stack in DEPLOY_SUBJECTS},
        state_bucket=config.get("stateBucket") or None,
        existing_provider_arn=config.get("oidcProviderArn") or None,
    ),
)

pulumi.export("oidcProviderArn", access.provider_arn)
pulumi.export("previewRoleArn", access.preview_role.arn)
for stack, role in access.deploy_roles.items():
    pulumi.export(f"{stack}DeployRoleArn", role.arn)
