"""The history API: API Gateway REST proxy events in, proxy responses out.

- ``GET /api/predictions?clientId=..&limit=..&cursor=..`` ->
  ``{"items": [...newest first], "nextCursor": str | null}`` (limit 1-100, default 20)
- ``GET /api/predictions/{id}?clientId=..`` -> the item, or 404 ``NotFound``
- ``POST /api/predictions/{id}/feedback`` body ``{"clientId", "label": 0-9}``
  -> the item with ``feedbackLabel``
- ``DELETE /api/predictions/{id}?clientId=..`` -> 204, or 404 ``NotFound``
  for an item that is absent or another client's
- ``DELETE /api/predictions?clientId=..`` -> 204 once the client's whole
  history is gone (only theirs)

Every failure is the contract's ``{"error": {"code", "message"}}`` with the
error table's status; unexpected ones are logged and answered as
``InternalError`` without internals. Routing is aws-lambda-powertools'
``APIGatewayRestResolver``; routes include the ``/api`` prefix, as the
CloudFront origin path and the local server send it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.core.config import HistoryApiSettings
from functions.handlers._runtime import Handler, cold_start

if TYPE_CHECKING:
    from functions.core.history.port import HistoryStore


def build(settings: HistoryApiSettings, store: HistoryStore | None = None) -> Handler:
    """``store``: where items are (default: the one ``settings.history`` names)."""
    import json
    import threading
    from http import HTTPStatus

    from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

    from functions.core.api_contract import NO_SUCH_ROUTE, parse_body
    from functions.core.errors import DigitError, InternalError, NotFound
    from functions.core.history.api_parameters import parse_feedback, parse_limit
    from functions.core.history.open_store import open_history_store
    from functions.core.predictions import check_client_id
    from functions.handlers._tasks import observability

    history = store or open_history_store(settings.history)
    obs = observability(settings)
    app = APIGatewayRestResolver()
    # The resolver keeps the current event on itself: one request at a time
    # (Lambda never overlaps them; the local server's threads could).
    resolving = threading.Lock()

    def error_response(error: DigitError) -> Response[str]:
        return Response(status_code=error.status, content_type="application/json", body=json.dumps(error.to_body()))

    def query(name: str) -> str | None:
        return app.current_event.get_query_string_value(name)

    @app.get("/api/predictions")
    def list_predictions() -> dict[str, Any]:
        client_id = check_client_id(query("clientId"))
        limit = parse_limit(query("limit"))
        page = history.list(client_id, limit, query("cursor") or None)
        return {"items": page.items, "nextCursor": page.next_cursor}

    @app.get("/api/predictions/<item_id>")
    def get_prediction(item_id: str) -> dict[str, Any]:
        client_id = check_client_id(query("clientId"))
        return history.get(client_id, item_id)

    @app.post("/api/predictions/<item_id>/feedback")
    def record_feedback(item_id: str) -> dict[str, Any]:
        body = app.current_event.body or ""
        # JSON as the contract takes it, checked here on every stack: a lone
        # surrogate escape or deep nesting is JSON syntax a validator lets through.
        parse_body(body)
        client_id, label = parse_feedback(body)
        return history.set_feedback(client_id, item_id, label)

    @app.delete("/api/predictions/<item_id>")
    def delete_prediction(item_id: str) -> Response[str]:
        client_id = check_client_id(query("clientId"))
        history.delete(client_id, item_id)
        return Response(status_code=HTTPStatus.NO_CONTENT)

    @app.delete("/api/predictions")
    def clear_predictions() -> Response[str]:
        client_id = check_client_id(query("clientId"))
        removed = history.clear(client_id)
        obs.logger.info("history cleared", extra={"items": removed})
        return Response(status_code=HTTPStatus.NO_CONTENT)

    @app.exception_handler(DigitError)  # type: ignore[untyped-decorator]  # Powertools' decorator is untyped
    def known_failure(error: DigitError) -> Response[str]:
        # A store's failure keeps its cause (the storage's own error) for the log, as a task's does.
        log = obs.logger.warning if error.status >= 500 else obs.logger.info
        log(
            "request failed",
            extra={"error": error.code, "path": app.current_event.path, "cause": repr(error.__cause__)},
        )
        return error_response(error)

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def unexpected_failure(error: Exception) -> Response[str]:
        obs.logger.exception("request failed unexpectedly", extra={"path": app.current_event.path})
        return error_response(InternalError())

    @app.not_found
    def no_route(error: Exception) -> Response[str]:
        # A path the gateway routes here that no route here matches (e.g. an id
        # with characters an id never has): what the gateway says of unknown paths.
        return error_response(NotFound(NO_SUCH_ROUTE))

    def handler(event: Any, context: Any) -> dict[str, Any]:
        request_context = event.get("requestContext") if isinstance(event, dict) else None
        obs.bind_request(request_context.get("requestId") if isinstance(request_context, dict) else None)
        with resolving:
            return app.resolve(event, context)

    return handler


handler = cold_start(build, HistoryApiSettings)
