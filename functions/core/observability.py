"""Structured logs and CloudWatch metrics (embedded metric format), via
aws-lambda-powertools.

Logs: one JSON object per line, with ``service``, ``level``, ``message`` and the
workflow's ``requestId`` (the API request id) on every line of an invocation.

Metrics, in namespace ``POWERTOOLS_METRICS_NAMESPACE``, each with the dimension
``service`` (``POWERTOOLS_SERVICE_NAME``) plus the ones listed:

| metric | unit | extra dimensions | emitted by |
|---|---|---|---|
| ``StageLatency`` | Milliseconds | ``Stage`` = validate, preprocess, invokeModel, persist | every workflow task |
| ``PredictedDigit`` | Count (1 per prediction) | ``Digit`` = 0..9 | invoke_model |
| ``Confidence`` | None (0..1) | - | invoke_model |
| ``LowConfidence`` | Count (1 if below ``LOW_CONFIDENCE_THRESHOLD``, else 0) | - | invoke_model |

Every emission uses its own metric set (``EphemeralMetrics``) and is flushed at
once, so concurrent invocations in one process (the local stack) never mix.
Set ``POWERTOOLS_METRICS_DISABLED=true`` to silence metrics locally.

Whatever the function's log level, the loggers of ``QUIET_LIBRARIES`` never go
below INFO: at DEBUG (dev) the Lambda runtime sets the root logger to DEBUG,
and botocore then logs every signed request (access key id, session token,
signature, request parameters), urllib3 every connection and PIL the chunks of
people's images.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

STAGE_LATENCY = "StageLatency"
PREDICTED_DIGIT = "PredictedDigit"
CONFIDENCE = "Confidence"
LOW_CONFIDENCE = "LowConfidence"
# Powertools adds this dimension (POWERTOOLS_SERVICE_NAME) to every metric.
SERVICE_DIMENSION = "service"
STAGE_DIMENSION = "Stage"
DIGIT_DIMENSION = "Digit"
# Each metric's dimension names, as published: what dashboards must ask for.
METRIC_DIMENSIONS: dict[str, frozenset[str]] = {
    STAGE_LATENCY: frozenset({SERVICE_DIMENSION, STAGE_DIMENSION}),
    PREDICTED_DIGIT: frozenset({SERVICE_DIMENSION, DIGIT_DIMENSION}),
    CONFIDENCE: frozenset({SERVICE_DIMENSION}),
    LOW_CONFIDENCE: frozenset({SERVICE_DIMENSION}),
}

QUIET_LIBRARIES = ("botocore", "boto3", "urllib3", "PIL")


def keep_libraries_quiet() -> None:
    """Raises each of ``QUIET_LIBRARIES``' loggers to INFO if the root logger's
    level would let its DEBUG lines through; a higher level stays."""
    for name in QUIET_LIBRARIES:
        library = logging.getLogger(name)
        library.setLevel(max(logging.INFO, library.getEffectiveLevel()))


@dataclass(frozen=True)
class Observability:
    logger: Logger
    service: str
    namespace: str

    @classmethod
    def create(cls, service: str, namespace: str, log_level: str) -> Observability:
        """Every handler is built through here, after the Lambda runtime has set
        the root logger's level: the place to keep the libraries quiet."""
        keep_libraries_quiet()
        return cls(Logger(service=service, level=log_level), service, namespace)

    def bind_request(self, request_id: str | None) -> None:
        """Tags this thread's following log lines with the workflow's request id."""
        self.logger.thread_safe_clear_keys()
        if request_id:
            self.logger.thread_safe_append_keys(requestId=request_id)

    def stage_latency(self, stage: str, milliseconds: float) -> None:
        self._emit({STAGE_DIMENSION: stage}, (STAGE_LATENCY, MetricUnit.Milliseconds, milliseconds))

    def prediction(self, digit: int, confidence: float, low_confidence: bool) -> None:
        self._emit({DIGIT_DIMENSION: str(digit)}, (PREDICTED_DIGIT, MetricUnit.Count, 1))
        self._emit(
            {},
            (CONFIDENCE, MetricUnit.NoUnit, confidence),
            (LOW_CONFIDENCE, MetricUnit.Count, 1 if low_confidence else 0),
        )

    def _emit(self, dimensions: dict[str, str], *metrics: tuple[str, MetricUnit, Any]) -> None:
        metric_set = EphemeralMetrics(namespace=self.namespace, service=self.service)
        for name, value in dimensions.items():
            metric_set.add_dimension(name=name, value=value)
        for name, unit, value in metrics:
            metric_set.add_metric(name=name, unit=unit, value=value)
        metric_set.flush_metrics()
