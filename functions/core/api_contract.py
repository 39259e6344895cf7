"""The HTTP contract's rules, free of Pulumi and of any web framework, so that
the local server, the Pulumi program (API Gateway) and the OpenAPI document
(``functions/core/openapi.py``) take them from one place:

- the routes and their methods: any other method of a route, like any other
  path, is ``NotFound`` (API Gateway answers both with its
  MISSING_AUTHENTICATION_TOKEN gateway response);
- the JSON Schemas (draft 4, API Gateway's dialect) request bodies are
  validated with;
- what a request body may be at all: at most ``MAX_BODY_BYTES``, JSON as
  RFC 8259 has it (no ``NaN``, text that is Unicode), at most
  ``MAX_JSON_DEPTH`` arrays or objects deep (``parse_body``). The local
  server checks a prediction's body at its edge, the history Lambda a
  feedback body on every stack. On AWS, API Gateway's validator refuses what
  is not JSON and Step Functions a lone surrogate; nothing there bounds the
  depth of a prediction's extra fields.
"""

from __future__ import annotations

from typing import Any

from functions.core import strict_json
from functions.core.errors import BadRequest
from functions.core.predictions import CLIENT_ID

JSON = "application/json"
# Step Functions' limit on an execution's input (262,144 bytes, StartSyncExecution's
# ``input``): a bigger request could not start the workflow on AWS either.
MAX_BODY_BYTES = 256 * 1024
# The contract's bodies are one level deep; this leaves room for what a newer
# page may add, and stays far below where any parser or recorder recurses.
MAX_JSON_DEPTH = 32
# What a caller learns of a path or method that is no route: also the answer
# to a call that skips CloudFront, so the API's address reveals nothing.
NO_SUCH_ROUTE = "No such route."
UNSUPPORTED_MEDIA_TYPE = "Send the request body as application/json."
# Where every stack serves the contract's OpenAPI document (functions/core/openapi.py).
DOCUMENT_PATH = "/api/openapi.json"

# Every route of the contract and its methods (the local stack adds its own
# /api/executions routes).
ROUTES: dict[str, tuple[str, ...]] = {
    "/api/health": ("GET",),
    DOCUMENT_PATH: ("GET",),
    "/api/predictions": ("GET", "POST", "DELETE"),
    "/api/predictions/{id}": ("GET", "DELETE"),
    "/api/predictions/{id}/feedback": ("POST",),
}

# The request validator checks clientId exactly as the Validate task does.
CLIENT_ID_PATTERN = f"^{CLIENT_ID.pattern}$"
PREDICTION_REQUEST_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "PredictionRequest",
    "type": "object",
    "required": ["image", "clientId"],
    "properties": {
        # No maxLength: the validator would answer an oversized image 400 BadRequest;
        # Step Functions refuses an input over its limit and that becomes 413
        # ImageTooLarge, as the contract and the local stack answer.
        "image": {"type": "string", "minLength": 1},
        "clientId": {"type": "string", "pattern": CLIENT_ID_PATTERN},
    },
}
FEEDBACK_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "Feedback",
    "type": "object",
    "required": ["clientId", "label"],
    "properties": {
        "clientId": {"type": "string", "pattern": CLIENT_ID_PATTERN},
        "label": {"type": "integer", "minimum": 0, "maximum": 9},
    },
}


def parse_body(raw: str | bytes) -> Any:
    """A request body's JSON value; ``BadRequest`` saying why it is none."""
    try:
        return strict_json.loads(raw, MAX_JSON_DEPTH)
    except strict_json.NotStrictJson as error:
        raise BadRequest(str(error)) from None


def is_json_media_type(content_type: str | None) -> bool:
    """Whether a request's Content-Type selects the JSON mapping template:
    API Gateway takes a request without one as ``application/json`` ("Method
    request behavior for payloads without mapping templates") and matches the
    media type, not its parameters."""
    return content_type is None or content_type.split(";", 1)[0].strip().lower() == JSON
