"""The GitHub Actions workflows (.github/workflows): valid against GitHub's
workflow schema (check-jsonschema's vendored copy, offline), calling only Make
targets that exist, holding no credential, reaching AWS only by OIDC with the
roles bootstrap/ trusts for exactly these jobs, and deploying each stack one
run at a time: preflight, ``pulumi up``, smoke."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bootstrap.github_access import DEPLOY_SUBJECTS, MAIN_BRANCH, PROD_ENVIRONMENT, SESSION_SECONDS

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
CONFIGURE_AWS = "aws-actions/configure-aws-credentials"
PULUMI_ACTION = "pulumi/actions"
DEPLOY_JOBS = {"dev": "deploy-dev", "prod": "deploy-prod"}
# AWS's documented example credentials ("Managing access keys", IAM User Guide): a scanner must catch them.
EXAMPLE_KEY_ID, EXAMPLE_SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
# Access key ids (long-lived AKIA, temporary ASIA), and 40 characters of a secret access key.
KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
SECRET_KEY = re.compile(
    r"(?<![A-Za-z0-9/+])(?=[A-Za-z0-9/+]*[0-9/+])(?=[A-Za-z0-9/+]*[a-z])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
)
SECRET_NAMES = re.compile(r"TOKEN|PASSPHRASE|PASSWORD|SECRET|ACCESS_KEY|PRIVATE_KEY", re.IGNORECASE)
SECRET_REFERENCE = re.compile(r"^\$\{\{\s*secrets\.[A-Za-z_][A-Za-z0-9_]*\s*\}\}$")


def load(path: Path) -> dict[str, Any]:
    document: dict[Any, Any] = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as true.
    return {("on" if key is True else key): value for key, value in document.items()}


def jobs() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in WORKFLOWS:
        yield from load(path)["jobs"].items()


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in job.get("steps", []) if str(step.get("uses", "")).split("@")[0] == action]


def commands(job: dict[str, Any]) -> list[list[str]]:
    """Every command line of the job's ``run`` steps, as words."""
    return [
        shlex.split(line)
        for step in job.get("steps", [])
        if "run" in step
        for line in step["run"].splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def make_targets_called(words: list[str]) -> list[str]:
    return [word for word in words[1:] if "=" not in word and not word.startswith("-")] if words[:1] == ["make"] else []


def pipeline_text() -> str:
    return (ROOT / ".github" / "workflows" / "pipeline.yml").read_text()


def pipeline() -> dict[str, Any]:
    return load(ROOT / ".github" / "workflows" / "pipeline.yml")


def test_given_the_workflows_then_they_validate_against_githubs_workflow_schema() -> None:
    assert WORKFLOWS
    # A proxy nobody listens on: the check passes only if it never needs the network.
    nowhere = "http://127.0.0.1:9"
    offline = {
        **os.environ,
        **{name: nowhere for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")},
        "NO_PROXY": "",
        "no_proxy": "",
    }
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        env=offline,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_given_a_workflow_that_breaks_the_schema_then_the_check_fails(tmp_path: Path) -> None:
    """The same check rejects what GitHub would: a job without ``runs-on``."""
    broken = tmp_path / "broken.yml"
    broken.write_text(pipeline_text().replace("runs-on: ubuntu-24.04", "runs_on: ubuntu-24.04", 1))
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode != 0 and "runs_on" in result.stdout + result.stderr


def test_given_the_workflows_then_every_make_target_they_call_exists() -> None:
    """`make test` runs through .ci/run, as on the project's own CI machine."""
    defined = set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", (ROOT / "Makefile").read_text(), re.MULTILINE))
    called: set[str] = set()
    for _, job in jobs():
        for words in commands(job):
            called.update(make_targets_called(words))
            if words[:2] == ["bash", ".ci/run"]:
                for line in (ROOT / ".ci" / "run").read_text().splitlines():
                    if line.strip() and not line.lstrip().startswith("#"):
                        called.update(make_targets_called(shlex.split(line)))
    assert {"test", "preflight", "smoke"} <= called
    assert called <= defined, f"the workflows call Make targets the Makefile lacks: {sorted(called - defined)}"


def _settings(node: Any) -> Iterator[tuple[str, Any]]:
    """Every key and value of a workflow, but the permission scopes (`id-token: write` is no token)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "permissions":
                yield str(key), value
                yield from _settings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _settings(item)


def secrets_written_in(text: str) -> list[str]:
    """Credentials written out in a workflow: AWS keys, key inputs, or secret-named settings given a literal."""
    found = KEY_ID.findall(text) + SECRET_KEY.findall(text)
    found += re.findall(r"aws-(?:access-key-id|secret-access-key|session-token)\s*:.*", text)
    found += [
        f"{key}: {value}"
        for key, value in _settings(yaml.safe_load(text))
        if SECRET_NAMES.search(key) and isinstance(value, str) and not SECRET_REFERENCE.match(value.strip())
    ]
    return found


def test_given_the_workflows_then_no_aws_key_or_secret_is_written_in_them() -> None:
    for path in WORKFLOWS:
        assert secrets_written_in(path.read_text()) == [], path.name


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("AWS_REGION", EXAMPLE_KEY_ID),
        ("MY_VALUE", EXAMPLE_SECRET),
        ("aws-access-key-id", "${{ secrets.KEY }}"),
        ("PULUMI_CONFIG_PASSPHRASE", "correct horse battery staple"),
        ("PULUMI_ACCESS_TOKEN", "pul-0123456789abcdef"),
    ],
)
def test_given_a_planted_credential_then_the_scan_finds_it(setting: str, value: str) -> None:
    workflow = yaml.safe_load(pipeline_text())
    workflow["jobs"]["deploy-prod"]["env"][setting] = value
    assert secrets_written_in(yaml.safe_dump(workflow))


def test_given_each_job_that_reaches_aws_then_it_assumes_a_role_by_oidc_only() -> None:
    """aws-actions/configure-aws-credentials asks GitHub for an OIDC token only with `id-token: write`."""
    workflow = pipeline()
    assert "id-token" not in workflow.get("permissions", {})
    assuming = {name: job for name, job in jobs() if steps_using(job, CONFIGURE_AWS)}
    assert set(assuming) == {"preview", *DEPLOY_JOBS.values()}
    for name, job in assuming.items():
        assert job["permissions"]["id-token"] == "write", name
        for step in steps_using(job, CONFIGURE_AWS):
            inputs = step["with"]
            assert not {"aws-access-key-id", "aws-secret-access-key", "aws-session-token"} & set(inputs), name
            role = inputs["role-to-assume"]
            source = job["env"].get(role.removeprefix("${{ env.").removesuffix(" }}"), role)
            assert re.fullmatch(r"\$\{\{ vars\.AWS_[A-Z_]+_ROLE_ARN \}\}", source), (name, source)


def test_given_the_deploy_jobs_then_each_runs_preflight_pulumi_up_and_smoke_in_that_order() -> None:
    workflow = pipeline()
    for stack, name in DEPLOY_JOBS.items():
        job = workflow["jobs"][name]
        assert job["env"]["STACK"] == stack
        sequence = []
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith(f"{PULUMI_ACTION}@") and "command" in step.get("with", {}):
                assert step["with"]["stack-name"] == "${{ env.STACK }}"
                sequence.append(f"pulumi {step['with']['command']}")
            for line in step.get("run", "").splitlines():
                words = shlex.split(line)
                if make_targets_called(words) in (["preflight"], ["smoke"]):
                    assert words[2:] == ["STACK=$STACK"], line
                    sequence.append(f"make {words[1]}")
        assert sequence == ["make preflight", "pulumi up", "make smoke"], name
        assert job["needs"] == "test"
    # One list of steps for both stacks: only env, trigger, environment and concurrency differ.
    assert workflow["jobs"]["deploy-dev"]["steps"] == workflow["jobs"]["deploy-prod"]["steps"]


def test_given_the_deploy_jobs_then_two_deployments_of_one_stack_never_overlap() -> None:
    """GitHub runs one job of a concurrency group at a time; without cancel-in-progress
    a deployment under way is never cancelled (a newer one waits)."""
    groups = {name: job.get("concurrency") for name, job in jobs()}
    deploy_groups = [groups[name] for name in DEPLOY_JOBS.values()]
    for group in deploy_groups:
        assert group is not None and group["cancel-in-progress"] is False and "${{" not in group["group"]
    assert len({group["group"] for group in deploy_groups if group}) == len(DEPLOY_JOBS)
    others = [g["group"] for name, g in groups.items() if g and name not in DEPLOY_JOBS.values()]
    assert not {group["group"] for group in deploy_groups if group} & set(others)


def test_given_the_triggers_then_each_job_runs_only_where_its_role_trusts_it() -> None:
    """The roles' trust (bootstrap/) is the token's `sub`: a job with an
    environment is `environment:<name>` whatever its branch, one without is
    `ref:<ref>`, a pull request is `pull_request`."""
    workflow = pipeline()
    assert set(workflow["on"]) == {"pull_request", "push"}
    assert workflow["on"]["push"]["tags"] == ["v*"]
    dev, prod, preview = (workflow["jobs"][name] for name in ("deploy-dev", "deploy-prod", "preview"))
    assert DEPLOY_SUBJECTS["dev"] == f"ref:refs/heads/{MAIN_BRANCH}"
    assert "environment" not in dev and f"github.ref == 'refs/heads/{MAIN_BRANCH}'" in dev["if"]
    assert DEPLOY_SUBJECTS["prod"] == f"environment:{PROD_ENVIRONMENT}"
    assert prod["environment"] == PROD_ENVIRONMENT and "startsWith(github.ref, 'refs/tags/v')" in prod["if"]
    assert "environment" not in preview and "github.event_name == 'pull_request'" in preview["if"]
    # Fork pull requests have no OIDC token: they are not previewed.
    assert "github.event.pull_request.head.repo.full_name == github.repository" in preview["if"]


def test_given_the_deploy_jobs_then_their_sessions_last_as_long_as_the_roles_allow() -> None:
    workflow = pipeline()
    for name in DEPLOY_JOBS.values():
        [step] = steps_using(workflow["jobs"][name], CONFIGURE_AWS)
        assert int(step["with"]["role-duration-seconds"]) == SESSION_SECONDS
        assert workflow["jobs"][name]["timeout-minutes"] * 60 <= SESSION_SECONDS


def test_given_a_pull_request_then_both_stacks_are_previewed_with_the_summary_on_it() -> None:
    preview = pipeline()["jobs"]["preview"]
    assert set(preview["strategy"]["matrix"]["stack"]) == set(DEPLOY_SUBJECTS)
    assert preview["permissions"]["pull-requests"] == "write"
    [step] = [s for s in steps_using(preview, PULUMI_ACTION) if "command" in s.get("with", {})]
    assert step["with"]["command"] == "preview" and step["with"]["comment-on-pr"] is True
    assert step["with"]["stack-name"] == "${{ env.STACK }}" and preview["env"]["STACK"] == "${{ matrix.stack }}"


def test_given_every_action_then_it_is_pinned_to_a_release() -> None:
    for name, job in jobs():
        for step in job.get("steps", []):
            if "uses" in step:
                action, _, version = step["uses"].partition("@")
                assert re.fullmatch(r"v\d+(\.\d+){0,2}|[0-9a-f]{40}", version), (name, step["uses"])
    for _, job in jobs():
        for step in steps_using(job, PULUMI_ACTION):
            assert re.fullmatch(r"v\d+", step["uses"].partition("@")[2])


def test_given_jobs_that_run_the_program_then_python_3_12_is_there_for_the_layer() -> None:
    """The Lambda layer is byte-compiled by a Python 3.12 (components/layer_builder.py),
    beside the project's 3.11."""
    for name, job in jobs():
        runs_program = steps_using(job, PULUMI_ACTION) or any(
            words[:2] == ["bash", ".ci/run"] for words in commands(job)
        )
        if runs_program:
            versions = [step["with"]["python-version"].split() for step in steps_using(job, "actions/setup-python")]
            assert versions == [["3.12", "3.11"]], name
