"""The dashboard names this stack's real resources; alarm filters come from the error table."""

from __future__ import annotations

import json
import re
from typing import Any

from components.monitoring import server_failure_pattern
from functions.core.errors import CLIENT_ERROR_CODES
from tests.infra.records import StackRecord, settings_of


def _dashboard(stack: StackRecord) -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(stack.inputs("aws:cloudwatch/dashboard:Dashboard")["dashboardBody"])
    return dashboard


def _metrics(dashboard: dict[str, Any]) -> list[list[Any]]:
    return [m for w in dashboard["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]]


def test_given_each_stack_then_the_dashboard_watches_every_part_by_its_real_name(stack: StackRecord) -> None:
    metrics = _metrics(_dashboard(stack))
    dimension_values = {str(value) for metric in metrics for value in metric if isinstance(value, str)}
    expected = {
        stack.inputs("aws:apigateway/restApi:RestApi")["name"],
        stack.one("aws:sfn/stateMachine:StateMachine")["arn"],
        stack.inputs("aws:sagemaker/endpoint:Endpoint")["name"],
        stack.inputs("aws:dynamodb/table:Table")["name"],
        *(f["inputs"]["name"] for f in stack.of_type("aws:lambda/function:Function")),
    }
    assert expected <= dimension_values
    namespaces = {m[0] for m in metrics if isinstance(m[0], str) and m[0] != "."}
    assert {"AWS/ApiGateway", "AWS/States", "AWS/Lambda", "AWS/SageMaker", "AWS/DynamoDB"} <= namespaces


def test_given_each_stack_then_the_dashboard_shows_the_custom_metrics_of_its_namespace(stack: StackRecord) -> None:
    namespace = settings_of(stack.stack).metrics_namespace
    expressions = [m[0]["expression"] for m in _metrics(_dashboard(stack)) if isinstance(m[0], dict)]
    shown = {re.search(r'MetricName="(\w+)"', e).group(1) for e in expressions if f'Namespace="{namespace}"' in e}  # type: ignore[union-attr]
    assert shown == {"StageLatency", "PredictedDigit", "Confidence", "LowConfidence"}


def test_given_each_stack_then_the_dashboard_queries_the_workflow_log_group(stack: StackRecord) -> None:
    (log_widget,) = [w for w in _dashboard(stack)["widgets"] if w["type"] == "log"]
    group = stack.inputs("aws:cloudwatch/logGroup:LogGroup", "workflow-logs")["name"]
    assert log_widget["properties"]["query"].startswith(f"SOURCE '{group}'")


def test_given_the_error_table_then_failed_execution_alarms_ignore_the_callers_mistakes() -> None:
    pattern = server_failure_pattern()
    assert all(f'$.details.error != "{code}"' in pattern for code in CLIENT_ERROR_CODES)
    assert "InternalError" not in pattern and "ModelUnavailable" not in pattern


def test_given_prod_then_the_failure_filter_reads_the_workflow_logs(stacks: dict[str, StackRecord]) -> None:
    prod = stacks["prod"]
    metric_filter = prod.inputs("aws:cloudwatch/logMetricFilter:LogMetricFilter")
    assert metric_filter["logGroupName"] == prod.inputs("aws:cloudwatch/logGroup:LogGroup", "workflow-logs")["name"]
    assert metric_filter["pattern"] == server_failure_pattern()
