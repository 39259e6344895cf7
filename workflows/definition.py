"""The Express state machine: ``Validate -> Preprocess -> InvokeModel -> Persist``.

One source of truth: the Pulumi program deploys ``build_definition(arns)`` and
the local engine runs the very same document. Amazon States Language, JSONPath::

    definition = build_definition({
        "validate": validate_fn.arn, "preprocess": ..., "invoke_model": ..., "persist": ...,  # Task.key
    })
    json.dumps(definition)  # the state machine's definition string

Each task calls its Lambda through the optimised integration
(``arn:aws:states:::lambda:invoke``) with the whole state as payload; its
``ResultSelector`` names every key passed on, so nothing else travels: the raw
image (up to ~240 KB of base64) exists only between Validate and Preprocess,
and after Preprocess only the 28x28 tensor (~4 KB) goes on.

Failures:

- Retried, with exponential backoff and full jitter: Lambda's own service
  errors and throttling, and the transient codes ``ModelUnavailable`` (SageMaker
  throttled, 5xx, unreachable, too slow) and ``Throttled`` (DynamoDB
  throttling). The request's own faults (``BadRequest``, ``InvalidImage``, ...)
  are never retried.
- Then every failure is caught. An error of the table (``functions/core/errors.py``)
  ends the execution with ``error`` = its code and ``cause`` = the Lambda's
  ``errorMessage`` (the message for a person; the Lambda's JSON error and its
  stack trace stay behind). Anything else (a timeout, a Lambda crash) ends with
  ``InternalError`` and a generic message.

Time: each task has its own timeout (a Lambda stops when its task gives up
on it), retries are bounded, and the whole execution is capped at
``EXECUTION_TIMEOUT_SECONDS``, below API Gateway's 29 s integration timeout, so
the API always answers in time. The budget holds in the worst case of each
failing dependency: ``worst_case_seconds`` computes it from the definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.core.errors import ERROR_TABLE, DigitError, InternalError, ModelUnavailable, Throttled
from functions.core.tasks import INVOKE_MODEL, PERSIST, PREPROCESS, VALIDATE, WORKFLOW_TASKS, Task

# The keys of ``build_definition``'s ARNs, in the order the states run.
TASKS: tuple[str, ...] = tuple(task.key for task in WORKFLOW_TASKS)
# Seconds each task may take, its Lambda's cold start included. InvokeModel and
# Persist give up on AWS early enough to fail with their retried error instead
# of a timeout (functions/core/deadline.py).
TASK_TIMEOUT_SECONDS = {VALIDATE.key: 3, PREPROCESS.key: 4, INVOKE_MODEL.key: 6, PERSIST.key: 4}
EXECUTION_TIMEOUT_SECONDS = 25

LAMBDA_SERVICE_ERRORS = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.TooManyRequestsException",
)
# The retryable errors (``DigitError.retryable``) each task raises itself: a cold
# or throttled model, a throttled table. One more attempt each, so that even then
# the execution ends within its cap (see worst_case_seconds).
TRANSIENT_ERRORS: dict[str, tuple[type[DigitError], ...]] = {
    INVOKE_MODEL.key: (ModelUnavailable,),
    PERSIST.key: (Throttled,),
}
TRANSIENT_RETRY: dict[str, Any] = {
    "IntervalSeconds": 1,
    "MaxAttempts": 1,
    "BackoffRate": 2.0,
    "MaxDelaySeconds": 1,
    "JitterStrategy": "FULL",
}
# Lambda's own service errors and throttling answer at once, before the function runs.
LAMBDA_SERVICE_RETRY: dict[str, Any] = {**TRANSIENT_RETRY, "MaxAttempts": 2}

# What each task passes on (see functions/core/predictions.py); Persist's
# output, the prediction item, is the execution's output.
PASSED_ON = {
    VALIDATE.key: ("requestId", "clientId", "createdAt", "input", "image", "timingsMs"),
    PREPROCESS.key: ("requestId", "clientId", "createdAt", "input", "tensor", "thumbnail", "timingsMs"),
    INVOKE_MODEL.key: ("requestId", "clientId", "createdAt", "input", "thumbnail", "prediction", "timingsMs"),
}

DESCRIBE_FAILURE = "DescribeFailure"
FAILED = "Failed"
INTERNAL_FAILURE = "InternalFailure"


def build_definition(function_arns: Mapping[str, str]) -> dict[str, Any]:
    """The ASL document for the four Lambda ARNs (keys: ``TASKS``)."""
    missing = [task for task in TASKS if not function_arns.get(task)]
    if missing:
        raise ValueError(f"function ARNs missing for: {', '.join(missing)}")
    states: dict[str, Any] = {}
    for task, following in zip(WORKFLOW_TASKS, (*WORKFLOW_TASKS[1:], None), strict=True):
        states[task.state] = _task_state(task.key, function_arns[task.key], following)
    states[DESCRIBE_FAILURE] = {
        "Type": "Pass",
        "Comment": "A failure from the error table: keep its code, take the person's message out of the Lambda "
        "error JSON.",
        "Parameters": {"error.$": "$.Error", "details.$": "States.StringToJson($.Cause)"},
        "Next": FAILED,
    }
    states[FAILED] = {"Type": "Fail", "ErrorPath": "$.error", "CausePath": "$.details.errorMessage"}
    states[INTERNAL_FAILURE] = {
        "Type": "Fail",
        "Comment": "Timeouts, crashes and anything else outside the error table.",
        "Error": "InternalError",
        "Cause": InternalError.default_message,
    }
    return {
        "Comment": "Recognise a handwritten digit and keep it in the history.",
        "QueryLanguage": "JSONPath",
        "StartAt": WORKFLOW_TASKS[0].state,
        "TimeoutSeconds": EXECUTION_TIMEOUT_SECONDS,
        "States": states,
    }


def _task_state(task: str, function_arn: str, following: Task | None) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
        "TimeoutSeconds": TASK_TIMEOUT_SECONDS[task],
        "Retry": [
            {"ErrorEquals": list(LAMBDA_SERVICE_ERRORS), **LAMBDA_SERVICE_RETRY},
            *(
                [{"ErrorEquals": [error.__name__ for error in TRANSIENT_ERRORS[task]], **TRANSIENT_RETRY}]
                if task in TRANSIENT_ERRORS
                else []
            ),
        ],
        # The error replaces the state (ResultPath "$"): added to a state near the
        # 256 KB limit, it would end in States.DataLimitExceeded, which no Catch catches.
        "Catch": [
            {"ErrorEquals": list(ERROR_TABLE), "ResultPath": "$", "Next": DESCRIBE_FAILURE},
            {"ErrorEquals": ["States.ALL"], "Next": INTERNAL_FAILURE},
        ],
    }
    if following is None:
        state["OutputPath"] = "$.Payload"
        state["End"] = True
    else:
        state["ResultSelector"] = {f"{key}.$": f"$.Payload.{key}" for key in PASSED_ON[task]}
        state["Next"] = following.state
    return state


def worst_case_seconds(definition: Mapping[str, Any], failing: str) -> float:
    """How long an execution of ``definition`` can last when ``failing`` (an
    error name) keeps happening wherever it is retried: every task takes its
    whole timeout, and each attempt a retrier of ``failing`` allows takes the
    task's timeout again plus its longest delay. Errors that Lambda answers
    before running (``LAMBDA_SERVICE_ERRORS``) cost their delays only."""
    total = 0.0
    for state in definition["States"].values():
        if state["Type"] != "Task":
            continue
        total += state["TimeoutSeconds"]
        for retrier in state.get("Retry", []):
            if failing not in retrier["ErrorEquals"]:
                continue
            attempt = 0.0 if failing in LAMBDA_SERVICE_ERRORS else state["TimeoutSeconds"]
            delay = retrier["IntervalSeconds"]
            for _ in range(retrier["MaxAttempts"]):
                total += min(delay, retrier.get("MaxDelaySeconds", delay)) + attempt
                delay *= retrier["BackoffRate"]
    return total
