"""The state machine definition: valid ASL, bounded in time, honest about failures."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from functions.core.errors import CLIENT_ERROR_CODES, ERROR_TABLE
from workflows import build_definition
from workflows.definition import EXECUTION_TIMEOUT_SECONDS, TASKS

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / "node_modules" / ".bin" / "asl-validator"
API_GATEWAY_TIMEOUT_SECONDS = 29
ARNS = {task: f"arn:aws:lambda:ap-southeast-1:123456789012:function:digits-dev-{task}" for task in TASKS}


@pytest.fixture(scope="module")
def definition() -> dict[str, Any]:
    return build_definition(ARNS)


def tasks(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: state for name, state in definition["States"].items() if state["Type"] == "Task"}


@pytest.mark.skipif(not VALIDATOR.exists(), reason="npm's asl-validator is not installed (npm ci)")
def test_the_definition_passes_asl_validator(definition: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(definition))

    result = subprocess.run([str(VALIDATOR), "--json-path", str(path)], capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_tasks_run_in_order_and_call_their_functions(definition: dict[str, Any]) -> None:
    order, name = [], definition["StartAt"]
    while name:
        state = definition["States"][name]
        order.append(state["Parameters"]["FunctionName"])
        name = state.get("Next")
    assert order == [ARNS[task] for task in TASKS]


def test_a_missing_arn_is_refused() -> None:
    with pytest.raises(ValueError, match="persist"):
        build_definition({task: arn for task, arn in ARNS.items() if task != "persist"})


def test_retries_are_bounded_jittered_and_never_for_the_requests_own_faults(definition: dict[str, Any]) -> None:
    for name, state in tasks(definition).items():
        assert state["Retry"], name
        for retrier in state["Retry"]:
            assert not set(retrier["ErrorEquals"]) & {*CLIENT_ERROR_CODES, "States.ALL", "States.TaskFailed"}, name
            assert retrier["MaxAttempts"] <= 3 and retrier["JitterStrategy"] == "FULL" and retrier["MaxDelaySeconds"] <= 5
        retried = {error for retrier in state["Retry"] for error in retrier["ErrorEquals"]}
        assert {"Lambda.ServiceException", "Lambda.TooManyRequestsException", "ModelUnavailable", "Throttled"} <= retried


def test_the_whole_execution_ends_before_api_gateway_gives_up(definition: dict[str, Any]) -> None:
    assert definition["TimeoutSeconds"] == EXECUTION_TIMEOUT_SECONDS < API_GATEWAY_TIMEOUT_SECONDS - 2
    assert all(0 < state["TimeoutSeconds"] < EXECUTION_TIMEOUT_SECONDS for state in tasks(definition).values())


def test_every_failure_is_caught_into_a_table_code(definition: dict[str, Any]) -> None:
    states = definition["States"]
    for name, state in tasks(definition).items():
        known, anything = state["Catch"]
        assert set(known["ErrorEquals"]) == set(ERROR_TABLE), name
        assert anything["ErrorEquals"] == ["States.ALL"], name
        described = states[known["Next"]]
        assert states[described["Next"]] == {"Type": "Fail", "ErrorPath": "$.error", "CausePath": "$.details.errorMessage"}
        assert states[anything["Next"]]["Error"] == "InternalError"


def test_the_raw_image_goes_no_further_than_preprocess(definition: dict[str, Any]) -> None:
    states = definition["States"]
    assert "image.$" in states["Validate"]["ResultSelector"]
    for name in ("Preprocess", "InvokeModel"):
        assert "image.$" not in states[name]["ResultSelector"]
    assert "tensor.$" not in states["InvokeModel"]["ResultSelector"]
