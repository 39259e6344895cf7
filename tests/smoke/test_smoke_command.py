"""``make smoke`` itself, run as a person runs it (``python -m tests.smoke``, a
subprocess): it passes against the local stack and cleans up after itself, and
it fails against a stack that answers its health check but breaks the
contract, naming the broken call. This is also where ``make test`` runs the
contract suite against the local stack, once."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from local.stack import HISTORY_FILE
from tests.contract.run_record import CLIENT_ID_PREFIX, NO_STACK
from tests.smoke.__main__ import SETUP_FAILED, TESTS_FAILED, SmokeSetupError, site_url
from tests.smoke.stand_ins import serving, throttling_health, wrong_app
from tests.support.local_stack import REPO_ROOT, free_port

# The whole contract suite against a local stack on a busy machine.
SMOKE_RUN_TIMEOUT_SECONDS = 840
# Lines of the run's output shown when it went differently.
OUTPUT_TAIL_LINES = 60


def run_smoke(*arguments: str, settings: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # The run's settings come from its arguments and ``settings`` alone, not from this shell.
    env = {name: value for name, value in os.environ.items() if not name.startswith("SMOKE_")} | (settings or {})
    return subprocess.run(
        [sys.executable, "-m", "tests.smoke", *arguments],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=SMOKE_RUN_TIMEOUT_SECONDS,
        check=False,
    )


def tail(result: subprocess.CompletedProcess[str]) -> str:
    return "\n".join((result.stdout + result.stderr).splitlines()[-OUTPUT_TAIL_LINES:])


@pytest.mark.timeout(SMOKE_RUN_TIMEOUT_SECONDS + 60)
def test_given_the_local_stack_when_smoke_runs_then_every_check_passes_with_figures_and_nothing_is_left(
    stack_url: str, stack_data_dir: Path
) -> None:
    result = run_smoke("--base-url", stack_url)

    assert result.returncode == 0, tail(result)
    output = result.stdout
    assert f"smoke: {stack_url} keeps the contract." in output
    assert re.search(
        r"cold: the first prediction took \d+ ms; warm: p50 \d+ ms, p95 \d+ ms over 20 predictions", output
    )
    checks = re.search(r"checks: (\d+) passed.*; requests made: (\d+)", output)
    assert checks is not None, tail(result)
    assert "BROKEN" not in output and not re.search(r"\d+ (failed|errors)", checks.group(0))
    with sqlite3.connect(f"file:{stack_data_dir / HISTORY_FILE}?mode=ro", uri=True) as history:
        left = history.execute("SELECT count(*) FROM items WHERE client_id LIKE ?", (f"{CLIENT_ID_PREFIX}-%",))
        assert left.fetchone()[0] == 0


@pytest.mark.parametrize(
    ("fault", "named"),
    [
        ("server-error", 'call: POST /api/predictions -> 500: {"message":"Internal server error"}'),
        ("wrong-error-json", 'not {"error": {"code", "message"}}: POST /api/predictions -> 400'),
    ],
)
@pytest.mark.timeout(SMOKE_RUN_TIMEOUT_SECONDS + 60)
def test_given_a_stack_that_answers_health_but_breaks_the_contract_when_smoke_runs_then_it_fails_naming_the_call(
    fault: str, named: str
) -> None:
    with serving(wrong_app(fault)) as base_url:
        result = run_smoke("--base-url", base_url)

    assert result.returncode == TESTS_FAILED, tail(result)
    assert f"smoke: {base_url} breaks the contract" in result.stderr, tail(result)
    assert "BROKEN tests/contract/test_predictions.py::test_the_stack_answers_its_health_check" not in result.stdout
    assert named in result.stdout, tail(result)


def test_given_smoke_throttle_when_the_stack_throttles_a_burst_then_the_check_passes() -> None:
    with serving(throttling_health()) as base_url:
        result = run_smoke("--base-url", base_url, "-k", "throttled", settings={"SMOKE_THROTTLE": "1"})

    assert result.returncode == 0, tail(result)
    assert "checks: 1 passed" in result.stdout


def test_given_smoke_throttle_when_the_stack_never_throttles_then_the_check_fails_saying_so(stack_url: str) -> None:
    """The local stack has no throttling: asked to show a 429, the run must not pass."""
    result = run_smoke(
        "--base-url",
        stack_url,
        "-k",
        "throttled",
        settings={"SMOKE_THROTTLE": "1", "SMOKE_THROTTLE_REQUESTS": "30"},
    )

    assert result.returncode == TESTS_FAILED, tail(result)
    assert "none of 30 requests to GET /api/health was throttled: {200: 30}" in result.stdout, tail(result)


def test_given_an_address_that_is_not_a_site_url_when_smoke_runs_then_it_says_so_and_runs_nothing() -> None:
    result = run_smoke("--base-url", "https://abc123.execute-api.ap-southeast-1.amazonaws.com/api")

    assert result.returncode == SETUP_FAILED
    assert "give the site's root (the siteUrl output)" in result.stderr
    assert "checks:" not in result.stdout


def test_given_an_address_where_nothing_answers_when_smoke_runs_then_it_says_so_once_and_stops() -> None:
    base_url = f"http://127.0.0.1:{free_port()}"

    result = run_smoke("--base-url", base_url)

    assert result.returncode == NO_STACK, tail(result)
    assert f"nothing answers GET {base_url}/api/health" in result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def test_given_a_stack_name_then_the_url_is_the_stacks_site_url_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_pulumi(
        tmp_path, monkeypatch, 'test "$*" = "stack output siteUrl --stack dev" && echo https://d111.cloudfront.net/'
    )

    assert site_url("dev") == "https://d111.cloudfront.net"


def test_given_a_stack_pulumi_does_not_know_then_the_error_says_what_pulumi_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_pulumi(tmp_path, monkeypatch, "echo 'error: no stack named \"nope\" found' >&2; exit 255")

    with pytest.raises(
        SmokeSetupError, match='`pulumi stack output siteUrl --stack nope` failed: error: no stack named "nope"'
    ):
        site_url("nope")


def test_given_no_pulumi_cli_then_the_error_says_to_install_it_or_give_the_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(SmokeSetupError, match="Pulumi CLI is not on PATH"):
        site_url("dev")


def _fake_pulumi(directory: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """A ``pulumi`` on PATH that runs ``script`` with the arguments it gets."""
    pulumi = directory / "pulumi"
    pulumi.write_text(f"#!/bin/sh\n{script}\n")
    pulumi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ['PATH']}")
