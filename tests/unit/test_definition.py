"""The state machine definition: valid ASL, bounded in time, honest about failures."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from functions.core.errors import CLIENT_ERROR_CODES, ERROR_TABLE
from workflows import build_definition
from workflows.definition import EXECUTION_TIMEOUT_SECONDS, LAMBDA_SERVICE_ERRORS, TASKS, worst_case_seconds

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
            assert (
                retrier["MaxAttempts"] <= 3 and retrier["JitterStrategy"] == "FULL" and retrier["MaxDelaySeconds"] <= 5
            )
        retried = {error for retrier in state["Retry"] for error in retrier["ErrorEquals"]}
        assert {"Lambda.ServiceException", "Lambda.TooManyRequestsException"} <= retried, name
    # Each transient error is retried where it is raised: a cold or throttled model, a throttled table.
    assert _retried(definition, "InvokeModel") & set(ERROR_TABLE) == {"ModelUnavailable"}
    assert _retried(definition, "Persist") & set(ERROR_TABLE) == {"Throttled"}
    assert not _retried(definition, "Validate") & set(ERROR_TABLE)
    assert not _retried(definition, "Preprocess") & set(ERROR_TABLE)


def test_the_workflow_retries_exactly_the_errors_the_table_calls_retryable(definition: dict[str, Any]) -> None:
    retried = set().union(*(_retried(definition, name) for name in tasks(definition)))
    retryable = {code for code, cls in ERROR_TABLE.items() if cls.retryable}
    assert retried & set(ERROR_TABLE) == retryable == {"ModelUnavailable", "Throttled"}


def _retried(definition: dict[str, Any], state: str) -> set[str]:
    return {error for retrier in definition["States"][state]["Retry"] for error in retrier["ErrorEquals"]}


@pytest.mark.parametrize("failing", ["ModelUnavailable", "Throttled", *LAMBDA_SERVICE_ERRORS])
def test_given_a_dependency_failing_at_every_retry_then_the_execution_still_ends_within_its_cap(
    definition: dict[str, Any], failing: str
) -> None:
    """Every task at its full timeout, and every retry of ``failing`` taken at
    its longest: the retries happen, and the caller gets the described error
    (503, 429), not the execution's timeout (a 500)."""
    assert worst_case_seconds(definition, failing) <= EXECUTION_TIMEOUT_SECONDS


def test_given_the_worst_case_then_it_counts_each_retried_attempt_and_delay() -> None:
    """The budget arithmetic itself, on a definition with one retried task."""
    one_task = {
        "States": {
            "T": {
                "Type": "Task",
                "TimeoutSeconds": 5,
                "Retry": [
                    {
                        "ErrorEquals": ["ModelUnavailable"],
                        "IntervalSeconds": 1,
                        "MaxAttempts": 2,
                        "BackoffRate": 2.0,
                        "MaxDelaySeconds": 3,
                    }
                ],
            }
        }
    }
    assert worst_case_seconds(one_task, "ModelUnavailable") == 5 + (1 + 5) + (2 + 5)
    assert worst_case_seconds(one_task, "Throttled") == 5


def test_a_caught_failure_replaces_the_state_so_it_cannot_outgrow_the_data_limit(definition: dict[str, Any]) -> None:
    """A Catch that adds the error to a state near 256 KB ends in
    States.DataLimitExceeded, which no Catch catches (AWS_FACTS.md)."""
    for name, state in tasks(definition).items():
        assert all(catcher.get("ResultPath", "$") == "$" for catcher in state["Catch"]), name


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
        assert states[described["Next"]] == {
            "Type": "Fail",
            "ErrorPath": "$.error",
            "CausePath": "$.details.errorMessage",
        }
        assert states[anything["Next"]]["Error"] == "InternalError"


def test_the_raw_image_goes_no_further_than_preprocess(definition: dict[str, Any]) -> None:
    states = definition["States"]
    assert "image.$" in states["Validate"]["ResultSelector"]
    for name in ("Preprocess", "InvokeModel"):
        assert "image.$" not in states[name]["ResultSelector"]
    assert "tensor.$" not in states["InvokeModel"]["ResultSelector"]
