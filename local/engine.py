"""The workflow on one machine: the deployed state machine definition, run by
moto's Amazon States Language interpreter, with the Lambda tasks called in
process.

Nothing of the workflow is re-implemented here: ``workflows.build_definition``
gives the same document Pulumi deploys, and moto's interpreter (pinned
``moto[stepfunctions]==5.2.5``) evaluates it: paths, ResultSelector, Retry with
backoff and jitter, Catch, timeouts, intrinsic functions. Only the edge of AWS
is replaced: the interpreter's Lambda client becomes an in-process one that
routes ``Invoke`` by function ARN to a handler, with Lambda's JSON round trip
and its error shape (``FunctionError``, ``errorType``, ``errorMessage``), so
Retry and Catch see what they see on AWS::

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

The parsed definition is reused: parsed programs sit in a pool, each used by
one execution at a time, because moto keeps a little per-component state that
concurrent executions must not share. All public methods are thread-safe.
"""

from __future__ import annotations

import collections
import functools
import io
import json
import logging
import queue
import threading
import time
import traceback
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from moto.stepfunctions.parser import utils as moto_utils
from moto.stepfunctions.parser.api import StateMachineType
from moto.stepfunctions.parser.asl.component.common.path import result_path as moto_result_path
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.evaluation_details import AWSExecutionDetails
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext
from moto.stepfunctions.parser.asl.eval.program_state import ProgramEnded, ProgramError, ProgramTimedOut
from moto.stepfunctions.parser.asl.eval.states import ContextObjectData, ExecutionData, StateMachineData
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils import json_path as moto_json_path

from functions.core.errors import NotFound
from workflows.definition import TASK_TIMEOUT_SECONDS, TASKS, build_definition

Handler = Callable[[Any, Any], Any]

DEFAULT_REGION = "ap-southeast-1"
DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_STATE_MACHINE_NAME = "digits-local"
DEFAULT_HISTORY_SIZE = 200
MAX_RECORDED_CHARS = 4096
# Step Functions' limit on the data of one state (input or output).
STATE_DATA_LIMIT_BYTES = 256 * 1024

# The interpreter reports failures it hands to Catch as errors; the engine
# records them per state instead.
logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
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


class _LocalFunction:
    """One Lambda function: a handler behind Lambda's Invoke semantics."""

    def __init__(self, arn: str, handler: Handler, timeout_seconds: float) -> None:
        self.arn = arn
        self.name = arn.rsplit(":", 1)[-1]
        self._handler = handler
        self._timeout_seconds = timeout_seconds

    def invoke(self, payload: bytes) -> dict[str, Any]:
        context = LambdaContext(self.name, self.arn, str(uuid.uuid4()), timeout_seconds=self._timeout_seconds)
        try:
            result = self._handler(json.loads(payload), context)
            body = json.dumps(result, separators=(",", ":"), allow_nan=False).encode()
        except Exception as error:  # noqa: BLE001 - Lambda reports any exception the same way
            failure = {
                "errorType": type(error).__name__,
                "errorMessage": str(error),
                "requestId": context.aws_request_id,
                "stackTrace": traceback.format_tb(error.__traceback__),
            }
            return {
                "StatusCode": 200,
                "FunctionError": "Unhandled",
                "Payload": io.BytesIO(json.dumps(failure).encode()),
            }
        return {"StatusCode": 200, "Payload": io.BytesIO(body), "ExecutedVersion": "$LATEST"}


_functions: weakref.WeakValueDictionary[str, _LocalFunction] = weakref.WeakValueDictionary()
_install_lock = threading.Lock()


class _InProcessLambdaClient:
    """What moto's interpreter uses of boto3's Lambda client: ``invoke``."""

    def invoke(self, FunctionName: str, Payload: bytes, **_: Any) -> dict[str, Any]:  # noqa: N803 - boto3's names
        function = _functions.get(FunctionName)
        if function is None:
            raise ClientError(
                {
                    "Error": {"Code": "ResourceNotFoundException", "Message": f"Function not found: {FunctionName}"},
                    "ResponseMetadata": {"HTTPStatusCode": 404, "RequestId": str(uuid.uuid4())},
                },
                "Invoke",
            )
        return function.invoke(Payload)


def _cache_json_path_parsing() -> None:
    """moto parses every JSONPath afresh on each evaluation (~16 ms of CPU per
    execution here); the parsed expressions are immutable, so parse each once."""
    with _install_lock:
        for module in (moto_json_path, moto_result_path):
            parse = getattr(module, "parse")  # noqa: B009 - not exported: mypy must not see it
            if not hasattr(parse, "cache_info"):
                setattr(module, "parse", functools.lru_cache(maxsize=1024)(parse))  # noqa: B010 - as above


def _route_lambda_in_process() -> None:
    """Makes the interpreter's Lambda tasks use ``_InProcessLambdaClient`` (once per process)."""
    with _install_lock:
        current = getattr(lambda_eval_utils, "boto_client_for")  # noqa: B009 - not exported: mypy must not see it
        if getattr(current, "routes_in_process", False):
            return
        client = _InProcessLambdaClient()

        def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
            if service == "lambda":
                return client
            return current(region=region, service=service, state_credentials=state_credentials)

        boto_client_for.routes_in_process = True  # type: ignore[attr-defined]
        setattr(lambda_eval_utils, "boto_client_for", boto_client_for)  # noqa: B010 - as above


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
        _route_lambda_in_process()
        _cache_json_path_parsing()
        self._region, self._account_id, self._name = region, account_id, state_machine_name
        self.state_machine_arn = f"arn:aws:states:{region}:{account_id}:stateMachine:{state_machine_name}"
        # Function names unique to this engine: several engines may live in one process.
        prefix = f"arn:aws:lambda:{region}:{account_id}:function:{state_machine_name}-{uuid.uuid4().hex[:8]}"
        # Each function times out with its task, as the deployed ones do.
        self._functions = {
            task: _LocalFunction(f"{prefix}-{task}", handlers[task], TASK_TIMEOUT_SECONDS[task]) for task in TASKS
        }
        for function in self._functions.values():
            _functions[function.arn] = function
        self.definition = build_definition({task: function.arn for task, function in self._functions.items()})
        self._definition_text = json.dumps(self.definition)
        self._programs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._programs.put(self._parse())
        self._records: collections.OrderedDict[str, dict[str, Any]] = collections.OrderedDict()
        self._history_size = history_size
        self._records_lock = threading.Lock()

    def start_sync_execution(self, input: str, name: str | None = None) -> dict[str, Any]:  # noqa: A002 - the API's name
        try:
            execution_input = json.loads(input)
        except (TypeError, ValueError):
            raise InvalidExecutionInput("The execution input must be JSON.") from None
        name = name or str(uuid.uuid4())
        arn = f"arn:aws:states:{self._region}:{self._account_id}:express:{self._name}:{name}:{uuid.uuid4()}"
        started = datetime.now(UTC)
        env = self._environment(arn, name, execution_input, started)
        program = self._take_program()
        try:
            program.eval(env)
        finally:
            self._programs.put(program)
        stopped = datetime.now(UTC)
        _forget_finished_threads()
        response = _response(env, arn, self.state_machine_arn, name, input, started, stopped)
        self._record(response, env)
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
        for function in self._functions.values():
            _functions.pop(function.arn, None)

    def _parse(self) -> Any:
        return AmazonStateLanguageParser.parse(self._definition_text)[0]

    def _take_program(self) -> Any:
        try:
            return self._programs.get_nowait()
        except queue.Empty:
            return self._parse()

    def _environment(self, arn: str, name: str, execution_input: Any, started: datetime) -> Environment:
        role_arn = f"arn:aws:iam::{self._account_id}:role/{self._name}"
        return Environment(
            aws_execution_details=AWSExecutionDetails(account=self._account_id, region=self._region, role_arn=role_arn),
            execution_type=StateMachineType.EXPRESS,
            # moto adds the State, Task and Map parts as the execution runs.
            context=ContextObjectData(  # type: ignore[typeddict-item]
                Execution=ExecutionData(
                    Id=arn, Input=execution_input, Name=name, RoleArn=role_arn, StartTime=_iso(started)
                ),
                StateMachine=StateMachineData(Id=self.state_machine_arn, Name=self._name),
            ),
            event_history_context=EventHistoryContext.of_program_start(),
            cloud_watch_logging_session=None,
            activity_store={},
        )

    def _record(self, response: dict[str, Any], env: Environment) -> None:
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
            states = _states_from_history(env.event_manager.get_event_history())
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


def _response(
    env: Environment,
    arn: str,
    state_machine_arn: str,
    name: str,
    input: str,  # noqa: A002 - the API's name
    started: datetime,
    stopped: datetime,
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "executionArn": arn,
        "stateMachineArn": state_machine_arn,
        "name": name,
        "startDate": _iso(started),
        "stopDate": _iso(stopped),
        "durationMs": round((stopped - started).total_seconds() * 1000, 3),
        "input": input,
        "inputDetails": {"included": True},
    }
    state = env.program_state()
    if isinstance(state, ProgramEnded):
        response["status"] = "SUCCEEDED"
        response["output"] = json.dumps(env.states.get_input(), separators=(",", ":"))
        response["outputDetails"] = {"included": True}
    elif isinstance(state, ProgramTimedOut):
        response.update(status="TIMED_OUT", error="States.Timeout", cause="The execution ran out of time.")
    else:
        error = state.error if isinstance(state, ProgramError) and state.error else {}
        response.update(status="FAILED", error=error.get("error", "States.Runtime"), cause=error.get("cause", ""))
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


def _forget_finished_threads() -> None:
    # moto lists every thread it starts (a few per execution) for its own test
    # cleanup and never removes them: drop the finished ones so a long-running
    # local stack does not grow. A thread appended concurrently may be dropped
    # from the list too, which only matters to moto's test teardown.
    moto_utils.TMP_THREADS[:] = [thread for thread in moto_utils.TMP_THREADS if thread.is_alive()]


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


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _ms(start: datetime | None, end: datetime) -> float | None:
    return None if start is None else round((end - start).total_seconds() * 1000, 3)
