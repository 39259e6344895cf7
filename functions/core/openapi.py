"""The HTTP contract as an OpenAPI 3 document, built from what the stacks run
on: the routes and request schemas of ``functions/core/api_contract.py`` (the
very schemas API Gateway validates with), the error table, the history limits
and the prediction item's parts. Nothing here is typed twice: a new error code,
route or limit changes the document.

The local stack serves it at ``DOCUMENT_PATH``; on AWS it is uploaded with the
site and CloudFront serves it from the site bucket at the same path
(``components/site.py``). Both serve ``document_json()``, byte for byte.

    document = openapi_document()   # a dict, OpenAPI 3.0.3
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from typing import Any

from functions.core.api_contract import (
    CLIENT_ID_PATTERN,
    DOCUMENT_PATH,
    FEEDBACK_SCHEMA,
    JSON,
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    PREDICTION_REQUEST_SCHEMA,
    ROUTES,
)
from functions.core.errors import ERROR_TABLE
from functions.core.history.port import CREATED_AT_FORMAT, DEFAULT_LIMIT, MAX_LIMIT, MIN_LIMIT
from functions.core.limits import MAX_IMAGE_BYTES, SIDE
from functions.core.tasks import INVOKE_MODEL, PREPROCESS, VALIDATE

OPENAPI_VERSION = "3.0.3"
TITLE = "Digit recognition API"
# The contract's own version: raised when a change could break a caller.
API_VERSION = "1.0"
# Persist stores the item, so its own timing cannot be in it.
ITEM_STAGES = (VALIDATE.stage, PREPROCESS.stage, INVOKE_MODEL.stage)
# Base64 of the 28x28 uint8 thumbnail, padding included.
THUMBNAIL_LENGTH = 4 * math.ceil(SIDE * SIDE / 3)
# Every operation may meet the stage's throttling (or WAF's rate limit) and a fault of ours.
EVERY_OPERATION_ERRORS = ("Throttled", "InternalError")


def openapi_document() -> dict[str, Any]:
    """The whole document (a fresh copy each call)."""
    document: dict[str, Any] = json.loads(document_json())
    return document


@cache
def document_json() -> str:
    """The document as the stacks serve it (indented, UTF-8 text)."""
    return json.dumps(_build(), indent=2, ensure_ascii=False) + "\n"


def _build() -> dict[str, Any]:
    operations = _operations()
    # Every route with every method it has, in the routes' order (a route
    # without its operation here fails at once, on every stack and in the tests).
    paths = {path: {method.lower(): operations[path, method] for method in methods} for path, methods in ROUTES.items()}
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": TITLE,
            "version": API_VERSION,
            "description": _DESCRIPTION,
        },
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "parameters": _parameters(),
            "responses": _error_responses(),
        },
    }


_DESCRIPTION = (
    "Recognise a handwritten digit and keep every prediction in a history its "
    "client can browse, correct and delete. The same contract on every stack: "
    "the local one (`make run`) and each deployed one behind CloudFront.\n\n"
    "A `clientId` is a bearer name, not an account: whoever knows one can read "
    'its history. Every error is `{"error": {"code", "message"}}` with the '
    "status of its code; an unknown path or a method a path does not have is "
    "404 `NotFound`.\n\n"
    f"Request bodies are JSON (RFC 8259: no `NaN`, text that is Unicode), at most "
    f"{MAX_BODY_BYTES // 1024} KB and {MAX_JSON_DEPTH} levels deep; the image at most "
    f"{MAX_IMAGE_BYTES // 1024} KB once decoded."
)


def _operations() -> dict[tuple[str, str], dict[str, Any]]:
    client_id, item_id = _parameter("clientId"), _parameter("id")
    return {
        ("/api/predictions", "POST"): {
            "operationId": "createPrediction",
            "summary": "Recognise the digit in an image and keep the prediction",
            "description": (
                "Runs the whole workflow (validate, preprocess, model, store) before it "
                "answers. `image` is base64 or a `data:` URL of a PNG, JPEG, WebP, GIF or "
                "BMP file. Fields other than `image` and `clientId` are ignored."
            ),
            "requestBody": _body("PredictionRequest"),
            "responses": {
                "200": _json("The prediction, as it is now stored in the history.", "Prediction", links=_item_links()),
                **_errors(
                    "BadRequest",
                    "InvalidImage",
                    "ImageTooLarge",
                    "UnsupportedImageType",
                    "NoDigitFound",
                    "ModelUnavailable",
                ),
            },
        },
        ("/api/predictions", "GET"): {
            "operationId": "listPredictions",
            "summary": "A client's predictions, newest first, a page at a time",
            "parameters": [client_id, _parameter("limit"), _parameter("cursor")],
            "responses": {"200": _json("One page of the history.", "PredictionPage"), **_errors("BadRequest")},
        },
        ("/api/predictions", "DELETE"): {
            "operationId": "clearPredictions",
            "summary": "Remove a client's whole history (only theirs)",
            "parameters": [client_id],
            "responses": {"204": {"description": "The client's history is empty."}, **_errors("BadRequest")},
        },
        ("/api/predictions/{id}", "GET"): {
            "operationId": "getPrediction",
            "summary": "One prediction of this client",
            "parameters": [item_id, client_id],
            "responses": {
                "200": _json("The prediction.", "Prediction", links=_item_links(get=False)),
                **_errors("BadRequest", "NotFound"),
            },
        },
        ("/api/predictions/{id}", "DELETE"): {
            "operationId": "deletePrediction",
            "summary": "Remove one prediction of this client",
            "parameters": [item_id, client_id],
            "responses": {
                "204": {"description": "The prediction is gone."},
                **_errors("BadRequest", "NotFound"),
            },
        },
        ("/api/predictions/{id}/feedback", "POST"): {
            "operationId": "recordFeedback",
            "summary": "Correct a prediction: the digit it really is",
            "parameters": [item_id],
            "requestBody": _body("Feedback"),
            "responses": {
                "200": _json(
                    "The prediction with its `feedbackLabel`.", "Prediction", links=_item_links(feedback=False)
                ),
                **_errors("BadRequest", "NotFound", "ImageTooLarge"),
            },
        },
        ("/api/health", "GET"): {
            "operationId": "getHealth",
            "summary": "Whether the API answers",
            "responses": {"200": _json("The API answers.", "Health"), **_errors()},
        },
        (DOCUMENT_PATH, "GET"): {
            "operationId": "getOpenApiDocument",
            "summary": "This document",
            "responses": {
                "200": {"description": "The OpenAPI document.", "content": {JSON: {"schema": {"type": "object"}}}},
                **_errors(),
            },
        },
    }


def _item_links(get: bool = True, feedback: bool = True) -> dict[str, Any]:
    """What a caller can do next with the item in a response: stateful tests follow these."""
    item = {"id": "$response.body#/id", "clientId": "$response.body#/clientId"}
    links: dict[str, Any] = {}
    if get:
        links["GetPrediction"] = {"operationId": "getPrediction", "parameters": item}
    if feedback:
        links["RecordFeedback"] = {
            "operationId": "recordFeedback",
            "parameters": {"id": "$response.body#/id"},
            "requestBody": {"clientId": "$response.body#/clientId", "label": "$response.body#/digit"},
        }
    links["ListPredictions"] = {
        "operationId": "listPredictions",
        "parameters": {"clientId": "$response.body#/clientId"},
    }
    links["DeletePrediction"] = {"operationId": "deletePrediction", "parameters": item}
    links["ClearPredictions"] = {
        "operationId": "clearPredictions",
        "parameters": {"clientId": "$response.body#/clientId"},
    }
    return links


def _parameters() -> dict[str, Any]:
    return {
        "clientId": {
            "name": "clientId",
            "in": "query",
            "required": True,
            "description": "The caller's client id: only its own predictions are ever seen.",
            "schema": {"type": "string", "pattern": CLIENT_ID_PATTERN},
        },
        "limit": {
            "name": "limit",
            "in": "query",
            "required": False,
            "description": "Predictions per page.",
            "schema": {"type": "integer", "minimum": MIN_LIMIT, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        },
        "cursor": {
            "name": "cursor",
            "in": "query",
            "required": False,
            "description": "The `nextCursor` of the previous page (opaque); none for the first page.",
            "schema": {"type": "string"},
        },
        "id": {
            "name": "id",
            "in": "path",
            "required": True,
            "description": "The prediction's `id`.",
            "schema": {"type": "string"},
        },
    }


def _schemas() -> dict[str, Any]:
    probability = {"type": "number", "minimum": 0, "maximum": 1}
    digit = {"type": "integer", "minimum": 0, "maximum": 9}
    count = {"type": "integer", "minimum": 1}
    milliseconds = {"type": "number", "minimum": 0}
    return {
        "PredictionRequest": _openapi_schema(PREDICTION_REQUEST_SCHEMA),
        "Feedback": _openapi_schema(FEEDBACK_SCHEMA),
        "Prediction": _closed(
            {
                "id": {"type": "string", "format": "uuid"},
                "clientId": {"type": "string", "pattern": CLIENT_ID_PATTERN},
                "digit": digit,
                "confidence": {**probability, "description": "Calibrated probability that `digit` is right."},
                "lowConfidence": {
                    "type": "boolean",
                    "description": "The model is unsure, or the image is probably not a digit at all.",
                },
                "probabilities": {"type": "array", "items": probability, "minItems": 10, "maxItems": 10},
                "modelVersion": {"type": "string", "minLength": 1},
                "createdAt": {"type": "string", "format": "date-time", "pattern": f"^{CREATED_AT_FORMAT.pattern}$"},
                "input": _closed(
                    {
                        "format": {"type": "string", "minLength": 1},
                        "width": count,
                        "height": count,
                        "bytes": count,
                        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    }
                ),
                "thumbnail": {
                    "type": "string",
                    "format": "byte",
                    "minLength": THUMBNAIL_LENGTH,
                    "maxLength": THUMBNAIL_LENGTH,
                    "description": f"Base64 of the {SIDE}x{SIDE} 8-bit grey image the model saw, row by row.",
                },
                "timingsMs": {
                    "type": "object",
                    "properties": {stage: milliseconds for stage in ITEM_STAGES},
                    "required": list(ITEM_STAGES),
                    "additionalProperties": milliseconds,
                },
                "feedbackLabel": {**digit, "description": "A person's correction, once made."},
            },
            optional=("feedbackLabel",),
        ),
        "PredictionPage": _closed(
            {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Prediction"}, "maxItems": MAX_LIMIT},
                "nextCursor": {
                    "type": "string",
                    "nullable": True,
                    "description": "The next page's `cursor`; null on the last page.",
                },
            }
        ),
        "Health": {
            "type": "object",
            "required": ["status", "stack"],
            "properties": {"status": {"type": "string", "enum": ["ok"]}, "stack": {"type": "string"}},
        },
    }


def _error_responses() -> dict[str, Any]:
    """One response per status of the error table, naming its codes."""
    responses = {}
    for status, codes in _codes_by_status(ERROR_TABLE).items():
        described = "\n".join(f"- `{code}`: {ERROR_TABLE[code].default_message}" for code in codes)
        responses[_error_name(status)] = {
            "description": described,
            "content": {
                JSON: {
                    "schema": _closed(
                        {
                            "error": _closed(
                                {
                                    "code": {"type": "string", "enum": list(codes)},
                                    "message": {
                                        "type": "string",
                                        "minLength": 1,
                                        "description": "For a person to read.",
                                    },
                                }
                            ),
                        }
                    )
                }
            },
        }
    return responses


def _errors(*codes: str) -> dict[str, Any]:
    statuses = sorted({ERROR_TABLE[code].status for code in (*codes, *EVERY_OPERATION_ERRORS)})
    return {str(status): {"$ref": f"#/components/responses/{_error_name(status)}"} for status in statuses}


def _codes_by_status(table: dict[str, Any]) -> dict[int, list[str]]:
    by_status: dict[int, list[str]] = defaultdict(list)
    for code, cls in table.items():
        by_status[cls.status].append(code)
    return dict(sorted(by_status.items()))


def _error_name(status: int) -> str:
    return f"Error{status}"


def _parameter(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _json(description: str, schema: str, links: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }
    if links:
        response["links"] = links
    return response


def _closed(properties: dict[str, Any], optional: Iterable[str] = ()) -> dict[str, Any]:
    """An object with exactly these properties, all required but ``optional``."""
    return {
        "type": "object",
        "required": [name for name in properties if name not in set(optional)],
        "properties": properties,
        "additionalProperties": False,
    }


def _openapi_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A draft 4 schema of API Gateway's as an OpenAPI 3.0 schema object, which
    has no ``$schema``; draft 4's keywords are otherwise OpenAPI 3.0's."""
    return {key: value for key, value in schema.items() if key != "$schema"}
