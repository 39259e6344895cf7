"""API Gateway mapping templates (Velocity), generated from the error table
so the deployed API and the local server answer failures identically.

- request: ``StartSyncExecution`` of the state machine with the execution
  input of docs/INTERFACES.md: ``{"requestId": ..., "request": <body>}``;
- response: a SUCCEEDED execution's output is the body; a FAILED (or timed
  out) one becomes ``{"error": {"code", "message"}}`` with the code's status,
  unknown codes becoming ``InternalError`` with its generic message;
- gateway responses: API Gateway's own rejections in the same error JSON.
"""

from __future__ import annotations

import json

from functions.core.errors import ERROR_TABLE, InternalError, error_body

JSON = "application/json"

# API Gateway's own rejections -> the error code that describes them to a person.
GATEWAY_RESPONSES: dict[str, tuple[str, str | None]] = {
    # response type: (error code, message or None for API Gateway's own message)
    "DEFAULT_4XX": ("BadRequest", None),
    "DEFAULT_5XX": ("InternalError", InternalError.default_message),
    "BAD_REQUEST_BODY": ("BadRequest", None),
    "BAD_REQUEST_PARAMETERS": ("BadRequest", None),
    "UNSUPPORTED_MEDIA_TYPE": ("BadRequest", "Send the request body as application/json."),
    "REQUEST_TOO_LARGE": ("ImageTooLarge", None),
    "MISSING_AUTHENTICATION_TOKEN": ("NotFound", "No such route."),
    "RESOURCE_NOT_FOUND": ("NotFound", "No such route."),
    "THROTTLED": ("Throttled", None),
    "QUOTA_EXCEEDED": ("Throttled", None),
    "WAF_FILTERED": ("Throttled", None),
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
    return "\n".join([
        "#set($execution = $input.path('$'))",
        '#if($execution.status == "SUCCEEDED")',
        "$execution.output",
        "#else",
        "#set($code = \"$!execution.error\")",
        "#set($message = \"$!execution.cause\")",
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
    ])


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
