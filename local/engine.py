"""The workflow on one machine: the deployed state machine definition, run by
an Amazon States Language interpreter (``local.asl_interpreter``, moto's), with
the Lambda tasks called in process.

Nothing of the workflow is re-implemented here: ``workflows.build_definition``
gives the same document Pulumi deploys, and the interpreter evaluates it:
paths, ResultSelector, Retry with backoff and jitter, Catch, timeouts,
intrinsic functions. Only the edge of AWS is replaced: each task's Lambda is
its handler, called in process with Lambda's JSON round trip and its error
shape, so Retry and Catch see what they see on AWS::

    from functions.handlers import validate, preprocess, invoke_model, persist
    engine = LocalEngine({
        "validate": validate.handler, "preprocess": preprocess.handler,
        "invoke_model": invoke_model.handler, "persist": persist.handler,
    })
    result = engine.start_sync_execution(json.dumps({"requestId": "r1", "request": body}))
    result["status"]  # SUCCEEDED | FAILED | TIMED_OUT; "output" is a JSON string
    engine.list_executions(20)          # newest first, summaries
    engine.describe_execution(arn)      # one execution, state by state

Responses follow Step Functions' ``StartSyncExecution`` (dates as ISO 8601
strings). The last ``history_size`` executions are kept for inspection, each
state with its input, output, duration, error, retried attempts and the size
in bytes of its input and output (Step Functions' 256 KB limit applies to
both). Strings longer than ``MAX_RECORDED_CHARS`` are shortened in these
records (the raw image would otherwise be kept several times per execution);
the sizes are measured before that. Keeping the record is bookkeeping: whatever
the data, it never fails an execution or changes its answer (a record that
cannot be made keeps the execution's summary without its states).

The definition is parsed when the engine is made (again only while executions
overlap, see ``local.asl_interpreter``). All public methods are thread-safe.
"""

from __future__ import annotations

import collections
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from functions.core.errors import NotFound
from local.asl_interpreter import LambdaFunction, Outcome, StateMachine, iso8601, parse
from workflows.definition import TASK_TIMEOUT_SECONDS, TASKS, build_definition

Handler = Callable[[Any, Any], Any]

DEFAULT_REGION = "ap-southeast-1"
DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_STATE_MACHINE_NAME = "digits-local"
DEFAULT_HISTORY_SIZE = 200
MAX_RECORDED_CHARS = 4096
# Step Functions' limit on the data of one state (input or output).
STATE_DATA_LIMIT_BYTES = 256 * 1024

_log = logging.getLogger("local.engine")


class InvalidExecutionInput(ValueError):
    """The execution input is not JSON (Step Functions' InvalidExecutionInput)."""


@dataclass(frozen=True)
class LambdaContext:
    """The parts of Lambda's context object that handlers may read."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    log_group_name: str = "local"
    log_stream_name: str = "local"
    # The function's timeout, counted from the invocation as Lambda does.
    timeout_seconds: float = 30.0
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.started + self.timeout_seconds - time.monotonic()) * 1000))


def _lambda_function(arn: str, handler: Handler, timeout_seconds: float) -> LambdaFunction:
    """``handler`` as the interpreter calls a Lambda function: with a context of its own per invocation."""
    name = arn.rsplit(":", 1)[-1]

    def invoke(event: Any, request_id: str) -> Any:
        return handler(event, LambdaContext(name, arn, request_id, timeout_seconds=timeout_seconds))

    return invoke


class LocalEngine:
    def __init__(
        self,
        handlers: Mapping[str, Handler],
        *,
        region: str = DEFAULT_REGION,
        account_id: str = DEFAULT_ACCOUNT_ID,
        state_machine_name: str = DEFAULT_STATE_MACHINE_NAME,
        history_size: int = DEFAULT_HISTORY_SIZE,
    ) -> None:
        """``handlers``: a Lambda handler for each of ``workflows.definition.TASKS``."""
        missing = [task for task in TASKS if task not in handlers]
        if missing:
            raise ValueError(f"handlers missing for: {', '.join(missing)}")
        self.state_machine_arn = f"arn:aws:states:{region}:{account_id}:stateMachine:{state_machine_name}"
        # Function names unique to this engine: several engines may live in one process.
        prefix = f"arn:aws:lambda:{region}:{account_id}:function:{state_machine_name}-{uuid.uuid4().hex[:8]}"
        function_arns = {task: f"{prefix}-{task}" for task in TASKS}
        self.definition = build_definition(function_arns)
        # Each function times out with its task, as the deployed ones do.
        lambdas = {
            arn: _lambda_function(arn, handlers[task], TASK_TIMEOUT_SECONDS[task])
            for task, arn in function_arns.items()
        }
        self._machine = StateMachine(parse(self.definition), lambdas, arn=self.state_machine_arn)
        self._records: collections.OrderedDict[str, dict[str, Any]] = collections.OrderedDict()
        self._history_size = history_size
        self._records_lock = threading.Lock()

    def start_sync_execution(self, input: str, name: str | None = None) -> dict[str, Any]:  # noqa: A002 - the API's name
        try:
            execution_input = json.loads(input)
        except (TypeError, ValueError):
            raise InvalidExecutionInput("The execution input must be JSON.") from None
        outcome = self._machine.run(execution_input, name)
        response = _response(outcome, self.state_machine_arn, input)
        self._record(response, outcome)
        return response

    def list_executions(self, limit: int = 20) -> list[dict[str, Any]]:
        """The most recent executions, newest first, without their states."""
        with self._records_lock:
            newest = list(reversed(self._records.values()))[: max(0, limit)]
        return [
            {key: value for key, value in record.items() if key not in ("states", "input", "output")}
            for record in newest
        ]

    def describe_execution(self, arn: str) -> dict[str, Any]:
        """One recorded execution, by ARN or name, state by state; ``NotFound`` if unknown."""
        with self._records_lock:
            record = self._records.get(arn) or next((r for r in self._records.values() if r["name"] == arn), None)
        if record is None:
            raise NotFound("No such execution: it is unknown or no longer kept.")
        return record

    def close(self) -> None:
        """Stops routing this engine's function ARNs."""
        self._machine.close()

    def _record(self, response: dict[str, Any], outcome: Outcome) -> None:
        record = {
            "executionArn": response["executionArn"],
            "name": response["name"],
            "status": response["status"],
            "startDate": response["startDate"],
            "stopDate": response["stopDate"],
            "durationMs": response["durationMs"],
            "error": _shortened(response.get("error")),
            "cause": _shortened(response.get("cause")),
        }
        try:
            states = _states_from_history(outcome.events)
            record.update(
                maxStateBytes=max((max(s["inputBytes"], s["outputBytes"] or 0) for s in states), default=0),
                input=_shortened(json.loads(response["input"])),
                output=_shortened(json.loads(response["output"])) if "output" in response else None,
                states=states,
            )
        except Exception:  # noqa: BLE001 - the execution has its answer already; only its record is lost
            _log.exception("execution %s: its states could not be recorded", response["executionArn"])
            record.update(maxStateBytes=None, input=None, output=None, states=[])
        with self._records_lock:
            self._records[record["executionArn"]] = record
            while len(self._records) > self._history_size:
                self._records.popitem(last=False)


def _response(outcome: Outcome, state_machine_arn: str, input: str) -> dict[str, Any]:  # noqa: A002 - the API's name
    response: dict[str, Any] = {
        "executionArn": outcome.execution_arn,
        "stateMachineArn": state_machine_arn,
        "name": outcome.name,
        "startDate": iso8601(outcome.started),
        "stopDate": iso8601(outcome.stopped),
        "durationMs": round((outcome.stopped - outcome.started).total_seconds() * 1000, 3),
        "input": input,
        "inputDetails": {"included": True},
        "status": outcome.status,
    }
    if outcome.status == "SUCCEEDED":
        response["output"] = json.dumps(outcome.output, separators=(",", ":"))
        response["outputDetails"] = {"included": True}
    else:
        response.update(error=outcome.error, cause=outcome.cause)
    return response


def _states_from_history(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Step Functions' execution history folded into one record per state visited."""
    states: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    attempt_started: datetime | None = None
    failed_attempt: dict[str, Any] | None = None
    for event in events:
        kind, at = event["type"], _parse_iso(event["timestamp"])
        if kind.endswith("StateEntered"):
            details = event["stateEnteredEventDetails"]
            data = json.loads(details.get("input") or "null")
            current = {
                "name": details["name"],
                "type": kind.removesuffix("StateEntered"),
                "enteredAt": event["timestamp"],
                "durationMs": None,
                "input": _shortened(data),
                "inputBytes": _size(data),
                "output": None,
                "outputBytes": None,
                "error": None,
                "cause": None,
                "attempts": 0,
                "retries": [],
            }
            states.append(current)
            attempt_started = failed_attempt = None
        elif current is None:
            continue
        elif kind == "TaskScheduled":
            if failed_attempt is not None:
                # The failed attempt is being retried: it is no longer the state's outcome.
                current["retries"].append(failed_attempt)
                current["error"] = current["cause"] = failed_attempt = None
            current["attempts"] += 1
            attempt_started = at
        elif kind in ("TaskFailed", "TaskTimedOut"):
            details = event.get("taskFailedEventDetails") or event.get("taskTimedOutEventDetails") or {}
            current["error"], current["cause"] = details.get("error"), details.get("cause")
            failed_attempt = {
                "attempt": current["attempts"],
                "error": current["error"],
                "cause": current["cause"],
                "durationMs": _ms(attempt_started, at),
            }
        elif kind.endswith("StateExited"):
            data = json.loads(event["stateExitedEventDetails"].get("output") or "null")
            current.update(
                output=_shortened(data), outputBytes=_size(data), durationMs=_ms(_parse_iso(current["enteredAt"]), at)
            )
        elif kind in ("ExecutionFailed", "ExecutionTimedOut") and current["durationMs"] is None:
            if current["type"] == "Fail":
                details = event.get("executionFailedEventDetails") or {}
                current.update(error=details.get("error"), cause=details.get("cause"))
            current["durationMs"] = _ms(_parse_iso(current["enteredAt"]), at)
    return states


def _size(data: Any) -> int:
    # Text that is not Unicode (a lone surrogate) must not fail the bookkeeping: three bytes each.
    return len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass"))


def _shortened(data: Any) -> Any:
    """``data`` as the records keep it: long strings cut, and text that is not
    Unicode escaped, so that the executions API can still answer with it."""
    if isinstance(data, str):
        text = data if len(data) <= MAX_RECORDED_CHARS else f"{data[:64]}... ({len(data):,} characters)"
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(data, dict):
        return {_shortened(key): _shortened(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_shortened(value) for value in data]
    return data


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _ms(start: datetime | None, end: datetime) -> float | None:
    return None if start is None else round((end - start).total_seconds() * 1000, 3)
