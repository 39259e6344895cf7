"""The one-time bootstrap (bootstrap/) under Pulumi's mocks: GitHub's OIDC
provider for STS, roles that exactly one kind of workflow run of exactly one
repository can assume, a preview role that can change nothing, and policies
IAM accepts. Expected values are GitHub's and AWS's documented formats, written
out here rather than taken from the program under test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bootstrap.github_access import SESSION_SECONDS, stack_prefix
from tests.infra.records import settings_of
from tests.pipeline.bootstrap_mock_program import PROJECT
from tests.pipeline.iam import allows, as_list
from tests.support.bootstrap_runs import (
    EXISTING_PROVIDER,
    REQUIRED,
    STATE_BUCKET,
    BootstrapRecord,
    start_bootstrap,
)

# GitHub Docs, "Configuring OpenID Connect in Amazon Web Services".
GITHUB_PROVIDER_URL = "https://token.actions.githubusercontent.com"
AUDIENCE_KEY = "token.actions.githubusercontent.com:aud"
SUBJECT_KEY = "token.actions.githubusercontent.com:sub"
# `sub` claims of this repository's runs ("Example subject claims", GitHub Docs).
SUBJECTS = {
    "preview": "repo:octo-org/digits:pull_request",
    "deploy-dev": "repo:octo-org/digits:ref:refs/heads/main",
    "deploy-prod": "repo:octo-org/digits:environment:prod",
}
# IAM quotas: a role's inline policies together, whitespace not counted.
ROLE_POLICY_CHARACTERS = 10_240


def _provider_arn(record: BootstrapRecord) -> str:
    [provider] = record.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    arn: str = provider["arn"]
    return arn


def test_given_the_bootstrap_then_githubs_provider_is_trusted_for_sts_tokens_only(bootstrap: BootstrapRecord) -> None:
    """IAM checks GitHub's certificate against its own trusted CAs: no thumbprint to pin."""
    [provider] = bootstrap.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider["inputs"] == {"url": GITHUB_PROVIDER_URL, "clientIdLists": ["sts.amazonaws.com"]}
    assert bootstrap.outputs["oidcProviderArn"] == provider["arn"]


@pytest.mark.parametrize("role", sorted(SUBJECTS))
def test_given_each_role_then_only_its_runs_of_this_repository_can_assume_it(
    bootstrap: BootstrapRecord,
    role: str,
) -> None:
    assert bootstrap.trust(role) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": _provider_arn(bootstrap)},
                "Action": "sts:AssumeRoleWithWebIdentity",
                # StringEquals on both claims: no wildcard lets another branch, environment or repository in.
                "Condition": {"StringEquals": {AUDIENCE_KEY: "sts.amazonaws.com", SUBJECT_KEY: SUBJECTS[role]}},
            }
        ],
    }


def test_given_an_existing_provider_then_none_is_created_and_the_roles_trust_it(
    bootstraps: dict[str, BootstrapRecord],
) -> None:
    record = bootstraps["existing-provider"]
    assert record.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    for role in SUBJECTS:
        assert record.trust(role)["Statement"][0]["Principal"] == {"Federated": EXISTING_PROVIDER}


def test_given_the_roles_then_their_arns_are_exported_for_the_repository_variables(bootstrap: BootstrapRecord) -> None:
    assert {key: value.rsplit("/", 1)[1] for key, value in bootstrap.outputs.items() if key.endswith("RoleArn")} == {
        "previewRoleArn": "github-digits-preview",
        "devDeployRoleArn": "github-digits-dev-deploy",
        "prodDeployRoleArn": "github-digits-prod-deploy",
    }


def test_given_the_roles_then_a_session_outlasts_a_long_deployment(bootstrap: BootstrapRecord) -> None:
    for role in SUBJECTS:
        assert bootstrap.role(role)["inputs"]["maxSessionDuration"] == SESSION_SECONDS == 7200


def test_given_state_in_pulumi_cloud_then_the_preview_role_has_no_permission_at_all(bootstrap: BootstrapRecord) -> None:
    """``pulumi preview`` only calls sts:GetCallerIdentity, which needs no permission."""
    assert bootstrap.statements("preview") == []


def test_given_a_state_bucket_then_previews_read_state_and_take_locks_but_write_nothing_else(
    bootstraps: dict[str, BootstrapRecord],
) -> None:
    statements = bootstraps["state-bucket"].statements("preview")
    objects = f"arn:aws:s3:::{STATE_BUCKET}/.pulumi"
    assert {action.split(":")[0] for s in statements for action in as_list(s["Action"])} == {"s3"}
    assert allows(statements, "s3:ListBucket", f"arn:aws:s3:::{STATE_BUCKET}")
    assert allows(statements, "s3:GetObject", f"{objects}/stacks/digit-recognition/prod.json")
    assert allows(statements, "s3:PutObject", f"{objects}/locks/organization/digit-recognition/prod/lock.json")
    assert not allows(statements, "s3:PutObject", f"{objects}/stacks/digit-recognition/prod.json")
    assert not allows(statements, "s3:DeleteObject", f"{objects}/stacks/digit-recognition/prod.json")
    assert not allows(statements, "s3:GetObject", "arn:aws:s3:::another-bucket/.pulumi/meta.yaml")


def test_given_a_state_bucket_then_each_deploy_role_reads_and_writes_the_state_and_only_the_state(
    bootstraps: dict[str, BootstrapRecord],
) -> None:
    record = bootstraps["state-bucket"]
    for role in ("deploy-dev", "deploy-prod"):
        statements = record.statements(role)
        assert allows(
            statements, "s3:PutObject", f"arn:aws:s3:::{STATE_BUCKET}/.pulumi/stacks/digit-recognition/dev.json"
        )
        assert not allows(statements, "s3:PutObject", f"arn:aws:s3:::{STATE_BUCKET}/elsewhere.txt")
        assert not allows(statements, "s3:DeleteBucket", f"arn:aws:s3:::{STATE_BUCKET}")
    assert not any(STATE_BUCKET in json.dumps(bootstraps["pulumi-cloud"].statements(role)) for role in SUBJECTS)


@pytest.mark.parametrize("config", ["pulumi-cloud", "state-bucket"])
def test_given_each_role_then_its_policy_fits_iams_size_quota(
    bootstraps: dict[str, BootstrapRecord],
    config: str,
) -> None:
    for policy in bootstraps[config].of_type("aws:iam/rolePolicy:RolePolicy"):
        characters = len("".join(policy["inputs"]["policy"].split()))
        assert characters <= ROLE_POLICY_CHARACTERS, (policy["name"], characters)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_given_each_stack_then_the_bootstrap_scopes_by_the_prefix_the_main_program_names_with(stack: str) -> None:
    assert stack_prefix(stack) == settings_of(stack).name_prefix


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({f"{PROJECT}:githubRepo": "digits"}, f"{PROJECT}:githubOwner"),
        ({f"{PROJECT}:githubOwner": "octo-org"}, f"{PROJECT}:githubRepo"),
        ({**REQUIRED, f"{PROJECT}:githubOwner": "octo-*"}, "githubOwner must be a GitHub user or organisation name"),
        (
            {**REQUIRED, f"{PROJECT}:githubRepo": "digits:environment:prod"},
            "githubRepo must be a GitHub repository name",
        ),
        (
            {**REQUIRED, f"{PROJECT}:oidcProviderArn": "arn:aws:iam::123456789012:oidc-provider/accounts.google.com"},
            "oidcProviderArn must be the ARN of the account's token.actions.githubusercontent.com provider",
        ),
    ],
)
def test_given_no_or_a_malformed_setting_then_the_bootstrap_refuses_naming_it(
    tmp_path: Path,
    config: dict[str, str],
    message: str,
) -> None:
    """No repository is guessed, no other provider trusted: a trust policy for
    the wrong one would let strangers deploy."""
    process = start_bootstrap(config, tmp_path / "out.json")
    log, _ = process.communicate(timeout=120)
    assert process.returncode != 0 and message in log, log[-3000:]
    assert not (tmp_path / "out.json").exists()
