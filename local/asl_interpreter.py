"""The one door to moto: an Amazon States Language interpreter for Express
state machines (moto's, ``moto[stepfunctions]`` pinned in pyproject.toml),
with their Lambda tasks called in process.

Only this module imports moto (ruff's banned-imports rule holds everyone else
to it), and every patch of moto's internals lives here, so that a moto upgrade
breaks in one known place; ``tests/workflow/test_asl_interpreter.py`` pins the
behaviours the project relies on. The API::

    definition = parse({"StartAt": "Double", "States": {...}})   # parsed once, reused
    machine = StateMachine(definition, {"arn:aws:lambda:...:function:double": double}, arn=STATE_MACHINE_ARN)
    outcome = machine.run({"n": 2})
    outcome.status, outcome.output   # "SUCCEEDED", the execution's output (a JSON value)
    outcome.error, outcome.cause     # when FAILED or TIMED_OUT
    outcome.events                   # Step Functions' history events (GetExecutionHistory's shape)
    machine.close()

A Lambda function is a callable ``(event, request_id) -> result``: the
interpreter gives it the JSON payload the state sends, and answers as Lambda's
``Invoke`` does (the result goes through JSON; an exception becomes a function
error ``{"errorType": <its class name>, "errorMessage": <its text>, ...}``), so
Retry and Catch see the error names they see on AWS. Routes are keyed by the
``FunctionName`` the definition gives and live until the machine is closed (or
forgotten).
"""

from __future__ import annotations

import functools
import io
import json
import logging
import queue
import threading
import traceback
import uuid
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

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

LambdaFunction = Callable[[Any, str], Any]
ExecutionStatus = Literal["SUCCEEDED", "FAILED", "TIMED_OUT"]

# Step Functions' error name for a state or an execution out of time.
STATES_TIMEOUT = "States.Timeout"
EXECUTION_TIMED_OUT_CAUSE = "The execution ran out of time."

# The interpreter logs the failures it hands to Catch as errors; the outcome and
# the events carry them instead.
logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)

_patch_lock = threading.Lock()
# FunctionName -> the machine that routes it; a forgotten machine stops routing.
_routes: weakref.WeakValueDictionary[str, StateMachine] = weakref.WeakValueDictionary()
_routes_lock = threading.Lock()


@dataclass(frozen=True)
class Outcome:
    """How one execution ended, as ``StartSyncExecution`` reports it."""

    execution_arn: str
    name: str
    started: datetime
    stopped: datetime
    status: ExecutionStatus
    # The execution's output when it SUCCEEDED.
    output: Any
    error: str | None
    cause: str | None
    # Each a dict with ``type``, ``timestamp`` (ISO 8601) and its ``*EventDetails``.
    events: tuple[Mapping[str, Any], ...]


class ParsedDefinition:
    """An ASL document, parsed. moto keeps a little per-component state while
    a program runs, so each parsed program serves one execution at a time: they
    wait in a pool, and a new one is parsed when all are busy."""

    def __init__(self, document: Mapping[str, Any] | str) -> None:
        self.text = document if isinstance(document, str) else json.dumps(document)
        self._programs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._programs.put(self._parse())

    def _parse(self) -> Any:
        return AmazonStateLanguageParser.parse(self.text)[0]

    def _take(self) -> Any:
        try:
            return self._programs.get_nowait()
        except queue.Empty:
            return self._parse()

    def _give_back(self, program: Any) -> None:
        self._programs.put(program)


def parse(document: Mapping[str, Any] | str) -> ParsedDefinition:
    """``document`` (a dict, or its JSON text) parsed; raises if it is not valid ASL."""
    return ParsedDefinition(document)


class StateMachine:
    """An Express state machine of ``definition`` whose Lambda tasks call
    ``lambdas`` (keyed by the ``FunctionName`` the definition gives). Its
    ``run`` is thread-safe."""

    def __init__(
        self,
        definition: ParsedDefinition,
        lambdas: Mapping[str, LambdaFunction],
        *,
        arn: str,
        role_arn: str | None = None,
    ) -> None:
        """``arn``: ``arn:aws:states:<region>:<account>:stateMachine:<name>``."""
        _, _, _, self.region, self.account_id, _, self.name = arn.split(":", 6)
        self.arn = arn
        self.role_arn = role_arn or f"arn:aws:iam::{self.account_id}:role/{self.name}"
        self._definition = definition
        self._lambdas = dict(lambdas)
        _patch_moto()
        with _routes_lock:
            taken = [name for name in self._lambdas if _routes.get(name) not in (None, self)]
            if taken:
                raise ValueError(f"already routed by another state machine: {', '.join(taken)}")
            for name in self._lambdas:
                _routes[name] = self

    def run(self, execution_input: Any, name: str | None = None) -> Outcome:
        """One execution of the machine, to its end (Express, synchronous)."""
        name = name or str(uuid.uuid4())
        arn = f"arn:aws:states:{self.region}:{self.account_id}:express:{self.name}:{name}:{uuid.uuid4()}"
        started = datetime.now(UTC)
        env = self._environment(arn, name, execution_input, started)
        program = self._definition._take()
        try:
            program.eval(env)
        finally:
            self._definition._give_back(program)
        stopped = datetime.now(UTC)
        _forget_finished_threads()
        state = env.program_state()
        output, error, cause = None, None, None
        status: ExecutionStatus
        if isinstance(state, ProgramEnded):
            status, output = "SUCCEEDED", env.states.get_input()
        elif isinstance(state, ProgramTimedOut):
            status, error, cause = "TIMED_OUT", STATES_TIMEOUT, EXECUTION_TIMED_OUT_CAUSE
        else:
            details = state.error if isinstance(state, ProgramError) and state.error else {}
            status, error, cause = "FAILED", details.get("error", "States.Runtime"), details.get("cause", "")
        # A copy, taken now: a state still running past the execution's timeout may add events later.
        events = tuple(env.event_manager.get_event_history())
        return Outcome(arn, name, started, stopped, status, output, error, cause, events)

    def close(self) -> None:
        """Stops routing this machine's functions."""
        with _routes_lock:
            for name in self._lambdas:
                if _routes.get(name) is self:
                    del _routes[name]

    def __enter__(self) -> StateMachine:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _lambda(self, function_name: str) -> LambdaFunction | None:
        return self._lambdas.get(function_name)

    def _environment(self, arn: str, name: str, execution_input: Any, started: datetime) -> Environment:
        return Environment(
            aws_execution_details=AWSExecutionDetails(
                account=self.account_id, region=self.region, role_arn=self.role_arn
            ),
            execution_type=StateMachineType.EXPRESS,
            # moto adds the State, Task and Map parts as the execution runs.
            context=ContextObjectData(  # type: ignore[typeddict-item]
                Execution=ExecutionData(
                    Id=arn, Input=execution_input, Name=name, RoleArn=self.role_arn, StartTime=iso8601(started)
                ),
                StateMachine=StateMachineData(Id=self.arn, Name=self.name),
            ),
            event_history_context=EventHistoryContext.of_program_start(),
            cloud_watch_logging_session=None,
            activity_store={},
        )


def _invoke(function: LambdaFunction, payload: bytes) -> dict[str, Any]:
    """Lambda's ``Invoke`` of ``function``, as boto3 answers it."""
    request_id = str(uuid.uuid4())
    try:
        result = function(json.loads(payload), request_id)
        body = json.dumps(result, separators=(",", ":"), allow_nan=False).encode()
    except Exception as error:  # noqa: BLE001 - Lambda reports any exception the same way
        failure = {
            "errorType": type(error).__name__,
            "errorMessage": str(error),
            "requestId": request_id,
            "stackTrace": traceback.format_tb(error.__traceback__),
        }
        return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": io.BytesIO(json.dumps(failure).encode())}
    return {"StatusCode": 200, "Payload": io.BytesIO(body), "ExecutedVersion": "$LATEST"}


class _InProcessLambdaClient:
    """What moto's interpreter uses of boto3's Lambda client: ``invoke``."""

    def invoke(self, FunctionName: str, Payload: bytes, **_: Any) -> dict[str, Any]:  # noqa: N803 - boto3's names
        machine = _routes.get(FunctionName)
        function = machine._lambda(FunctionName) if machine is not None else None
        if function is None:
            raise ClientError(
                {
                    "Error": {"Code": "ResourceNotFoundException", "Message": f"Function not found: {FunctionName}"},
                    "ResponseMetadata": {"HTTPStatusCode": 404, "RequestId": str(uuid.uuid4())},
                },
                "Invoke",
            )
        return _invoke(function, Payload)


def _patch_moto() -> None:
    """Installs this module's patches of moto (once per process)."""
    with _patch_lock:
        _cache_json_path_parsing()
        _route_lambda_in_process()


def _cache_json_path_parsing() -> None:
    """moto parses every JSONPath afresh on each evaluation (~16 ms of CPU per
    execution of the project's workflow); the parsed expressions are immutable,
    so parse each once."""
    for module in (moto_json_path, moto_result_path):
        parse_path = getattr(module, "parse")  # noqa: B009 - not exported: mypy must not see it
        if not hasattr(parse_path, "cache_info"):
            setattr(module, "parse", functools.lru_cache(maxsize=1024)(parse_path))  # noqa: B010 - as above


def _route_lambda_in_process() -> None:
    """Makes the interpreter's Lambda tasks use ``_InProcessLambdaClient``."""
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


def _forget_finished_threads() -> None:
    # moto lists every thread it starts (a few per execution) for its own test
    # cleanup and never removes them: drop the finished ones so a long-running
    # local stack does not grow. A thread appended concurrently may be dropped
    # from the list too, which only matters to moto's test teardown.
    moto_utils.TMP_THREADS[:] = [thread for thread in moto_utils.TMP_THREADS if thread.is_alive()]


def iso8601(moment: datetime) -> str:
    """A moment as Step Functions writes one: UTC, milliseconds, ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
