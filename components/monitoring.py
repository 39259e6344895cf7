"""Monitoring: a CloudWatch dashboard per stack and, when enabled, alarms
(API 5xx rate, server-side workflow failures, p99 latency, throttles) that
e-mail an SNS topic."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import pulumi
import pulumi_aws as aws

from components.api import Api
from components.model_endpoint import VARIANT_NAME, ModelEndpoint
from components.settings import FUNCTION_NAMES, StackSettings
from components.storage import Storage
from components.workflow import Workflow
from functions.core.errors import CLIENT_ERROR_CODES

CUSTOM_METRICS = ("StageLatency", "PredictedDigit", "Confidence", "LowConfidence")
PERIOD = 60


@dataclass(frozen=True)
class MonitoredNames:
    """The physical names of what the dashboard and alarms watch."""

    api_name: str
    stage_name: str
    state_machine_arn: str
    workflow_log_group: str
    function_names: Mapping[str, str]
    endpoint_name: str
    table_name: str


def monitored_names(
    api: Api, workflow: Workflow, model: ModelEndpoint, storage: Storage
) -> pulumi.Output[MonitoredNames]:
    """The names of the stack's parts, once AWS has given them."""
    functions = pulumi.Output.all(**{key: function.name for key, function in workflow.functions.items()})
    return pulumi.Output.all(
        api_name=api.rest_api.name,
        stage_name=api.stage.stage_name,
        state_machine_arn=workflow.state_machine.arn,
        workflow_log_group=workflow.log_group.name,
        function_names=functions,
        endpoint_name=model.endpoint.name,
        table_name=storage.table.name,
    ).apply(lambda names: MonitoredNames(**names))


def _metric_widget(title: str, metrics: list[list[Any]], region: str, stat: str = "Sum") -> dict[str, Any]:
    return {
        "type": "metric",
        "width": 12,
        "height": 6,
        "properties": {"title": title, "region": region, "stat": stat, "period": PERIOD, "view": "timeSeries",
                       "metrics": metrics},
    }


def dashboard_body(names: MonitoredNames, settings: StackSettings) -> str:
    """The dashboard JSON: one widget per part of the stack, named by its real resources."""
    region = settings.region
    api = ["ApiName", names.api_name, "Stage", names.stage_name]
    states = ["StateMachineArn", names.state_machine_arn]
    endpoint = ["EndpointName", names.endpoint_name, "VariantName", VARIANT_NAME]
    table = ["TableName", names.table_name]
    widgets = [
        _metric_widget("API requests and errors", [
            ["AWS/ApiGateway", "Count", *api], [".", "4XXError", *api], [".", "5XXError", *api],
        ], region),
        _metric_widget("API latency (ms)", [
            ["AWS/ApiGateway", "Latency", *api, {"stat": "p50"}], [".", "Latency", *api, {"stat": "p99"}],
            [".", "IntegrationLatency", *api, {"stat": "p99"}],
        ], region, "p99"),
        _metric_widget("Workflow executions", [
            ["AWS/States", metric, *states] for metric in
            ("ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionThrottled")
        ], region),
        _metric_widget("Workflow duration (ms)", [["AWS/States", "ExecutionTime", *states]], region, "p99"),
        *[
            _metric_widget(f"Lambda {function}", [
                ["AWS/Lambda", "Invocations", "FunctionName", name], [".", "Errors", "FunctionName", name],
                [".", "Throttles", "FunctionName", name],
                [".", "Duration", "FunctionName", name, {"stat": "p99", "yAxis": "right"}],
            ], region)
            for function, name in names.function_names.items()
        ],
        _metric_widget("SageMaker endpoint", [
            ["AWS/SageMaker", "Invocations", *endpoint], [".", "Invocation4XXErrors", *endpoint],
            [".", "Invocation5XXErrors", *endpoint],
            [".", "ModelLatency", *endpoint, {"stat": "p99", "yAxis": "right"}],
            [".", "ModelSetupTime", *endpoint, {"stat": "Maximum", "yAxis": "right"}],
        ], region),
        _metric_widget("DynamoDB history", [
            ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", *table], [".", "ConsumedReadCapacityUnits", *table],
            [".", "ThrottledRequests", *table], [".", "UserErrors"],
        ], region),
        *[
            # SEARCH finds the metric whatever dimensions the handlers add.
            _metric_widget(f"{metric} ({settings.metrics_namespace})", [[{
                "expression": f"SEARCH('Namespace=\"{settings.metrics_namespace}\" MetricName=\"{metric}\"', "
                              f"'{'Sum' if metric == 'LowConfidence' else 'Average'}', {PERIOD})",
                "id": f"m{index}",
            }]], region)
            for index, metric in enumerate(CUSTOM_METRICS)
        ],
        {
            "type": "log",
            "width": 24,
            "height": 6,
            "properties": {
                "title": "Recent failed executions",
                "region": region,
                "query": f"SOURCE '{names.workflow_log_group}' | fields @timestamp, execution_arn, details.error, "
                         "details.cause | filter type = 'ExecutionFailed' | sort @timestamp desc | limit 50",
                "view": "table",
            },
        },
    ]
    return json.dumps({"widgets": widgets})


def server_failure_pattern() -> str:
    """Log filter matching failed executions that are not the caller's fault."""
    clauses = " && ".join(f'$.details.error != "{code}"' for code in CLIENT_ERROR_CODES)
    return f'{{ $.type = "ExecutionFailed" && {clauses} }}'


class Monitoring(pulumi.ComponentResource):
    dashboard: aws.cloudwatch.Dashboard
    alarm_topic: aws.sns.Topic | None

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        names: pulumi.Output[MonitoredNames],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("digits:monitoring:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.dashboard = aws.cloudwatch.Dashboard(
            "dashboard",
            aws.cloudwatch.DashboardArgs(
                dashboard_name=f"{settings.name_prefix}-digits",
                dashboard_body=names.apply(lambda resolved: dashboard_body(resolved, settings)),
            ),
            opts=child,
        )
        self.alarm_topic = self._alarms(settings, names) if settings.alarms_enabled else None
        self.register_outputs({"dashboardName": self.dashboard.dashboard_name})

    def _alarms(self, settings: StackSettings, names: pulumi.Output[MonitoredNames]) -> aws.sns.Topic:
        child = pulumi.ResourceOptions(parent=self)
        topic = aws.sns.Topic(
            "alarms", aws.sns.TopicArgs(name=f"{settings.name_prefix}-alarms", kms_master_key_id="alias/aws/sns"),
            opts=child,
        )
        aws.sns.TopicSubscription(
            "alarms-email",
            aws.sns.TopicSubscriptionArgs(
                topic=topic.arn, protocol="email", endpoint=pulumi.Output.secret(settings.alarm_email or ""),
            ),
            opts=child,
        )
        alarm = _AlarmFactory(settings, topic, child)
        api = names.apply(lambda n: {"ApiName": n.api_name, "Stage": n.stage_name})

        alarm.create("api-5xx-rate", f"API 5xx responses above {settings.alarm_error_rate_percent}% of requests",
                     threshold=settings.alarm_error_rate_percent, metric_queries=[
                         _query("errors", "AWS/ApiGateway", "5XXError", api, "Sum"),
                         _query("requests", "AWS/ApiGateway", "Count", api, "Sum"),
                         aws.cloudwatch.MetricAlarmMetricQueryArgs(
                             id="rate", expression="IF(requests > 0, 100 * errors / requests, 0)",
                             label="5xx %", return_data=True),
                     ])

        failures = aws.cloudwatch.LogMetricFilter(
            "server-side-failures",
            aws.cloudwatch.LogMetricFilterArgs(
                log_group_name=names.apply(lambda n: n.workflow_log_group),
                pattern=server_failure_pattern(),
                metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                    name="ServerSideExecutionFailures", namespace=settings.metrics_namespace, value="1",
                    default_value="0",
                ),
            ),
            opts=child,
        )
        alarm.create("failed-executions", "Workflow executions failed for reasons other than bad input",
                     threshold=0, metric_queries=[_query(
                         "failures", settings.metrics_namespace, "ServerSideExecutionFailures", {}, "Sum",
                         return_data=True)],
                     depends_on=[failures])

        alarm.create("api-p99-latency", f"API p99 latency above {settings.alarm_p99_latency_ms} ms",
                     threshold=settings.alarm_p99_latency_ms, metric_queries=[
                         _query("p99", "AWS/ApiGateway", "Latency", api, "p99", return_data=True)])

        alarm.create("throttles", "Requests throttled by Lambda or Step Functions", threshold=0,
                     metric_queries=_throttle_metrics(names))
        return topic


class _AlarmFactory:
    """Alarms of one stack: same period, actions and missing-data rule."""

    def __init__(self, settings: StackSettings, topic: aws.sns.Topic, opts: pulumi.ResourceOptions) -> None:
        self._settings = settings
        self._topic = topic
        self._opts = opts

    def create(
        self,
        name: str,
        description: str,
        threshold: float,
        metric_queries: list[aws.cloudwatch.MetricAlarmMetricQueryArgs],
        depends_on: list[pulumi.Resource] | None = None,
    ) -> aws.cloudwatch.MetricAlarm:
        return aws.cloudwatch.MetricAlarm(
            name,
            aws.cloudwatch.MetricAlarmArgs(
                name=f"{self._settings.name_prefix}-{name}",
                alarm_description=description,
                comparison_operator="GreaterThanThreshold",
                threshold=threshold,
                evaluation_periods=5,
                datapoints_to_alarm=3,
                treat_missing_data="notBreaching",
                metric_queries=metric_queries,
                alarm_actions=[self._topic.arn],
                ok_actions=[self._topic.arn],
            ),
            opts=pulumi.ResourceOptions.merge(self._opts, pulumi.ResourceOptions(depends_on=depends_on or [])),
        )


def _query(
    query_id: str,
    namespace: str,
    metric: str,
    dimensions: pulumi.Input[Mapping[str, str]],
    stat: str,
    return_data: bool = False,
) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=query_id,
        return_data=return_data,
        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace=namespace, metric_name=metric, dimensions=dimensions, stat=stat, period=PERIOD,
        ),
    )


def _function_dimensions(function: str, names: MonitoredNames) -> dict[str, str]:
    return {"FunctionName": names.function_names[function]}


def _throttle_metrics(names: pulumi.Output[MonitoredNames]) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgs]:
    queries = [
        _query(f"lambda{index}", "AWS/Lambda", "Throttles",
               names.apply(partial(_function_dimensions, function)), "Sum")
        for index, function in enumerate(FUNCTION_NAMES)
    ]
    queries.append(_query("workflow", "AWS/States", "ExecutionThrottled",
                          names.apply(lambda n: {"StateMachineArn": n.state_machine_arn}), "Sum"))
    total = " + ".join(["workflow", *(f"lambda{index}" for index in range(len(FUNCTION_NAMES)))])
    queries.append(aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id="throttled", expression=total, label="throttled requests", return_data=True))
    return queries
