"""The interpreter's behaviours the project relies on, pinned through
``local.asl_interpreter`` with tiny definitions: if a moto upgrade changes one
of them, a test here fails (rather than a scenario far away, or nothing).

Each behaviour is Step Functions' own, as documented:

- Retry and Catch (IntervalSeconds, MaxAttempts, BackoffRate, MaxDelaySeconds,
  JitterStrategy FULL: "a random number between 0 and the computed backoff";
  a Catch's ``ResultPath`` "$" replaces the state with ``{"Error", "Cause"}``;
  ``States.ALL`` catches ``States.Timeout``):
  https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
- A Lambda function error's name is its ``errorType``, its cause the error JSON;
  a Lambda service error is ``Lambda.<code>``:
  https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html
- ResultSelector and OutputPath over the ``lambda:invoke`` result (``Payload``):
  https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html
- ``States.StringToJson``:
  https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html
- A Fail state's ErrorPath and CausePath:
  https://docs.aws.amazon.com/step-functions/latest/dg/state-fail.html
- A Task's and an execution's TimeoutSeconds end in ``States.Timeout``:
  https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html
- History events and their details (what ``local/engine.py`` folds into its
  execution records):
  https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

import pytest

from local.asl_interpreter import LambdaFunction, Outcome, StateMachine, parse

MACHINE_ARN = "arn:aws:states:ap-southeast-1:123456789012:stateMachine:pinned"
# The project's retrier of transient errors (workflows/definition.py), with room for one capped delay.
MAX_ATTEMPTS = 3
RETRY = {
    "IntervalSeconds": 1,
    "MaxAttempts": MAX_ATTEMPTS,
    "BackoffRate": 2.0,
    "MaxDelaySeconds": 3,
    "JitterStrategy": "FULL",
}
# The FULL jitter bounds RETRY gives: 1, then 1 x 2, then 1 x 4 capped at 3.
RETRY_JITTER_BOUNDS = [(0, 1), (0, 2), (0, 3)]
# Long enough for any test here; a blocked function is released at the end of its test anyway.
BLOCKED_SECONDS = 60
# The history events local/engine.py reads (_states_from_history).
ENGINE_EVENTS = ("TaskScheduled", "TaskFailed", "TaskTimedOut", "ExecutionFailed", "ExecutionTimedOut")

Run = Callable[..., Outcome]


class Transient(Exception):
    """Listed in the Retry of the definitions here."""


class Permanent(Exception):
    """Listed nowhere."""


class Described(Exception):
    """Listed in a Catch."""


class Scripted:
    """A Lambda function that raises the ``failures`` one per call, then
    answers ``result`` (or echoes its event); it keeps what it was called with."""

    def __init__(self, *failures: Exception, result: Any = None) -> None:
        self.failures = list(failures)
        self.result = result
        self.events: list[Any] = []
        self.request_ids: list[str] = []

    def __call__(self, event: Any, request_id: str) -> Any:
        self.events.append(event)
        self.request_ids.append(request_id)
        if self.failures:
            raise self.failures.pop(0)
        return event if self.result is None else self.result


def function_arn() -> str:
    """A function name of its own for each test: routes are per process."""
    return f"arn:aws:lambda:ap-southeast-1:123456789012:function:pinned-{uuid.uuid4().hex[:8]}"


def task(function: str, **fields: Any) -> dict[str, Any]:
    """A Task calling ``function`` as the project's do: optimised integration, the whole state as payload."""
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function, "Payload.$": "$"},
        **fields,
    }


def definition(start: str, states: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
    return {"QueryLanguage": "JSONPath", "StartAt": start, "States": dict(states), **fields}


def of_type(outcome: Outcome, kind: str) -> list[Mapping[str, Any]]:
    return [event for event in outcome.events if event["type"] == kind]


@pytest.fixture
def run() -> Iterator[Run]:
    """``run(definition, lambdas, execution_input)``: one execution of a new machine."""
    machines: list[StateMachine] = []

    def run_once(
        document: dict[str, Any], lambdas: Mapping[str, LambdaFunction], execution_input: Any = None
    ) -> Outcome:
        machine = StateMachine(parse(document), lambdas, arn=MACHINE_ARN)
        machines.append(machine)
        return machine.run({} if execution_input is None else execution_input)

    yield run_once
    for machine in machines:
        machine.close()


@pytest.fixture
def jitter_bounds(monkeypatch: pytest.MonkeyPatch) -> list[tuple[float, float]]:
    """The bounds of each FULL jitter draw; every draw is 0 so retries do not wait."""
    draws: list[tuple[float, float]] = []

    def draw(low: float, high: float) -> float:
        draws.append((low, high))
        return 0.0

    monkeypatch.setattr(random, "uniform", draw)
    return draws


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Holds a blocked Lambda function until the test ends."""
    released = threading.Event()
    yield released
    released.set()


def blocked(released: threading.Event) -> LambdaFunction:
    def wait(event: Any, request_id: str) -> Any:
        released.wait(BLOCKED_SECONDS)
        return event

    return wait


def test_given_a_retried_error_that_keeps_happening_then_it_runs_one_plus_max_attempts_times_with_capped_full_jitter(
    run: Run, jitter_bounds: list[tuple[float, float]]
) -> None:
    work = function_arn()
    always_cold = Scripted(*[Transient("cold")] * 10)

    outcome = run(
        definition("Work", {"Work": task(work, Retry=[{"ErrorEquals": ["Transient"], **RETRY}], End=True)}),
        {work: always_cold},
    )

    assert (outcome.status, outcome.error) == ("FAILED", "Transient")
    assert len(always_cold.events) == 1 + MAX_ATTEMPTS
    assert len(of_type(outcome, "TaskScheduled")) == 1 + MAX_ATTEMPTS
    # Backoff doubles from IntervalSeconds, is capped by MaxDelaySeconds, and each delay is drawn in [0, backoff].
    assert jitter_bounds == RETRY_JITTER_BOUNDS


def test_given_a_retried_error_once_then_the_next_attempt_s_answer_is_the_output(
    run: Run, jitter_bounds: list[tuple[float, float]]
) -> None:
    work = function_arn()
    cold_once = Scripted(Transient("cold"), result={"digit": 7})

    outcome = run(
        definition(
            "Work",
            {"Work": task(work, Retry=[{"ErrorEquals": ["Transient"], **RETRY}], OutputPath="$.Payload", End=True)},
        ),
        {work: cold_once},
    )

    assert (outcome.status, outcome.output) == ("SUCCEEDED", {"digit": 7})
    assert len(cold_once.events) == 2
    assert jitter_bounds == RETRY_JITTER_BOUNDS[:1]


def test_given_an_error_not_listed_in_retry_then_it_is_not_retried(
    run: Run, jitter_bounds: list[tuple[float, float]]
) -> None:
    work = function_arn()
    broken = Scripted(Permanent("bad request"), result={"never": "reached"})

    outcome = run(
        definition("Work", {"Work": task(work, Retry=[{"ErrorEquals": ["Transient"], **RETRY}], End=True)}),
        {work: broken},
    )

    assert (outcome.status, outcome.error) == ("FAILED", "Permanent")
    assert len(broken.events) == 1
    assert jitter_bounds == []


def test_given_one_machine_run_twice_then_each_execution_gets_all_its_attempts(
    jitter_bounds: list[tuple[float, float]],
) -> None:
    """The engine reuses a parsed definition: attempts must not be counted across executions."""
    work = function_arn()
    always_cold = Scripted(*[Transient("cold")] * 10)
    document = definition("Work", {"Work": task(work, Retry=[{"ErrorEquals": ["Transient"], **RETRY}], End=True)})

    with StateMachine(parse(document), {work: always_cold}, arn=MACHINE_ARN) as machine:
        first, second = machine.run({}), machine.run({})

    assert (first.error, second.error) == ("Transient", "Transient")
    assert len(always_cold.events) == 2 * (1 + MAX_ATTEMPTS)
    assert jitter_bounds == RETRY_JITTER_BOUNDS * 2


@pytest.mark.parametrize(
    ("error", "caught_by"),
    [(Described("for a person"), "Describe"), (Transient("cold"), "Describe"), (Permanent("crash"), "Internal")],
)
def test_given_a_catch_with_result_path_dollar_then_the_matching_catcher_gets_only_error_and_cause(
    run: Run, jitter_bounds: list[tuple[float, float]], error: Exception, caught_by: str
) -> None:
    """ErrorEquals matches by name, in order, after the retries are spent; ResultPath "$"
    replaces the (possibly large) state instead of adding to it."""
    work = function_arn()
    failing = Scripted(*[error] * 10)
    catch = [
        {"ErrorEquals": ["Described", "Transient"], "ResultPath": "$", "Next": "Describe"},
        {"ErrorEquals": ["States.ALL"], "Next": "Internal"},
    ]
    document = definition(
        "Work",
        {
            "Work": task(work, Retry=[{"ErrorEquals": ["Transient"], **RETRY}], Catch=catch, End=True),
            "Describe": {"Type": "Pass", "Result": "Describe", "ResultPath": "$.caughtBy", "End": True},
            "Internal": {"Type": "Pass", "Result": "Internal", "ResultPath": "$.caughtBy", "End": True},
        },
    )

    outcome = run(document, {work: failing}, {"image": "x" * 1000})

    assert outcome.status == "SUCCEEDED"
    assert set(outcome.output) == {"Error", "Cause", "caughtBy"}
    assert (outcome.output["Error"], outcome.output["caughtBy"]) == (type(error).__name__, caught_by)
    cause = json.loads(outcome.output["Cause"])
    assert (cause["errorType"], cause["errorMessage"]) == (type(error).__name__, str(error))
    assert len(failing.events) == (1 + MAX_ATTEMPTS if isinstance(error, Transient) else 1)


def test_given_a_result_selector_then_only_the_selected_payload_keys_are_passed_on(run: Run) -> None:
    work = function_arn()
    answering = Scripted(result={"tensor": [0.5], "thumbnail": "AAA", "image": "big"})
    selector = {"tensor.$": "$.Payload.tensor", "thumbnail.$": "$.Payload.thumbnail"}

    outcome = run(
        definition("Work", {"Work": task(work, ResultSelector=selector, End=True)}), {work: answering}, {"image": "big"}
    )

    assert outcome.output == {"tensor": [0.5], "thumbnail": "AAA"}
    # "Payload.$": "$" sends the whole state.
    assert answering.events == [{"image": "big"}]


def test_given_output_path_payload_then_the_output_is_the_function_s_answer(run: Run) -> None:
    work = function_arn()
    answering = Scripted(result={"id": "p1", "digit": 3})

    outcome = run(definition("Work", {"Work": task(work, OutputPath="$.Payload", End=True)}), {work: answering})

    assert outcome.output == {"id": "p1", "digit": 3}


def test_given_string_to_json_then_the_text_becomes_json(run: Run) -> None:
    parse_it = {"Type": "Pass", "Parameters": {"parsed.$": "States.StringToJson($.text)"}, "End": True}

    outcome = run(definition("Parse", {"Parse": parse_it}), {}, {"text": '{"errorMessage": "m", "n": [1, 2]}'})

    assert outcome.output == {"parsed": {"errorMessage": "m", "n": [1, 2]}}


def test_given_a_caught_function_error_then_string_to_json_and_fail_paths_give_its_name_and_message(run: Run) -> None:
    """The project's DescribeFailure -> Failed: the error's code, and the person's message out of the error JSON."""
    work = function_arn()
    document = definition(
        "Work",
        {
            "Work": task(work, Catch=[{"ErrorEquals": ["Described"], "ResultPath": "$", "Next": "Describe"}], End=True),
            "Describe": {
                "Type": "Pass",
                "Parameters": {"error.$": "$.Error", "details.$": "States.StringToJson($.Cause)"},
                "Next": "Failed",
            },
            "Failed": {"Type": "Fail", "ErrorPath": "$.error", "CausePath": "$.details.errorMessage"},
        },
    )

    outcome = run(document, {work: Scripted(Described("Draw the digit bigger."))})

    assert (outcome.status, outcome.error, outcome.cause) == ("FAILED", "Described", "Draw the digit bigger.")


def test_given_a_task_slower_than_its_timeout_then_it_fails_with_states_timeout_unretried_and_caught_by_states_all(
    run: Run, release: threading.Event
) -> None:
    work = function_arn()
    document = definition(
        "Work",
        {
            "Work": task(
                work,
                TimeoutSeconds=1,
                Retry=[{"ErrorEquals": ["Transient"], **RETRY}],
                Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Internal"}],
                End=True,
            ),
            "Internal": {"Type": "Fail", "Error": "InternalError", "Cause": "generic"},
        },
    )

    outcome = run(document, {work: blocked(release)})

    assert (outcome.status, outcome.error, outcome.cause) == ("FAILED", "InternalError", "generic")
    [timed_out] = of_type(outcome, "TaskTimedOut")
    assert timed_out["taskTimedOutEventDetails"]["error"] == "States.Timeout"
    assert len(of_type(outcome, "TaskScheduled")) == 1


def test_given_an_execution_longer_than_its_timeout_then_it_times_out(run: Run, release: threading.Event) -> None:
    work = function_arn()
    document = definition("Work", {"Work": task(work, TimeoutSeconds=30, End=True)}, TimeoutSeconds=1)

    outcome = run(document, {work: blocked(release)})

    assert (outcome.status, outcome.error, outcome.output) == ("TIMED_OUT", "States.Timeout", None)


def test_given_a_run_then_its_events_carry_what_the_engine_reads(
    run: Run, jitter_bounds: list[tuple[float, float]]
) -> None:
    work = function_arn()
    cold_once = Scripted(Transient("cold"), result={"digit": 7})
    document = definition(
        "Work",
        {
            "Work": task(work, Retry=[{"ErrorEquals": ["Transient"], **RETRY}], OutputPath="$.Payload", Next="Pass"),
            "Pass": {"Type": "Pass", "Next": "Failed"},
            "Failed": {"Type": "Fail", "Error": "Stop", "Cause": "here"},
        },
    )

    outcome = run(document, {work: cold_once}, {"n": 1})

    read = [
        e for e in outcome.events if e["type"] in ENGINE_EVENTS or e["type"].endswith(("StateEntered", "StateExited"))
    ]
    assert [event["type"] for event in read] == [
        "TaskStateEntered",
        "TaskScheduled",
        "TaskFailed",
        "TaskScheduled",
        "TaskStateExited",
        "PassStateEntered",
        "PassStateExited",
        "FailStateEntered",
        "ExecutionFailed",
    ]
    entered, _, failed, _, exited, *_, execution_failed = read
    assert entered["stateEnteredEventDetails"]["name"] == "Work"
    assert json.loads(entered["stateEnteredEventDetails"]["input"]) == {"n": 1}
    assert failed["taskFailedEventDetails"]["error"] == "Transient"
    cause = json.loads(failed["taskFailedEventDetails"]["cause"])
    assert (cause["errorMessage"], cause["requestId"]) == ("cold", cold_once.request_ids[0])
    assert json.loads(exited["stateExitedEventDetails"]["output"]) == {"digit": 7}
    details = execution_failed["executionFailedEventDetails"]
    assert (details["error"], details["cause"]) == ("Stop", "here")
    for event in outcome.events:
        assert datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).utcoffset() is not None


def test_given_a_function_nobody_routes_then_the_task_fails_with_lambdas_service_error(run: Run) -> None:
    """The project retries Lambda's service errors by these names (workflows.definition.LAMBDA_SERVICE_ERRORS)."""
    outcome = run(definition("Work", {"Work": task(function_arn(), End=True)}), {})

    assert (outcome.status, outcome.error) == ("FAILED", "Lambda.ResourceNotFoundException")


def test_given_a_function_routed_by_an_open_machine_then_another_machine_cannot_route_it() -> None:
    work = function_arn()
    document = parse(definition("Work", {"Work": task(work, OutputPath="$.Payload", End=True)}))
    first = StateMachine(document, {work: Scripted(result="first")}, arn=MACHINE_ARN)

    with pytest.raises(ValueError, match="already routed"):
        StateMachine(document, {work: Scripted(result="second")}, arn=MACHINE_ARN)
    first.close()
    with StateMachine(document, {work: Scripted(result="second")}, arn=MACHINE_ARN) as second:
        assert second.run({}).output == "second"
    assert first.run({}).error == "Lambda.ResourceNotFoundException"
