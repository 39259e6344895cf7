"""Calls to AWS end within the task's time, so a slow dependency fails with the
error the workflow retries, never with the task's timeout (which is neither
retried nor described: a 500). Each client's worst case (attempts x timeouts +
backoff) fits the time its function has."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from components.lambda_function import TIMEOUTS
from functions.core.config import FunctionSettings
from functions.core.deadline import RETURN_MARGIN_SECONDS, Deadline
from functions.core.errors import ModelUnavailable
from functions.core.history.dynamodb_client import HISTORY_API_ATTEMPTS, PERSIST_ATTEMPTS, dynamodb_client_options
from functions.core.sagemaker_client import (
    CONNECT_TIMEOUT_SECONDS,
    MIN_READ_TIMEOUT_SECONDS,
    READ_TIMEOUT_SECONDS,
    SageMakerClient,
    read_timeout_for,
    sagemaker_runtime_client,
)
from functions.handlers import _runtime
from local.sagemaker_endpoint import LocalSageMakerEndpoint
from workflows.definition import TASK_TIMEOUT_SECONDS

# A cold start of persist or history at 256 MB (imports and first call, CPU
# capped to Lambda's share; issue 13's measurement: 1.5 s and 1.9 s).
COLD_START_SECONDS = 2.0
# botocore's standard retry mode: the i-th retry waits up to min(1 s * 2**(i-1), 20 s) after throttling.
THROTTLING_BACKOFF_BASE_SECONDS = 1.0


class Context:
    """The one method of Lambda's context object that deadlines read."""

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms
        self.function_name = "fn"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_given_a_lambda_context_then_the_deadline_keeps_a_margin_for_the_way_back() -> None:
    left = Deadline.of_invocation(Context(6000)).seconds_left()
    assert 6.0 - RETURN_MARGIN_SECONDS - 0.1 < left <= 6.0 - RETURN_MARGIN_SECONDS


def test_given_no_context_then_the_deadline_is_far_away() -> None:
    assert Deadline.of_invocation(None).seconds_left() > 60


def test_given_a_cold_start_then_the_first_call_sees_the_time_the_init_phase_took(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Lambda's timeout starts with the invoke phase; the task's clock already ran through init."""
    seen: list[int] = []
    monkeypatch.setattr(_runtime, "LOADED_AT", time.monotonic() - 2.0)

    def build(_settings: Any) -> Any:
        def task(_event: Any, context: Any) -> str:
            seen.append(context.get_remaining_time_in_millis())
            return str(context.function_name)

        return task

    handler = _runtime.cold_start(build, FunctionSettings)
    assert handler({}, Context(6000)) == "fn"
    assert handler({}, Context(6000)) == "fn"
    cold, warm = seen
    assert cold <= 6000 - 2000 - _runtime.RUNTIME_START_ALLOWANCE_SECONDS * 1000
    assert warm == 6000


@pytest.mark.parametrize("seconds_left", [6.0, 5.7, 3.0, 2.0, 1.6])
def test_given_time_left_then_connect_and_read_end_before_the_deadline(seconds_left: float) -> None:
    read_timeout = read_timeout_for(Deadline.after(seconds_left))
    assert read_timeout is not None
    assert MIN_READ_TIMEOUT_SECONDS <= read_timeout <= READ_TIMEOUT_SECONDS
    assert CONNECT_TIMEOUT_SECONDS + read_timeout <= seconds_left


def test_given_the_model_task_s_whole_time_then_the_longest_wait_fits_inside() -> None:
    task_seconds = TASK_TIMEOUT_SECONDS["invoke_model"]
    assert task_seconds >= CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS + RETURN_MARGIN_SECONDS


@pytest.fixture(scope="module")
def slow_model() -> Iterator[LocalSageMakerEndpoint]:
    with LocalSageMakerEndpoint(endpoint_name="digits-deadline") as endpoint:
        yield endpoint


@pytest.fixture
def model(slow_model: LocalSageMakerEndpoint, monkeypatch: pytest.MonkeyPatch) -> SageMakerClient:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", slow_model.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-1")
    return SageMakerClient(sagemaker_runtime_client, "digits-deadline")


def test_given_a_model_slower_than_the_deadline_then_model_unavailable_is_raised(
    model: SageMakerClient, slow_model: LocalSageMakerEndpoint
) -> None:
    slow_model.slow(6)
    try:
        with pytest.raises(ModelUnavailable):
            model.predict(np.zeros((28, 28), dtype=np.float32), Deadline.after(2.0))
    finally:
        slow_model.slow(0)


def test_given_too_little_time_then_the_model_is_not_called_and_the_workflow_retries(
    model: SageMakerClient, slow_model: LocalSageMakerEndpoint
) -> None:
    before = slow_model.invocations
    with pytest.raises(ModelUnavailable):
        model.predict(np.zeros((28, 28), dtype=np.float32), Deadline.after(CONNECT_TIMEOUT_SECONDS + 0.2))
    assert slow_model.invocations == before


def test_given_time_enough_then_the_model_answers(model: SageMakerClient) -> None:
    prediction = model.predict(np.zeros((28, 28), dtype=np.float32), Deadline.after(5.0))
    assert 0 <= prediction.digit <= 9


def _worst_case_seconds(options: dict[str, Any]) -> float:
    attempts: int = options["retries"]["total_max_attempts"]
    per_attempt: float = options["connect_timeout"] + options["read_timeout"]
    backoff: float = sum(min(THROTTLING_BACKOFF_BASE_SECONDS * 2**retry, 20.0) for retry in range(attempts - 1))
    return attempts * per_attempt + backoff


def test_given_the_persist_task_then_its_dynamodb_client_gives_up_before_the_task_times_out() -> None:
    """A slow table ends as Throttled-or-error inside the task, not as States.Timeout (a 500)."""
    worst = _worst_case_seconds(dynamodb_client_options(PERSIST_ATTEMPTS))
    assert COLD_START_SECONDS + worst + RETURN_MARGIN_SECONDS <= TASK_TIMEOUT_SECONDS["persist"]


def test_given_the_history_api_then_its_dynamodb_client_gives_up_before_the_function_times_out() -> None:
    worst = _worst_case_seconds(dynamodb_client_options(HISTORY_API_ATTEMPTS))
    assert COLD_START_SECONDS + worst + RETURN_MARGIN_SECONDS <= TIMEOUTS["history"]
