"""The stack's workflow executions on AWS, read from its CloudWatch log group.

    python -m tools.executions --stack dev                   recent executions, newest first
    python -m tools.executions --stack prod --failed --since 6h
    python -m tools.executions --stack dev <execution ARN or name>   one execution, state by state

Express workflows keep no execution history: Step Functions writes each
execution's history events to the log group instead, one JSON event per line
(``id``, ``type``, ``details``, ``previous_event_id``, ``event_timestamp`` in
ms, ``execution_arn``), ``details`` holding what the history API's
``*EventDetails`` hold (``name``, ``input``, ``output``, ``error``, ``cause``).
Which events are written depends on the stack's ``stepFunctionsLogLevel``
(ALL: every event; ERROR: failures only, no ExecutionStarted, no state
entered/exited) and ``stepFunctionsIncludeExecutionData`` (inputs and
outputs). This command reads both from the stack file and says what it
cannot show. It queries with Logs Insights, bounded in time (``--timeout``).

One execution is folded into states the way the local console shows them
(``local/engine.py``): each state with its input, output, duration, the
attempts that failed and were retried, and its error and cause.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from components.settings import SettingsError, StackSettings
from tools.aws_errors import NO_CREDENTIALS, error_code, error_message
from tools.insights import DEFAULT_TIMEOUT_SECONDS, QueryFailed, QueryTimeout, run_query
from tools.stacks import ROOT, StackFileError, stack_settings, workflow_log_group

EXECUTION_STARTED = "ExecutionStarted"
STATUS_OF_END: dict[str, str] = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionAborted": "ABORTED",
    "ExecutionTimedOut": "TIMED_OUT",
}
FAILED_ENDS = tuple(kind for kind, status in STATUS_OF_END.items() if status != "SUCCEEDED")
# An attempt of a task state begins with one of these (the optimised Lambda
# integration writes Task*, a plain Lambda ARN LambdaFunction*)...
ATTEMPT_STARTS = frozenset({"TaskScheduled", "LambdaFunctionScheduled"})
# ... and fails with one of these; a following attempt start means it was retried.
ATTEMPT_FAILURES = frozenset(
    {
        "TaskFailed",
        "TaskTimedOut",
        "TaskStartFailed",
        "TaskSubmitFailed",
        "LambdaFunctionFailed",
        "LambdaFunctionTimedOut",
        "LambdaFunctionStartFailed",
        "LambdaFunctionScheduleFailed",
    }
)
DEFAULT_SINCE = "1h"
DEFAULT_LIMIT = 20
# This many ARNs (~150 characters each) in one query's `in [...]` stay below the 10,000 characters StartQuery accepts.
MAX_LIMIT = 50
# Logs Insights returns at most this many rows; one execution writes a few dozen events.
MAX_EVENTS = 10_000
# As the local console shortens long strings (site/js/console.js): the raw image is ~240 KB of base64.
LONG_STRING, KEEP_CHARS = 160, 64
LONG_LIST, KEEP_ITEMS = 12, 3
# The details that carry execution data (JSON text).
DATA_DETAILS = frozenset({"input", "output", "parameters"})
EXECUTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
EXECUTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:(express|execution):[A-Za-z0-9_-]+:[A-Za-z0-9_:-]+$"
)
SINCE = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class UsageError(ValueError):
    """A bad argument; the message says what is expected."""


def parse_since(text: str) -> timedelta:
    """``90s``, ``15m``, ``1h``, ``2d``, ``1w`` or a combination such as ``1h30m``."""
    match = SINCE.match(text.strip())
    if match is None or not any(match.groups()):
        raise UsageError(f"--since must look like 15m, 1h, 1h30m or 2d, got {text!r}")
    weeks, days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
    span = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    if span <= timedelta(0):
        raise UsageError(f"--since must be longer than nothing, got {text!r}")
    return span


@dataclass(frozen=True)
class LogEvent:
    """One Step Functions history event as the workflow's log group holds it."""

    id: int
    type: str
    timestamp_ms: int
    execution_arn: str
    details: dict[str, Any]


def parse_log_event(message: str) -> LogEvent | None:
    """The event in a log line, None if the line is not one."""
    try:
        data = json.loads(message)
        return LogEvent(
            id=int(data["id"]),
            type=str(data["type"]),
            timestamp_ms=int(data["event_timestamp"]),
            execution_arn=str(data["execution_arn"]),
            details=data.get("details") if isinstance(data.get("details"), dict) else {},
        )
    except (ValueError, TypeError, KeyError):
        return None


@dataclass
class ExecutionSummary:
    execution_arn: str
    status: str
    stopped_ms: int
    error: str | None = None
    cause: str | None = None
    started_ms: int | None = None

    @property
    def name(self) -> str:
        return execution_name(self.execution_arn)

    @property
    def duration_ms(self) -> int | None:
        return None if self.started_ms is None else self.stopped_ms - self.started_ms

    def to_json(self) -> dict[str, Any]:
        return {
            "executionArn": self.execution_arn,
            "name": self.name,
            "status": self.status,
            "startDate": _iso(self.started_ms),
            "stopDate": _iso(self.stopped_ms),
            "durationMs": self.duration_ms,
            "error": self.error,
            "cause": self.cause,
        }


@dataclass
class FailedAttempt:
    attempt: int
    error: str | None
    cause: str | None
    duration_ms: int | None


@dataclass
class StateVisit:
    """One state entered, with what the log says of it; input and output are raw JSON text, None when not logged."""

    name: str
    type: str
    entered_ms: int
    input: str | None
    duration_ms: int | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    attempts: int = 0
    retries: list[FailedAttempt] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "enteredAt": _iso(self.entered_ms),
            "durationMs": self.duration_ms,
            "input": _data(self.input),
            "output": _data(self.output),
            "error": self.error,
            "cause": self.cause,
            "attempts": self.attempts,
            "retries": [
                {"attempt": r.attempt, "error": r.error, "cause": r.cause, "durationMs": r.duration_ms}
                for r in self.retries
            ],
        }


@dataclass
class ExecutionDetail:
    execution_arn: str
    events: list[LogEvent]
    status: str | None = None
    started_ms: int | None = None
    stopped_ms: int | None = None
    input: str | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    states: list[StateVisit] = field(default_factory=list)

    @property
    def name(self) -> str:
        return execution_name(self.execution_arn)

    @property
    def duration_ms(self) -> int | None:
        return None if self.started_ms is None or self.stopped_ms is None else self.stopped_ms - self.started_ms

    def to_json(self) -> dict[str, Any]:
        return {
            "executionArn": self.execution_arn,
            "name": self.name,
            "status": self.status,
            "startDate": _iso(self.started_ms),
            "stopDate": _iso(self.stopped_ms),
            "durationMs": self.duration_ms,
            "error": self.error,
            "cause": self.cause,
            "input": _data(self.input),
            "output": _data(self.output),
            "states": [state.to_json() for state in self.states],
            "events": [
                {"id": e.id, "type": e.type, "timestamp": _iso(e.timestamp_ms), **_logged_details(e.details)}
                for e in self.events
            ],
        }


def _logged_details(details: dict[str, Any]) -> dict[str, Any]:
    """An event's details for output: data (a task's parameters are its whole input) shortened, errors whole."""
    return {
        key: _data(_text(value)) if key in DATA_DETAILS else value if key in ("error", "cause") else _shortened(value)
        for key, value in details.items()
    }


def execution_name(execution_arn: str) -> str:
    """``arn:aws:states:<region>:<account>:express:<state machine>:<name>:<id>`` -> ``<name>``."""
    parts = execution_arn.split(":")
    return parts[7] if len(parts) > 7 else execution_arn


def describe(execution_arn: str, events: Iterable[LogEvent]) -> ExecutionDetail:
    """One execution's logged events folded into its outcome and its states."""
    ordered = sorted(events, key=lambda event: event.id)
    detail = ExecutionDetail(execution_arn, ordered)
    current: StateVisit | None = None
    attempt_started: int | None = None
    failed_attempt: FailedAttempt | None = None
    for event in ordered:
        kind, at, details = event.type, event.timestamp_ms, event.details
        if kind == EXECUTION_STARTED:
            detail.started_ms, detail.input = at, _text(details.get("input"))
        elif kind in STATUS_OF_END:
            detail.status, detail.stopped_ms = STATUS_OF_END[kind], at
            detail.output = _text(details.get("output"))
            detail.error, detail.cause = _text(details.get("error")), _text(details.get("cause"))
        if kind.endswith("StateEntered"):
            current = StateVisit(
                str(details.get("name", "?")), kind.removesuffix("StateEntered"), at, _text(details.get("input"))
            )
            detail.states.append(current)
            attempt_started = failed_attempt = None
        elif current is None:
            continue
        elif kind in ATTEMPT_STARTS:
            if failed_attempt is not None:
                # The failed attempt is being retried: it is no longer the state's outcome.
                current.retries.append(failed_attempt)
                current.error = current.cause = failed_attempt = None
            current.attempts += 1
            attempt_started = at
        elif kind in ATTEMPT_FAILURES:
            current.error, current.cause = _text(details.get("error")), _text(details.get("cause"))
            failed_attempt = FailedAttempt(
                current.attempts,
                current.error,
                current.cause,
                None if attempt_started is None else at - attempt_started,
            )
        elif kind.endswith("StateExited"):
            current.output, current.duration_ms = _text(details.get("output")), at - current.entered_ms
        elif kind in STATUS_OF_END and current.duration_ms is None:
            if current.type == "Fail":
                current.error, current.cause = detail.error, detail.cause
            current.duration_ms = at - current.entered_ms
    return detail


@dataclass(frozen=True)
class LogWindow:
    """The workflow's log group over ``[start, end]``, queried within a time bound."""

    logs: Any
    log_group: str
    start: datetime
    end: datetime
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def query(self, text: str, limit: int) -> list[dict[str, str]]:
        return run_query(
            self.logs,
            self.log_group,
            text,
            self.start,
            self.end,
            limit=limit,
            timeout_seconds=self.timeout_seconds,
            clock=self.clock,
            sleep=self.sleep,
        )


def _strings(values: Iterable[str]) -> str:
    """A Logs Insights list of string literals (JSON's quoting is the same for these names)."""
    return "[" + ", ".join(json.dumps(value) for value in values) + "]"


def list_executions(
    window: LogWindow, settings: StackSettings, *, failed_only: bool, limit: int
) -> list[ExecutionSummary]:
    """The newest ended executions (failed ones only if asked), newest first, with their duration when it is logged."""
    ends = FAILED_ENDS if failed_only else tuple(STATUS_OF_END)
    rows = window.query(
        "fields @timestamp, execution_arn, type, event_timestamp, details.error, details.cause"
        f" | filter type in {_strings(ends)}"
        " | sort @timestamp desc"
        f" | limit {limit}",
        limit,
    )
    summaries: dict[str, ExecutionSummary] = {}
    for row in rows:
        arn = row.get("execution_arn")
        if arn and arn not in summaries and row.get("type") in STATUS_OF_END and "event_timestamp" in row:
            summaries[arn] = ExecutionSummary(
                arn,
                STATUS_OF_END[row["type"]],
                int(row["event_timestamp"]),
                row.get("details.error"),
                row.get("details.cause"),
            )
    # Only level ALL writes ExecutionStarted, hence durations (Log levels table, Step Functions developer guide).
    if summaries and settings.step_functions_log_level == "ALL":
        starts = window.query(
            "fields execution_arn, event_timestamp"
            f' | filter type = "{EXECUTION_STARTED}" and execution_arn in {_strings(summaries)}'
            f" | limit {len(summaries)}",
            len(summaries),
        )
        for row in starts:
            summary = summaries.get(row.get("execution_arn", ""))
            if summary is not None and "event_timestamp" in row:
                summary.started_ms = int(row["event_timestamp"])
    return sorted(summaries.values(), key=lambda summary: summary.stopped_ms, reverse=True)


def find_execution(window: LogWindow, execution: str) -> dict[str, list[LogEvent]]:
    """Every logged event of the execution with this ARN or name, by execution ARN."""
    if EXECUTION_ARN.match(execution):
        condition = f"execution_arn = {json.dumps(execution)}"
    elif EXECUTION_NAME.match(execution):
        condition = f"execution_arn like /:{execution}:/"
    else:
        raise UsageError(f"expected an execution ARN or name (letters, digits, - and _), got {execution!r}")
    rows = window.query(
        f"fields @timestamp, @message | filter {condition} | sort @timestamp asc | limit {MAX_EVENTS}", MAX_EVENTS
    )
    found: dict[str, list[LogEvent]] = {}
    for row in rows:
        event = parse_log_event(row.get("@message", ""))
        if event is not None:
            found.setdefault(event.execution_arn, []).append(event)
    return found


def logging_notes(settings: StackSettings) -> list[str]:
    """What the stack's logging leaves out, for a person reading the output."""
    notes = []
    level = settings.step_functions_log_level
    if level != "ALL":
        notes.append(
            f"Stack {settings.stack} logs failures only (stepFunctionsLogLevel {level}): succeeded executions, "
            "durations and state-by-state timelines are not in its logs."
        )
    if not settings.step_functions_include_execution_data:
        notes.append(
            f"Stack {settings.stack} logs no execution data (stepFunctionsIncludeExecutionData false): "
            "no inputs or outputs."
        )
    return notes


# ---------- text ----------


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _when(ms: int | None) -> str:
    text = _iso(ms)
    return "-" if text is None else text.replace("T", " ").removesuffix("Z")


def _duration(ms: int | None) -> str:
    if ms is None:
        return "-"
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


def _text(value: Any) -> str | None:
    return None if value is None else value if isinstance(value, str) else json.dumps(value)


def _shortened(data: Any) -> Any:
    if isinstance(data, str) and len(data) > LONG_STRING:
        return f"{data[:KEEP_CHARS]}... ({len(data):,} characters)"
    if isinstance(data, list):
        kept = [_shortened(each) for each in data[: KEEP_ITEMS if len(data) > LONG_LIST else len(data)]]
        return kept + [f"... ({len(data)} items)"] if len(data) > LONG_LIST else kept
    if isinstance(data, dict):
        return {key: _shortened(value) for key, value in data.items()}
    return data


def _data(raw: str | None) -> Any:
    """Logged JSON text as data, long strings and lists shortened (people's images stay out of terminals)."""
    if raw is None:
        return None
    try:
        return _shortened(json.loads(raw))
    except ValueError:
        return _shortened(raw)


def _compact(raw: str) -> str:
    return json.dumps(_data(raw), ensure_ascii=False, separators=(", ", ": "))


def cause_message(cause: str | None) -> str:
    """A Lambda's cause is its error JSON: its ``errorMessage`` is what a person reads."""
    if not cause:
        return ""
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause
    return str(parsed["errorMessage"]) if isinstance(parsed, dict) and "errorMessage" in parsed else cause


def _failure(error: str | None, cause: str | None) -> str:
    message = cause_message(cause)
    return f"{error}: {message}" if error and message else error or message


def render_list(summaries: Sequence[ExecutionSummary], settings: StackSettings, since: str, failed_only: bool) -> str:
    what = "Failed executions" if failed_only else "Executions"
    lines = [
        f"{what} of stack {settings.stack} in the last {since}, newest first "
        f"(log group {workflow_log_group(settings)}, {settings.region})",
        *logging_notes(settings),
    ]
    if not summaries:
        lines.append(f"No {'failed ' if failed_only else ''}executions logged in the last {since}.")
        return "\n".join(lines)
    lines.append(f"{'STOPPED (UTC)':<23}  {'STATUS':<9}  {'DURATION':>9}  {'NAME':<36}  ERROR")
    for summary in summaries:
        lines.append(
            f"{_when(summary.stopped_ms):<23}  {summary.status:<9}  {_duration(summary.duration_ms):>9}  "
            f"{summary.name:<36}  {_failure(summary.error, summary.cause)}".rstrip()
        )
    lines.append(f"One of them in detail: python -m tools.executions --stack {settings.stack} <NAME>")
    return "\n".join(lines)


def render_detail(detail: ExecutionDetail, settings: StackSettings) -> str:
    facts = [
        ("ARN", detail.execution_arn),
        ("status", detail.status or "- (no end event logged)"),
        ("started", f"{_when(detail.started_ms)} UTC" if detail.started_ms else None),
        ("stopped", f"{_when(detail.stopped_ms)} UTC" if detail.stopped_ms else None),
        ("duration", _duration(detail.duration_ms) if detail.duration_ms is not None else None),
        ("error", detail.error),
        ("cause", cause_message(detail.cause) or None),
        ("input", _compact(detail.input) if detail.input is not None else None),
        ("output", _compact(detail.output) if detail.output is not None else None),
    ]
    lines = [f"Execution {detail.name} of stack {settings.stack}", *logging_notes(settings)]
    lines += [f"  {label:<9} {value}" for label, value in facts if value is not None]
    if settings.step_functions_log_level == "ALL":
        lines += _timeline(detail)
    else:
        lines.append(f"Logged events ({len(detail.events)}):")
        for event in detail.events:
            said = _failure(_text(event.details.get("error")), _text(event.details.get("cause"))) or event.details.get(
                "name", ""
            )
            lines.append(f"  {_when(event.timestamp_ms)}  {event.type:<26} {said}".rstrip())
    return "\n".join(lines)


def _timeline(detail: ExecutionDetail) -> list[str]:
    if not detail.states:
        return ["States: none logged."]
    origin = detail.started_ms if detail.started_ms is not None else detail.states[0].entered_ms
    lines = [f"States ({len(detail.states)}):"]
    for number, state in enumerate(detail.states, start=1):
        outcome = _failure(state.error, state.cause) if state.error else "ok" if state.duration_ms is not None else "-"
        lines.append(
            f"  {number:>2}  {state.name:<18} {state.type:<6} +{_duration(state.entered_ms - origin):<9} "
            f"{_duration(state.duration_ms):>9}  {outcome}"
        )
        for retry in state.retries:
            lines.append(
                f"        retried: attempt {retry.attempt} failed after {_duration(retry.duration_ms)}: "
                f"{_failure(retry.error, retry.cause)}"
            )
        if state.input is not None:
            lines.append(f"        input   {_compact(state.input)}")
        if state.output is not None:
            lines.append(f"        output  {_compact(state.output)}")
    return lines


# ---------- command ----------


def logs_client(region: str) -> Any:
    return boto3.client(
        "logs",
        region_name=region,
        config=Config(
            connect_timeout=5,
            read_timeout=15,
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.executions",
        description="Recent executions of the stack's workflow on AWS, or one of them state by state, from its logs.",
    )
    parser.add_argument("--stack", required=True, help="the stack (a Pulumi.<stack>.yaml here)")
    parser.add_argument("--failed", action="store_true", help="only executions that failed, timed out or were aborted")
    parser.add_argument("--since", default=DEFAULT_SINCE, help="how far back to look: 15m, 1h (default), 1h30m, 2d")
    parser.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, help=f"executions to list (1-{MAX_LIMIT}, default {DEFAULT_LIMIT})"
    )
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS, help="seconds to wait for each Logs Insights query"
    )
    parser.add_argument("--json", action="store_true", help="JSON instead of text")
    parser.add_argument("execution", nargs="?", help="an execution ARN or name: show it state by state")
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    logs_for: Callable[[str], Any] = logs_client,
    root: Path = ROOT,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        since = parse_since(args.since)
        if not 1 <= args.limit <= MAX_LIMIT:
            raise UsageError(f"--limit must be between 1 and {MAX_LIMIT}, got {args.limit}")
        if args.timeout <= 0:
            raise UsageError(f"--timeout must be a positive number of seconds, got {args.timeout:g}")
    except UsageError as error:
        parser.error(str(error))
    try:
        settings = stack_settings(args.stack, root)
    except (StackFileError, SettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if settings.step_functions_log_level == "OFF":
        print(f"Stack {settings.stack} logs no workflow executions (stepFunctionsLogLevel OFF): nothing to read.")
        return 1
    end = now()
    window = LogWindow(
        logs_for(settings.region), workflow_log_group(settings), end - since, end, args.timeout, clock, sleep
    )
    try:
        if args.execution is None:
            summaries = list_executions(window, settings, failed_only=args.failed, limit=args.limit)
            print(
                json.dumps([s.to_json() for s in summaries], indent=2)
                if args.json
                else render_list(summaries, settings, args.since, args.failed)
            )
            return 0
        return _show_one(window, settings, args.execution, args.since, args.json)
    except UsageError as error:
        parser.error(str(error))
    except (QueryTimeout, QueryFailed) as error:
        print(f"error: {error}", file=sys.stderr)
    except ClientError as error:
        print(f"error: {_client_error(error, window, settings)}", file=sys.stderr)
    except NoCredentialsError:
        print(f"error: {NO_CREDENTIALS}", file=sys.stderr)
    except BotoCoreError as error:
        print(
            f"error: cannot reach CloudWatch Logs in {settings.region} ({error}): check the AWS credentials "
            "(`make preflight STACK=...`) and the network",
            file=sys.stderr,
        )
    return 1


def _show_one(window: LogWindow, settings: StackSettings, execution: str, since: str, as_json: bool) -> int:
    found = find_execution(window, execution)
    if not found:
        print(
            f"No log events of execution {execution} in the last {since} ({window.log_group}): "
            "try a longer --since, or check the name.",
            file=sys.stderr,
        )
        return 1
    if len(found) > 1:
        print(f"{len(found)} executions are named {execution}; pass one ARN:", file=sys.stderr)
        for arn in found:
            print(f"  {arn}", file=sys.stderr)
        return 1
    ((arn, events),) = found.items()
    detail = describe(arn, events)
    print(json.dumps(detail.to_json(), indent=2, ensure_ascii=False) if as_json else render_detail(detail, settings))
    return 0


def _client_error(error: ClientError, window: LogWindow, settings: StackSettings) -> str:
    code, message = error_code(error), error_message(error)
    if code == "ResourceNotFoundException":
        return (
            f"log group {window.log_group} does not exist in {settings.region}: "
            f"is stack {settings.stack} deployed (`pulumi up`) with these settings?"
        )
    if code in ("AccessDeniedException", "UnrecognizedClientException", "ExpiredTokenException"):
        return (
            f"CloudWatch Logs refused the query ({code}: {message}): "
            "check the AWS credentials (`make preflight STACK=...`)"
        )
    return f"CloudWatch Logs answered {code}: {message}"


if __name__ == "__main__":
    sys.exit(main())
