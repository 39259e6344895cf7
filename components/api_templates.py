"""API Gateway mapping templates (Velocity), generated from the error table
so the deployed API and the local server answer failures identically.

- request: ``StartSyncExecution`` of the state machine with the execution
  input of docs/INTERFACES.md: ``{"requestId": ..., "request": <body>}``;
- response: a SUCCEEDED execution's output is the body; a FAILED (or timed
  out) one becomes ``{"error": {"code", "message"}}`` with the code's status,
  unknown codes becoming ``InternalError`` with its generic message;
- service refusals: ``StartSyncExecution`` itself refusing the call (HTTP
  4xx/5xx, the error's name in ``__type``) becomes the error JSON too;
- gateway responses: API Gateway's own rejections in the same error JSON.
"""

from __future__ import annotations

import json

# Re-exported: the API's parts and the infra tests name them through this module.
from functions.core.api_contract import JSON as JSON
from functions.core.api_contract import MAX_BODY_BYTES, UNSUPPORTED_MEDIA_TYPE
from functions.core.api_contract import NO_SUCH_ROUTE as NO_SUCH_ROUTE
from functions.core.errors import ERROR_TABLE, InternalError, error_body
from functions.core.predictions import CLIENT_ID

# StartSyncExecution takes at most 262,144 bytes (UTF-8) of execution input
# (API reference, StartSyncExecution, ``input``): the contract's body limit.
MAX_EXECUTION_INPUT_BYTES = MAX_BODY_BYTES
# $context.requestId is a UUID; a client may choose it, but only as a UUID
# (API Gateway developer guide, "Access logging for REST APIs").
REQUEST_ID_LENGTH = 36
# The longest clientId the request validator and the Validate task accept.
CLIENT_ID_MAX_LENGTH = max(length for length in range(1, 256) if CLIENT_ID.fullmatch("_" * length))
# The longest ``image`` whose execution input StartSyncExecution still takes;
# anything longer it refuses (ValidationException), answered 413 ImageTooLarge
# by ``service_refusal_response``. The Validate task's own limit is lower, so
# every image the workflow would accept fits. The execution input is the
# template's envelope around ``$input.json('$')``; escapeJavaScript doubles every
# '/' and '"' on the wire, but Step Functions measures the input string once the
# call's JSON is decoded, where a base64 character (A-Z a-z 0-9 + / =) is one
# byte (assuming $input.json writes '/' unescaped). Budgeted here: a UUID request
# id, the longest clientId, and the body rendered with JSON's widest separators.
_WIDEST_ENVELOPE = json.dumps(
    {"requestId": "0" * REQUEST_ID_LENGTH, "request": {"image": "", "clientId": "_" * CLIENT_ID_MAX_LENGTH}}
)
IMAGE_MAX_LENGTH = MAX_EXECUTION_INPUT_BYTES - len(_WIDEST_ENVELOPE.encode())

# StartSyncExecution refusing the call itself (HTTP 4xx, not a FAILED execution),
# by the error name in the body's ``__type``, -> the error code the person gets.
# Any other refusal (unknown ARN, missing permission, KMS access) is a fault of
# the deployment, answered ``InternalError``; so is every 5xx from the service.
STEP_FUNCTIONS_REFUSALS: dict[str, str] = {
    # A length constraint broken: the input is the only member that varies with
    # the request (the ARN is fixed, no name is sent), so it is over 262,144 bytes.
    "ValidationException": "ImageTooLarge",
    # "The provided JSON input data is not valid": the body held something the
    # service cannot take as JSON (e.g. a lone surrogate escape).
    "InvalidExecutionInput": "BadRequest",
    "ThrottlingException": "Throttled",
    "KmsThrottlingException": "Throttled",
}

# API Gateway's own rejections -> the error code that describes them to a person.
GATEWAY_RESPONSES: dict[str, tuple[str, str | None]] = {
    # response type: (error code, message or None for API Gateway's own message)
    "DEFAULT_4XX": ("BadRequest", None),
    "DEFAULT_5XX": ("InternalError", InternalError.default_message),
    "BAD_REQUEST_BODY": ("BadRequest", None),
    "BAD_REQUEST_PARAMETERS": ("BadRequest", None),
    # A body that is not application/json on the route whose integration maps only that.
    "UNSUPPORTED_MEDIA_TYPE": ("BadRequest", UNSUPPORTED_MEDIA_TYPE),
    "REQUEST_TOO_LARGE": ("ImageTooLarge", None),
    # A path that is no resource, or a method its resource does not have ("How do I
    # resolve Missing Authentication Token errors?", AWS re:Post knowledge center).
    "MISSING_AUTHENTICATION_TOKEN": ("NotFound", NO_SUCH_ROUTE),
    "RESOURCE_NOT_FOUND": ("NotFound", NO_SUCH_ROUTE),
    "THROTTLED": ("Throttled", None),
    "QUOTA_EXCEEDED": ("Throttled", None),
    # The stage's web ACL only refuses calls that did not come through CloudFront.
    "WAF_FILTERED": ("NotFound", NO_SUCH_ROUTE),
    "INTEGRATION_TIMEOUT": ("ModelUnavailable", None),
}


def _vtl_literal(text: str) -> str:
    """A Velocity string literal that interpolates nothing (' doubled, as Velocity 1.7 reads it)."""
    return "'" + text.replace("'", "''") + "'"


def start_execution_request(state_machine_arn: str) -> str:
    """Request template of ``POST /api/predictions``."""
    # escapeJavaScript escapes ' as \' which JSON does not allow: undo that.
    body = "$util.escapeJavaScript($input.json('$')).replaceAll(\"\\\\'\", \"'\")"
    return (
        "{"
        f'"stateMachineArn": "{state_machine_arn}", '
        '"input": "{\\"requestId\\": \\"$context.requestId\\", \\"request\\": ' + body + '}"'
        "}"
    )


def execution_response() -> str:
    """Response template of ``StartSyncExecution``: the item, or the error JSON with its status."""
    branches = []
    for position, (code, cls) in enumerate(ERROR_TABLE.items()):
        keyword = "#if" if position == 0 else "#elseif"
        branches.append(
            f'{keyword}($code == "{code}")\n'
            f"#set($context.responseOverride.status = {cls.status})\n"
            f"#set($fallback = {_vtl_literal(cls.default_message)})"
        )
    internal = ERROR_TABLE["InternalError"]
    return "\n".join(
        [
            "#set($execution = $input.path('$'))",
            '#if($execution.status == "SUCCEEDED")',
            "$execution.output",
            "#else",
            '#set($code = "$!execution.error")',
            '#set($message = "$!execution.cause")',
            *branches,
            "#else",
            '#set($code = "InternalError")',
            f"#set($context.responseOverride.status = {internal.status})",
            f"#set($message = {_vtl_literal(internal.default_message)})",
            "#end",
            '#if($message == "")',
            "#set($message = $fallback)",
            "#end",
            '{"error": {"code": "$code", "message": "$util.escapeJavaScript($message).replaceAll("\\\\\'", "\'")"}}',
            "#end",
        ]
    )


def service_refusal_response() -> str:
    """Response template of StartSyncExecution refusing the call: the contract's error JSON by ``__type``.

    ``__type`` may carry a namespace before ``#`` and details after ``:``."""
    branches = []
    for position, (service_error, code) in enumerate(STEP_FUNCTIONS_REFUSALS.items()):
        cls = ERROR_TABLE[code]
        keyword = "#if" if position == 0 else "#elseif"
        branches.append(
            f'{keyword}($type.matches("(.*#)?{service_error}(:.*)?"))\n'
            f"#set($context.responseOverride.status = {cls.status})\n"
            f"#set($body = {_vtl_literal(json.dumps(error_body(code, cls.default_message)))})"
        )
    internal = ERROR_TABLE["InternalError"]
    return "\n".join(
        [
            "#set($type = \"$!input.path('$.__type')\")",
            *branches,
            "#else",
            f"#set($context.responseOverride.status = {internal.status})",
            f"#set($body = {_vtl_literal(json.dumps(error_body('InternalError', internal.default_message)))})",
            "#end",
            "$body",
        ]
    )


def method_statuses() -> list[int]:
    """Every status the predictions method can answer with."""
    return sorted({200, *(cls.status for cls in ERROR_TABLE.values())})


def gateway_response_template(code: str, message: str | None) -> str:
    """Body of a gateway response, in the contract's error JSON."""
    if message is None:
        # API Gateway substitutes a JSON string literal, quotes included.
        return '{"error": {"code": ' + json.dumps(code) + ', "message": $context.error.messageString}}'
    return json.dumps(error_body(code, message))


def gateway_status(code: str) -> str:
    return str(ERROR_TABLE[code].status)
