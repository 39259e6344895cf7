"""Executions from the workflow's log group, offline: a real CloudWatch Logs
client answered by botocore's ``Stubber`` (Logs Insights ``StartQuery``,
``GetQueryResults`` running then complete, ``StopQuery``), holding log events
in the shape Step Functions writes for Express workflows.

That shape, from the AWS Step Functions Developer Guide and API reference:
- "Using CloudWatch Logs to log execution history in Step Functions"
  (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html): Express
  workflows keep no history; their history events go to CloudWatch Logs, with
  ``inputDetails`` / ``outputDetails`` telling truncation;
- "Log levels" (https://docs.aws.amazon.com/step-functions/latest/dg/cloudwatch-log-level.html):
  ALL writes every event type; ERROR writes ExecutionFailed/Aborted/TimedOut,
  FailStateEntered, TaskFailed, TaskTimedOut, LambdaFunctionFailed ... and
  neither ExecutionStarted nor any state entered/exited;
- "Troubleshooting Express workflows" (awsdocs/aws-step-functions-developer-guide,
  doc_source/troubleshooting-express-workflows.md): Logs Insights queries over
  ``type``, ``execution_arn`` and ``event_timestamp`` (milliseconds);
- ``HistoryEvent`` (https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html):
  the event types and their details (``name``, ``input``, ``output``, ``error``,
  ``cause``; TaskScheduled's ``parameters``), which a log event carries as ``details``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from tests.support.aws_env import use_no_aws_credentials
from tests.tools.stack_files import write_stack
from tools.executions import (
    FailedAttempt,
    LogEvent,
    UsageError,
    describe,
    main,
    parse_log_event,
    parse_since,
)

REGION = "ap-southeast-1"
ACCOUNT = "123456789012"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
DEV_GROUP = "/aws/vendedlogs/states/digits-dev-workflow"
PROD_GROUP = "/aws/vendedlogs/states/digits-prod-workflow"
# A person's upload travels in the execution's input: it must never reach the terminal whole.
IMAGE = "iVBORw0KGgoAAAANSUhEUgAAABwAAAAc" + "A" * 5000
OK_NAME = "0b6f2c1e-8a52-4c1e-9f43-2f0d6d1f5a10"
FAILED_NAME = "7d1e9b4a-3c2f-4b8e-a1d5-6e0f9c8b7a21"
CORRUPT = "The image data is corrupt or truncated."
BUSY = "The model is busy, try again."


def execution_arn(stack: str, name: str) -> str:
    return (
        f"arn:aws:states:{REGION}:{ACCOUNT}:express:digits-{stack}-workflow:{name}:5e3c0d7a-1f2b-4c3d-8e9f-0a1b2c3d4e5f"
    )


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def lambda_error(error: str, message: str) -> str:
    """A Lambda's error JSON, as Step Functions puts it in a task failure's cause."""
    return json.dumps({"errorMessage": message, "errorType": error, "requestId": "4f1d", "stackTrace": ["  File ..."]})


class Execution:
    """Builds one execution's log events, numbered and timed as Step Functions writes them."""

    def __init__(self, arn: str, started: datetime, *, with_data: bool = True) -> None:
        self.arn, self.at, self.with_data = arn, ms(started), with_data
        self.events: list[dict[str, Any]] = []

    def add(self, kind: str, after_ms: int = 1, **details: Any) -> Execution:
        self.at += after_ms
        if not self.with_data:
            details = {key: value for key, value in details.items() if key not in ("input", "output", "parameters")}
        number = len(self.events) + 1
        self.events.append(
            {
                "id": str(number),
                "type": kind,
                "details": details,
                "previous_event_id": str(number - 1),
                "event_timestamp": str(self.at),
                "execution_arn": self.arn,
                "redrive_count": "0",
            }
        )
        return self

    def task(self, name: str, state_input: dict[str, Any], output: dict[str, Any], took_ms: int) -> Execution:
        data = json.dumps(state_input)
        self.add("TaskStateEntered", name=name, input=data, inputDetails={"truncated": False})
        self.add(
            "TaskScheduled",
            resourceType="lambda",
            resource="invoke",
            region=REGION,
            parameters=json.dumps({"FunctionName": name, "Payload": state_input}),
            timeoutInSeconds=4,
        )
        self.add("TaskStarted", resourceType="lambda", resource="invoke")
        self.add(
            "TaskSucceeded", took_ms, resourceType="lambda", resource="invoke", output=json.dumps({"Payload": output})
        )
        return self.add("TaskStateExited", name=name, output=json.dumps(output), outputDetails={"truncated": False})

    def keep(self, kinds: frozenset[str]) -> list[dict[str, Any]]:
        return [event for event in self.events if event["type"] in kinds]


# What a stack at level ERROR writes (the "Log levels" table).
ERROR_LEVEL = frozenset(
    {
        "ExecutionFailed",
        "ExecutionAborted",
        "ExecutionTimedOut",
        "FailStateEntered",
        "TaskFailed",
        "TaskTimedOut",
        "TaskStartFailed",
        "TaskSubmitFailed",
        "LambdaFunctionFailed",
    }
)


def succeeded_with_a_retry(stack: str = "dev") -> Execution:
    started = NOW - timedelta(minutes=2)
    request = {"requestId": "r-1", "request": {"image": IMAGE, "clientId": "c-1"}}
    validated = {"requestId": "r-1", "clientId": "c-1", "image": IMAGE}
    tensor = {"requestId": "r-1", "tensor": [[0.0] * 28 for _ in range(28)]}
    predicted = {"requestId": "r-1", "prediction": {"digit": 7, "confidence": 0.99}}
    item = {"id": "i-1", "clientId": "c-1", "digit": 7}
    run = Execution(execution_arn(stack, OK_NAME), started)
    run.add(
        "ExecutionStarted",
        0,
        input=json.dumps(request),
        inputDetails={"truncated": False},
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/state-machine",
    )
    run.task("Validate", request, validated, 18).task("Preprocess", validated, tensor, 52)
    run.add("TaskStateEntered", name="InvokeModel", input=json.dumps(tensor))
    run.add("TaskScheduled", resourceType="lambda", resource="invoke")  # attempt 1
    run.add("TaskStarted", resourceType="lambda", resource="invoke")
    run.add(
        "TaskFailed",
        119,
        resourceType="lambda",
        resource="invoke",
        error="ModelUnavailable",
        cause=lambda_error("ModelUnavailable", BUSY),
    )
    run.add("TaskScheduled", 700, resourceType="lambda", resource="invoke")  # attempt 2, after the backoff
    run.add("TaskStarted", resourceType="lambda", resource="invoke")
    run.add("TaskSucceeded", 50, resourceType="lambda", resource="invoke", output=json.dumps({"Payload": predicted}))
    run.add("TaskStateExited", name="InvokeModel", output=json.dumps(predicted))
    run.task("Persist", predicted, item, 20)
    return run.add("ExecutionSucceeded", output=json.dumps(item), outputDetails={"truncated": False})


def failed_on_a_corrupt_image(stack: str = "dev", *, with_data: bool = True) -> Execution:
    run = Execution(execution_arn(stack, FAILED_NAME), NOW - timedelta(minutes=1), with_data=with_data)
    request = {"requestId": "r-2", "request": {"image": "bm90IGFuIGltYWdl", "clientId": "c-2"}}
    run.add("ExecutionStarted", 0, input=json.dumps(request))
    run.add("TaskStateEntered", 3, name="Validate", input=json.dumps(request))
    run.add("TaskScheduled", resourceType="lambda", resource="invoke")
    run.add("TaskStarted", resourceType="lambda", resource="invoke")
    run.add(
        "TaskFailed",
        15,
        resourceType="lambda",
        resource="invoke",
        error="InvalidImage",
        cause=lambda_error("InvalidImage", CORRUPT),
    )
    run.add("TaskStateExited", name="Validate", output=json.dumps({**request, "failure": {"Error": "InvalidImage"}}))
    run.add("PassStateEntered", name="DescribeFailure")
    run.add("PassStateExited", name="DescribeFailure", output=json.dumps({"error": "InvalidImage"}))
    run.add("FailStateEntered", name="Failed", input=json.dumps({"error": "InvalidImage"}))
    return run.add("ExecutionFailed", error="InvalidImage", cause=CORRUPT)


def row(values: dict[str, str]) -> list[dict[str, str]]:
    """A Logs Insights result row: field/value pairs, @ptr among them."""
    return [{"field": field, "value": value} for field, value in values.items()] + [
        {"field": "@ptr", "value": "CmAKJwoj"}
    ]


def end_row(event: dict[str, Any]) -> list[dict[str, str]]:
    values = {
        "@timestamp": "2026-03-01 11:59:00.000",
        "execution_arn": event["execution_arn"],
        "type": event["type"],
        "event_timestamp": event["event_timestamp"],
    }
    for key in ("error", "cause"):
        if key in event["details"]:
            values[f"details.{key}"] = event["details"][key]
    return row(values)


def message_rows(events: list[dict[str, Any]]) -> list[list[dict[str, str]]]:
    return [row({"@timestamp": "2026-03-01 11:59:00.000", "@message": json.dumps(event)}) for event in events]


class FakeLogs:
    """A real CloudWatch Logs client whose answers are queued on a Stubber; records each query's text."""

    def __init__(self) -> None:
        self.client = boto3.client(
            "logs", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        self.stubber = Stubber(self.client)
        self.queries: list[str] = []
        self.regions: list[str] = []
        self.sleeps: list[float] = []
        self._ids = itertools.count(1)
        self.client.meta.events.register("provide-client-params.logs.StartQuery", self._record)

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.queries.append(params["queryString"])

    def for_region(self, region: str) -> Any:
        self.regions.append(region)
        return self.client

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def query(
        self,
        rows: list[list[dict[str, str]]],
        *,
        group: str = DEV_GROUP,
        since: timedelta = timedelta(hours=1),
        running: int = 1,
        completes: bool = True,
    ) -> str:
        query_id = f"query-{next(self._ids)}"
        self.stubber.add_response(
            "start_query",
            {"queryId": query_id},
            {
                "logGroupName": group,
                "startTime": int((NOW - since).timestamp()),
                "endTime": int(NOW.timestamp()),
                "queryString": ANY,
                "limit": ANY,
            },
        )
        for _ in range(running):
            self.stubber.add_response("get_query_results", {"status": "Running", "results": []}, {"queryId": query_id})
        if completes:
            self.stubber.add_response(
                "get_query_results",
                {
                    "status": "Complete",
                    "results": rows,
                    "statistics": {
                        "recordsMatched": float(len(rows)),
                        "recordsScanned": 1000.0,
                        "bytesScanned": 250000.0,
                    },
                },
                {"queryId": query_id},
            )
        return query_id


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """dev logs everything with its data; prod logs failures only, without data."""
    write_stack(tmp_path, "dev", {"stepFunctionsLogLevel": "ALL", "stepFunctionsIncludeExecutionData": "true"})
    write_stack(tmp_path, "prod", {"stepFunctionsLogLevel": "ERROR", "stepFunctionsIncludeExecutionData": "false"})
    return tmp_path


@pytest.fixture
def logs() -> Iterator[FakeLogs]:
    fake = FakeLogs()
    with fake.stubber:
        yield fake
        fake.stubber.assert_no_pending_responses()


def run(logs: FakeLogs, root: Path, *args: str) -> int:
    return main(
        list(args),
        logs_for=logs.for_region,
        root=root,
        now=lambda: NOW,
        clock=itertools.count().__next__,
        sleep=logs.sleep,
    )


def test_given_recent_executions_then_they_are_listed_newest_first_with_status_duration_and_error(
    logs: FakeLogs,
    root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ok, failed = succeeded_with_a_retry(), failed_on_a_corrupt_image()
    ok_end, failed_end = ok.events[-1], failed.events[-1]
    logs.query([end_row(failed_end), end_row(ok_end)])
    logs.query(
        [
            row({"execution_arn": e["execution_arn"], "event_timestamp": e["event_timestamp"]})
            for e in (ok.events[0], failed.events[0])
        ]
    )

    status = run(logs, root, "--stack", "dev")

    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert out[0] == (f"Executions of stack dev in the last 1h, newest first (log group {DEV_GROUP}, {REGION})")
    assert out[1].split() == ["STOPPED", "(UTC)", "STATUS", "DURATION", "NAME", "ERROR"]
    assert out[2].split() == [
        "2026-03-01",
        "11:59:00.025",
        "FAILED",
        "25",
        "ms",
        FAILED_NAME,
        "InvalidImage:",
        *CORRUPT.split(),
    ]
    assert out[3].split() == ["2026-03-01", "11:58:00.977", "SUCCEEDED", "977", "ms", OK_NAME]
    ends, starts = logs.queries
    assert 'filter type in ["ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"]' in ends
    assert "sort @timestamp desc" in ends and "limit 20" in ends
    assert 'filter type = "ExecutionStarted"' in starts
    assert all(f'"{arn}"' in starts for arn in (ok.arn, failed.arn))
    assert logs.regions == [REGION]
    assert logs.sleeps, "a running query is polled again"


def test_given_failed_then_only_failed_ends_are_queried(
    logs: FakeLogs, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    failed = failed_on_a_corrupt_image()
    logs.query([end_row(failed.events[-1])])
    logs.query([row({"execution_arn": failed.arn, "event_timestamp": failed.events[0]["event_timestamp"]})])

    status = run(logs, root, "--stack", "dev", "--failed", "--limit", "5")

    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith("Failed executions of stack dev in the last 1h")
    assert 'filter type in ["ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"]' in logs.queries[0]
    assert "limit 5" in logs.queries[0]
    assert FAILED_NAME in out


def test_given_since_then_the_query_covers_exactly_that_window(
    logs: FakeLogs, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.query([], since=timedelta(hours=1, minutes=30))

    status = run(logs, root, "--stack", "dev", "--since", "1h30m")

    assert status == 0
    assert capsys.readouterr().out.splitlines()[-1] == "No executions logged in the last 1h30m."


@pytest.mark.parametrize(
    "text, span",
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("1h30m", timedelta(minutes=90)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
    ],
)
def test_given_a_since_then_it_reads_as_a_span(text: str, span: timedelta) -> None:
    assert parse_since(text) == span


@pytest.mark.parametrize("text", ["", "1 hour", "h", "0m", "30m1h", "-5m"])
def test_given_a_bad_since_then_it_is_refused(text: str) -> None:
    with pytest.raises(UsageError, match="--since must"):
        parse_since(text)


def test_given_a_bad_since_on_the_command_line_then_usage_says_what_is_expected(
    root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(
            ["--stack", "dev", "--since", "yesterday"],
            logs_for=lambda region: pytest.fail("no query for bad input"),
            root=root,
        )

    assert exit_.value.code == 2
    assert "--since must look like 15m, 1h, 1h30m or 2d, got 'yesterday'" in capsys.readouterr().err


def test_given_an_execution_with_a_retry_then_its_states_fold_like_the_local_console() -> None:
    events = [event for event in map(parse_log_event, map(json.dumps, succeeded_with_a_retry().events)) if event]

    detail = describe(events[0].execution_arn, reversed(events))

    assert (detail.status, detail.duration_ms) == ("SUCCEEDED", 977)
    assert [(s.name, s.type, s.duration_ms, s.attempts) for s in detail.states] == [
        ("Validate", "Task", 21, 1),
        ("Preprocess", "Task", 55, 1),
        ("InvokeModel", "Task", 873, 2),
        ("Persist", "Task", 23, 1),
    ]
    invoke = detail.states[2]
    assert invoke.retries == [FailedAttempt(1, "ModelUnavailable", lambda_error("ModelUnavailable", BUSY), 120)]
    assert invoke.error is None and json.loads(invoke.output or "")["prediction"]["digit"] == 7


def test_given_an_execution_name_then_it_is_shown_state_by_state_with_data_shortened(
    logs: FakeLogs,
    root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.query(message_rows(succeeded_with_a_retry().events))

    status = run(logs, root, "--stack", "dev", OK_NAME)

    out = capsys.readouterr().out
    assert status == 0
    assert f"filter execution_arn like /:{OK_NAME}:/" in logs.queries[0]
    lines = out.splitlines()
    assert lines[0] == f"Execution {OK_NAME} of stack dev"
    assert "  status    SUCCEEDED" in lines and "  duration  977 ms" in lines
    states = [line.split()[:5] for line in lines if line[:4].strip().isdigit()]
    assert states == [
        ["1", "Validate", "Task", "+1", "ms"],
        ["2", "Preprocess", "Task", "+23", "ms"],
        ["3", "InvokeModel", "Task", "+79", "ms"],
        ["4", "Persist", "Task", "+953", "ms"],
    ]
    assert f"        retried: attempt 1 failed after 120 ms: ModelUnavailable: {BUSY}" in lines
    assert IMAGE not in out and IMAGE[:64] + "... (5,032 characters)" in out
    assert '"tensor": [[0.0, 0.0, 0.0, "... (28 items)"], [0.0, 0.0, 0.0, "... (28 items)"]' in out


def test_given_a_failed_execution_arn_then_the_failing_state_shows_its_error_and_cause(
    logs: FakeLogs,
    root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    failed = failed_on_a_corrupt_image()
    logs.query(message_rows(failed.events))

    status = run(logs, root, "--stack", "dev", failed.arn)

    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert f'filter execution_arn = "{failed.arn}"' in logs.queries[0]
    assert "  status    FAILED" in out and "  error     InvalidImage" in out and f"  cause     {CORRUPT}" in out
    states = {line.split()[1]: line for line in out if line[:4].strip().isdigit()}
    assert list(states) == ["Validate", "DescribeFailure", "Failed"]
    assert states["Validate"].endswith(f"InvalidImage: {CORRUPT}")
    assert states["DescribeFailure"].endswith("ok")
    assert states["Failed"].endswith(f"InvalidImage: {CORRUPT}")


def test_given_prod_without_execution_data_then_the_list_says_what_is_missing(
    logs: FakeLogs,
    root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    failed = failed_on_a_corrupt_image("prod", with_data=False)
    logs.query([end_row(failed.events[-1])], group=PROD_GROUP)  # no second query: ERROR writes no ExecutionStarted

    status = run(logs, root, "--stack", "prod")

    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert out[1] == (
        "Stack prod logs failures only (stepFunctionsLogLevel ERROR): succeeded executions, durations "
        "and state-by-state timelines are not in its logs."
    )
    assert (
        out[2] == "Stack prod logs no execution data (stepFunctionsIncludeExecutionData false): no inputs or outputs."
    )
    assert out[4].split()[2:5] == ["FAILED", "-", FAILED_NAME]


def test_given_prod_without_execution_data_then_one_execution_shows_the_events_there_are(
    logs: FakeLogs,
    root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    failed = failed_on_a_corrupt_image("prod", with_data=False)
    logs.query(message_rows(failed.keep(ERROR_LEVEL)), group=PROD_GROUP)

    status = run(logs, root, "--stack", "prod", FAILED_NAME)

    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert "  status    FAILED" in out and not any(line.startswith("  input") for line in out)
    logged = out[out.index("Logged events (3):") + 1 :]
    assert [line.split()[2] for line in logged] == ["TaskFailed", "FailStateEntered", "ExecutionFailed"]
    assert logged[0].endswith(f"InvalidImage: {CORRUPT}") and logged[1].endswith("Failed")


def test_given_json_then_the_list_is_the_console_s_shape(
    logs: FakeLogs, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    failed = failed_on_a_corrupt_image()
    logs.query([end_row(failed.events[-1])])
    logs.query([row({"execution_arn": failed.arn, "event_timestamp": failed.events[0]["event_timestamp"]})])

    status = run(logs, root, "--stack", "dev", "--json")

    assert status == 0
    assert json.loads(capsys.readouterr().out) == [
        {
            "executionArn": failed.arn,
            "name": FAILED_NAME,
            "status": "FAILED",
            "startDate": "2026-03-01T11:59:00.000Z",
            "stopDate": "2026-03-01T11:59:00.025Z",
            "durationMs": 25,
            "error": "InvalidImage",
            "cause": CORRUPT,
        }
    ]


def test_given_json_then_one_execution_keeps_images_out(
    logs: FakeLogs, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.query(message_rows(succeeded_with_a_retry().events))

    status = run(logs, root, "--stack", "dev", "--json", OK_NAME)

    out = capsys.readouterr().out
    assert status == 0 and IMAGE not in out
    detail = json.loads(out)
    assert [state["name"] for state in detail["states"]] == ["Validate", "Preprocess", "InvokeModel", "Persist"]
    assert detail["states"][2]["retries"][0]["error"] == "ModelUnavailable"


def test_given_a_query_that_does_not_finish_then_it_is_stopped_with_a_clear_message(
    logs: FakeLogs,
    root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The stand-in clock moves one second per reading: five readings after the start reach --timeout 5.
    query_id = logs.query([], running=5, completes=False)
    logs.stubber.add_response("stop_query", {"success": True}, {"queryId": query_id})

    status = run(logs, root, "--stack", "dev", "--timeout", "5")

    assert status == 1
    assert capsys.readouterr().err.strip() == (
        f"error: Logs Insights did not finish the query on {DEV_GROUP} within 5 s (status Running): "
        "try a shorter --since or a longer --timeout"
    )


def test_given_no_log_group_then_the_message_asks_whether_the_stack_is_deployed(
    logs: FakeLogs,
    root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.stubber.add_client_error(
        "start_query", "ResourceNotFoundException", "Log group does not exist", http_status_code=400
    )

    status = run(logs, root, "--stack", "dev")

    assert status == 1
    assert capsys.readouterr().err.strip() == (
        f"error: log group {DEV_GROUP} does not exist in {REGION}: is stack dev deployed (`pulumi up`) with these "
        "settings?"
    )


def test_given_an_unknown_execution_then_it_says_none_was_logged(
    logs: FakeLogs, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.query([])

    status = run(logs, root, "--stack", "dev", "no-such-execution")

    assert status == 1
    assert capsys.readouterr().err.startswith(
        f"No log events of execution no-such-execution in the last 1h ({DEV_GROUP})"
    )


def test_given_a_stack_that_logs_nothing_then_it_says_so_without_querying(
    root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_stack(root, "dev", {"stepFunctionsLogLevel": "OFF"})

    status = main(["--stack", "dev"], logs_for=lambda region: pytest.fail("nothing to query"), root=root)

    assert status == 1
    assert (
        capsys.readouterr().out.strip()
        == "Stack dev logs no workflow executions (stepFunctionsLogLevel OFF): nothing to read."
    )


def test_given_lines_that_are_not_history_events_then_they_are_skipped() -> None:
    assert parse_log_event("START RequestId: 4f1d") is None
    assert parse_log_event(json.dumps({"type": "TaskFailed"})) is None
    event = parse_log_event(json.dumps(failed_on_a_corrupt_image().events[-1]))
    assert isinstance(event, LogEvent) and (event.id, event.type, event.details["error"]) == (
        10,
        "ExecutionFailed",
        "InvalidImage",
    )


def test_given_no_credentials_then_it_says_how_to_log_in(
    root: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_no_aws_credentials(monkeypatch, tmp_path)

    status = main(["--stack", "dev"], root=root)  # the real client: it fails before any request

    assert status == 1
    assert capsys.readouterr().err.strip() == (
        "error: no AWS credentials found: run `aws sso login`, set AWS_PROFILE, or export "
        "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
    )


def test_given_the_most_executions_allowed_then_the_duration_query_fits_logs_insights(
    logs: FakeLogs,
    root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # StartQuery refuses a queryString over 10,000 characters (API reference); botocore does not check maxima.
    arns = [execution_arn("dev", f"{number:08d}-8a52-4c1e-9f43-2f0d6d1f5a10") for number in range(50)]
    stopped = ms(NOW - timedelta(minutes=5))
    logs.query(
        [
            end_row(
                {
                    "execution_arn": arn,
                    "type": "ExecutionSucceeded",
                    "event_timestamp": str(stopped - number),
                    "details": {},
                }
            )
            for number, arn in enumerate(arns)
        ]
    )
    logs.query([row({"execution_arn": arn, "event_timestamp": str(stopped - 500)}) for arn in arns])

    status = run(logs, root, "--stack", "dev", "--limit", "50")

    assert status == 0
    assert len(logs.queries[1]) <= 10_000 and all(arn in logs.queries[1] for arn in arns)
    assert len([line for line in capsys.readouterr().out.splitlines() if "SUCCEEDED" in line]) == 50
