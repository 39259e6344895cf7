"""One CloudWatch Logs Insights query, waited for within a bounded time.

``StartQuery`` returns at once with a query id; ``GetQueryResults`` reports
``Scheduled`` or ``Running`` until the query ends ``Complete`` (or ``Failed``,
``Cancelled``, ``Timeout``, ``Unknown``). Each result row is a list of
``{"field", "value"}`` pairs, ``@ptr`` among them; fields an event lacks are absent.
A query abandoned here is stopped (``StopQuery``) so it does not run on, billed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

DEFAULT_TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 1.0
ENDED_UNFINISHED = ("Failed", "Cancelled", "Timeout", "Unknown")


class QueryTimeout(RuntimeError):
    """Logs Insights did not finish in time; the message says what to try."""


class QueryFailed(RuntimeError):
    """Logs Insights ended the query without results."""


def run_query(
    logs: Any,
    log_group: str,
    query: str,
    start: datetime,
    end: datetime,
    *,
    limit: int,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict[str, str]]:
    """The query's rows (field name to value, ``@ptr`` left out) over ``[start, end]``."""
    query_id = str(
        logs.start_query(
            logGroupName=log_group,
            startTime=int(start.timestamp()),
            endTime=int(end.timestamp()),
            queryString=query,
            limit=limit,
        )["queryId"]
    )
    deadline = clock() + timeout_seconds
    while True:
        answer = logs.get_query_results(queryId=query_id)
        status = str(answer["status"])
        if status == "Complete":
            return [
                {
                    str(cell["field"]): str(cell["value"])
                    for cell in row
                    if cell.get("field") != "@ptr" and "value" in cell
                }
                for row in answer.get("results", [])
            ]
        if status in ENDED_UNFINISHED:
            raise QueryFailed(
                f"Logs Insights ended the query on {log_group} with status {status}: try again, or a shorter --since"
            )
        if clock() >= deadline:
            _stop(logs, query_id)
            raise QueryTimeout(
                f"Logs Insights did not finish the query on {log_group} within {timeout_seconds:g} s "
                f"(status {status}): try a shorter --since or a longer --timeout"
            )
        sleep(POLL_SECONDS)


def _stop(logs: Any, query_id: str) -> None:
    with contextlib.suppress(ClientError):  # it ended meanwhile: nothing left to stop
        logs.stop_query(queryId=query_id)
