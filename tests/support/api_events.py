"""The event API Gateway's REST proxy integration sends a Lambda, for tests and
benches that call a handler directly: the one builder, so that every such event
has the shape AWS documents ("Input format of a Lambda function for proxy
integration", API Gateway Developer Guide) and the local server sends
(``local/server.py``; tests/unit/test_api_events.py holds the two together).

What API Gateway fills in from the request is filled in the same way here:
``resource`` and ``pathParameters`` from the contract's route the path is a
call of; ``queryStringParameters``, ``multiValueQueryStringParameters``,
``pathParameters`` and ``body`` are null when the request has none.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from functions.core.api_contract import ROUTES

REQUEST_ID = "api-request"
STAGE = "test"
SOURCE_IP = "127.0.0.1"
# A fixed time of request (epoch milliseconds), so that events compare equal.
REQUEST_TIME_EPOCH_MS = 1_700_000_000_000


def api_gateway_event(
    method: str,
    path: str,
    query: Mapping[str, str] | None = None,
    body: Any = None,
    *,
    headers: Mapping[str, str] | None = None,
    request_id: str = REQUEST_ID,
    stage: str = STAGE,
) -> dict[str, Any]:
    """The proxy event of ``method path?query``. ``body``: JSON text as sent,
    or a value sent as its JSON; ``headers`` as the client sent them."""
    resource, path_parameters = _route_of(path)
    sent_headers = dict(headers or {})
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": sent_headers,
        "multiValueHeaders": {name: [value] for name, value in sent_headers.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {name: [value] for name, value in query.items()} if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "requestId": request_id,
            "resourcePath": resource,
            "httpMethod": method,
            "path": path,
            "stage": stage,
            "requestTimeEpoch": REQUEST_TIME_EPOCH_MS,
            "identity": {"sourceIp": SOURCE_IP},
        },
        "body": body if body is None or isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }


def _route_of(path: str) -> tuple[str, dict[str, str] | None]:
    """The contract's resource ``path`` calls and its path parameters; a path
    of no route is its own resource, without parameters."""
    segments = path.split("/")
    for resource in ROUTES:
        template = resource.split("/")
        if len(template) != len(segments):
            continue
        pairs = list(zip(template, segments, strict=True))
        parameters = {part[1:-1]: segment for part, segment in pairs if part.startswith("{")}
        literals_match = all(part == segment for part, segment in pairs if not part.startswith("{"))
        if literals_match and all(parameters.values()):
            return resource, parameters or None
    return path, None
