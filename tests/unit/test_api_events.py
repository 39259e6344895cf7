"""The tests' API Gateway proxy event (tests/support/api_events.py) against the
two things it stands for: Powertools' reading of a REST proxy event (what the
history handler's resolver reads) and the event the local server builds from a
real request (``local/server.py``). AWS's format: "Input format of a Lambda
function for proxy integration", API Gateway Developer Guide."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from local.server import ServerSettings, create_app
from tests.support.api_events import REQUEST_TIME_EPOCH_MS, SOURCE_IP, STAGE, api_gateway_event

ITEM_ID = "0b6f2c1e-item"
# One request of each history route: method, path, query, body.
REQUESTS: list[tuple[str, str, dict[str, str] | None, str | None]] = [
    ("GET", "/api/predictions", {"clientId": "client-1", "limit": "5", "cursor": "abc"}, None),
    ("GET", f"/api/predictions/{ITEM_ID}", {"clientId": "client-1"}, None),
    ("POST", f"/api/predictions/{ITEM_ID}/feedback", None, '{"clientId":"client-1","label":3}'),
    ("DELETE", f"/api/predictions/{ITEM_ID}", {"clientId": "client-1"}, None),
    ("DELETE", "/api/predictions", {"clientId": "client-1"}, None),
]
# What the local server fills in from its own request: the id, stage, time and caller.
PER_REQUEST = ("requestId", "stage", "requestTimeEpoch", "identity")


class _NoEngine:
    """The history routes never start an execution."""

    def start_sync_execution(self, input: str, name: str | None = None) -> dict[str, Any]:  # noqa: A002 - the API's name
        raise AssertionError("a history route started an execution")

    def list_executions(self, limit: int) -> list[dict[str, Any]]:
        raise AssertionError("a history route listed executions")

    def describe_execution(self, arn: str) -> dict[str, Any]:
        raise AssertionError("a history route described an execution")


def _served_event(site_dir: Path, method: str, path: str, query: dict[str, str] | None, body: str | None) -> Any:
    """The event the local server hands the history Lambda for this request."""
    received: list[dict[str, Any]] = []

    def history(event: dict[str, Any], context: Any) -> dict[str, Any]:
        received.append(event)
        return {"statusCode": 200, "body": "{}"}

    async def call() -> httpx.Response:
        app = create_app(_NoEngine(), history, ServerSettings(site_dir=site_dir))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            headers = {"content-type": "application/json"} if body is not None else {}
            return await client.request(method, path, params=query, content=body, headers=headers)

    # In a thread of its own: Playwright's sync API keeps an event loop running in
    # the main thread for the rest of a session that ran the browser tests.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as worker:
        response = worker.submit(anyio.run, call).result()
    assert response.status_code == 200, response.text
    [event] = received
    return event


@pytest.mark.parametrize(("method", "path", "query", "body"), REQUESTS)
def test_given_a_built_event_then_powertools_reads_back_every_field_as_built(
    method: str, path: str, query: dict[str, str] | None, body: str | None
) -> None:
    built = api_gateway_event(method, path, query, body, headers={"Content-Type": "application/json"})

    event = APIGatewayProxyEvent(built)

    assert (event.http_method, event.path) == (method, path)
    assert event.query_string_parameters == (query or {})
    assert event.multi_value_query_string_parameters == {name: [value] for name, value in (query or {}).items()}
    for name, value in (query or {}).items():
        assert event.get_query_string_value(name) == value
    assert event.body == body and event.is_base64_encoded is False
    assert body is None or event.json_body == {"clientId": "client-1", "label": 3}
    assert event.headers["content-type"] == "application/json"
    assert event.multi_value_headers == {"Content-Type": ["application/json"]}
    assert event.stage_variables == {}
    context = event.request_context
    assert (context.request_id, context.stage, context.http_method, context.path) == (
        "api-request",
        STAGE,
        method,
        path,
    )
    assert (context.resource_path, context.request_time_epoch) == (event.resource, REQUEST_TIME_EPOCH_MS)
    assert context.identity.source_ip == SOURCE_IP


@pytest.mark.parametrize(
    ("path", "resource", "path_parameters"),
    [
        ("/api/predictions", "/api/predictions", None),
        (f"/api/predictions/{ITEM_ID}", "/api/predictions/{id}", {"id": ITEM_ID}),
        (f"/api/predictions/{ITEM_ID}/feedback", "/api/predictions/{id}/feedback", {"id": ITEM_ID}),
        # No route of the contract: API Gateway never sends it; the event still names the path.
        ("/api/predictions/a/b", "/api/predictions/a/b", None),
        ("/api/predictions/", "/api/predictions/", None),
    ],
)
def test_given_a_path_then_the_event_names_the_contract_s_resource_and_path_parameters_as_api_gateway_does(
    path: str, resource: str, path_parameters: dict[str, str] | None
) -> None:
    event = APIGatewayProxyEvent(api_gateway_event("GET", path))

    assert (event.resource, event.request_context.resource_path) == (resource, resource)
    assert event.get("pathParameters") == path_parameters
    assert event.path_parameters == (path_parameters or {})


@pytest.mark.parametrize(("method", "path", "query", "body"), REQUESTS)
def test_given_the_same_request_then_the_local_server_sends_the_built_event_but_for_what_is_per_request(
    tmp_path: Path, method: str, path: str, query: dict[str, str] | None, body: str | None
) -> None:
    served = _served_event(tmp_path, method, path, query, body)
    built = api_gateway_event(method, path, query, body, headers=served["headers"])

    assert set(built) == set(served)
    assert set(built["requestContext"]) == set(served["requestContext"])
    assert set(built["requestContext"]["identity"]) == set(served["requestContext"]["identity"])
    assert {key: value for key, value in built.items() if key != "requestContext"} == {
        key: value for key, value in served.items() if key != "requestContext"
    }
    assert {key: value for key, value in built["requestContext"].items() if key not in PER_REQUEST} == {
        key: value for key, value in served["requestContext"].items() if key not in PER_REQUEST
    }
