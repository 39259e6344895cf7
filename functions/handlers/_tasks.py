"""What the workflow's task handlers share: logs, metrics and failure reports.

A task reports a failure by raising the error table's exception: its class
name is the Lambda ``errorType`` that the workflow's Retry and Catch match.
Anything unexpected is logged with its stack trace and raised as a bare
``InternalError``, so no internals reach the caller.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from functions.core.config import FunctionSettings
from functions.core.deadline import Deadline
from functions.core.errors import DigitError, InternalError
from functions.core.observability import Observability
from functions.core.predictions import with_timing
from functions.handlers._runtime import Handler

State = dict[str, Any]


def observability(settings: FunctionSettings) -> Observability:
    return Observability.create(settings.service_name, settings.metrics_namespace, settings.log_level)


def task_handler(
    stage: str, obs: Observability, work: Callable[[Any, Deadline], State], adds_timing: bool = True
) -> Handler:
    """A workflow task: ``work`` maps the state to the next one, within the
    task's deadline. Its duration is logged, emitted as ``StageLatency`` and,
    if ``adds_timing``, added to the state's ``timingsMs``."""

    def handler(event: Any, context: Any) -> State:
        deadline = Deadline.of_invocation(context)
        obs.bind_request(event.get("requestId") if isinstance(event, dict) else None)
        started = time.perf_counter()
        try:
            result = work(event, deadline)
        except DigitError as error:
            log = obs.logger.warning if error.status >= 500 else obs.logger.info
            log("task failed", extra={"stage": stage, "error": error.code, "cause": repr(error.__cause__)})
            raise
        except Exception:
            obs.logger.exception("task failed unexpectedly", extra={"stage": stage})
            raise InternalError() from None
        elapsed = (time.perf_counter() - started) * 1000
        obs.stage_latency(stage, elapsed)
        obs.logger.info("task done", extra={"stage": stage, "durationMs": round(elapsed, 3)})
        return with_timing(result, event.get("timingsMs"), stage, elapsed) if adds_timing else result

    return handler
