"""Monitoring: a CloudWatch dashboard per stack and, when enabled, alarms
(API 5xx rate, server-side workflow failures, p99 latency, throttling) that
e-mail an SNS topic encrypted with the stack's own KMS key.

CloudWatch accepts any namespace, metric name and dimensions and shows a metric
that does not exist as an empty graph, and an alarm on it never fires. So every
metric read here is first declared in ``AWS_METRICS`` / ``own_metrics``: how
AWS (its documentation) or our handlers (``functions/core/observability.py``)
publish it, with which dimension sets and which statistics mean something; the
tests check every dashboard line and every alarm query against that table.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import pulumi
import pulumi_aws as aws

from components.api import ACCESS_LOG_FORMAT, Api
from components.history_api import HistoryFunction
from components.iam import account_id
from components.model_endpoint import VARIANT_NAME, ModelEndpoint
from components.storage import Storage
from components.workflow import Workflow
from functions.core.errors import CLIENT_ERROR_CODES, Throttled
from functions.core.history.table import INDEX_BY_CLIENT
from functions.core.observability import (
    CONFIDENCE,
    LOW_CONFIDENCE,
    METRIC_DIMENSIONS,
    PREDICTED_DIGIT,
    STAGE_LATENCY,
)
from functions.core.tasks import FUNCTIONS, HISTORY

PERIOD = 60

API_GATEWAY = "AWS/ApiGateway"
STATES = "AWS/States"
LAMBDA = "AWS/Lambda"
SAGEMAKER = "AWS/SageMaker"
DYNAMODB = "AWS/DynamoDB"

# Metrics of our namespace made from logs by the metric filters below.
SERVER_SIDE_FAILURES = "ServerSideExecutionFailures"
API_THROTTLED_RESPONSES = "ApiThrottledResponses"
# The Step Functions action behind POST /api/predictions (components/api.py).
START_SYNC_EXECUTION = "StartSyncExecution"
# Events of the workflow's execution log that end an execution badly.
EXECUTION_FAILED = "ExecutionFailed"
EXECUTION_TIMED_OUT = "ExecutionTimedOut"


@dataclass(frozen=True)
class MetricFact:
    """How a metric exists in CloudWatch: the dimension sets it is published
    with (a query must name exactly one of them) and the statistics that mean
    something for it (``percentiles``: also p50, p99, ...)."""

    dimension_sets: tuple[frozenset[str], ...]
    statistics: frozenset[str]
    percentiles: bool = False


_COUNTS = frozenset({"Sum"})
_TIMES = frozenset({"Average", "Minimum", "Maximum"})


def _counted(*dimension_sets: frozenset[str]) -> MetricFact:
    return MetricFact(dimension_sets, _COUNTS)


def _timed(*dimension_sets: frozenset[str]) -> MetricFact:
    return MetricFact(dimension_sets, _TIMES, percentiles=True)


_API_STAGE = frozenset({"ApiName", "Stage"})
_STATE_MACHINE = frozenset({"StateMachineArn"})
_FUNCTION = frozenset({"FunctionName"})
_VARIANT = frozenset({"EndpointName", "VariantName"})
_TABLE = frozenset({"TableName"})
_TABLE_INDEX = frozenset({"TableName", "GlobalSecondaryIndexName"})

# From the developer guides' metric tables (API Gateway "Amazon API Gateway
# dimensions", Step Functions "Monitoring Step Functions metrics", Lambda
# "Types of metrics", SageMaker "Endpoint invocation metrics", DynamoDB
# "DynamoDB Metrics and dimensions"). Left out on purpose:
# - AWS/States ExecutionThrottled counts state-transition throttling, which
#   Express workflows do not have ("Unlimited" in the Step Functions quotas);
#   their throttling is StartSyncExecution's, in ThrottledEvents per APIName.
# - AWS/DynamoDB ThrottledRequests exists only per TableName + Operation, and
#   UserErrors only for the whole account and region, not per table.
AWS_METRICS: dict[tuple[str, str], MetricFact] = {
    (API_GATEWAY, "Count"): _counted(_API_STAGE),
    (API_GATEWAY, "4XXError"): _counted(_API_STAGE),
    (API_GATEWAY, "5XXError"): _counted(_API_STAGE),
    (API_GATEWAY, "Latency"): _timed(_API_STAGE),
    (API_GATEWAY, "IntegrationLatency"): _timed(_API_STAGE),
    (STATES, "ExecutionsStarted"): _counted(_STATE_MACHINE),
    (STATES, "ExecutionsSucceeded"): _counted(_STATE_MACHINE),
    (STATES, "ExecutionsFailed"): _counted(_STATE_MACHINE),
    (STATES, "ExecutionsTimedOut"): _counted(_STATE_MACHINE),
    (STATES, "ExecutionTime"): _timed(_STATE_MACHINE),
    # Per API action for the whole account and region, not per state machine.
    (STATES, "ThrottledEvents"): _counted(frozenset({"APIName"})),
    (LAMBDA, "Invocations"): _counted(_FUNCTION),
    (LAMBDA, "Errors"): _counted(_FUNCTION),
    (LAMBDA, "Throttles"): _counted(_FUNCTION),
    (LAMBDA, "Duration"): _timed(_FUNCTION),
    (SAGEMAKER, "Invocations"): _counted(_VARIANT),
    (SAGEMAKER, "Invocation4XXErrors"): _counted(_VARIANT),
    (SAGEMAKER, "Invocation5XXErrors"): _counted(_VARIANT),
    (SAGEMAKER, "ModelLatency"): _timed(_VARIANT),
    (SAGEMAKER, "ModelSetupTime"): _timed(_VARIANT),
    # Per table; per table + index for the global secondary index.
    (DYNAMODB, "ConsumedReadCapacityUnits"): _counted(_TABLE, _TABLE_INDEX),
    (DYNAMODB, "ConsumedWriteCapacityUnits"): _counted(_TABLE, _TABLE_INDEX),
    (DYNAMODB, "ReadThrottleEvents"): _counted(_TABLE, _TABLE_INDEX),
    (DYNAMODB, "WriteThrottleEvents"): _counted(_TABLE, _TABLE_INDEX),
    (DYNAMODB, "SystemErrors"): _counted(frozenset({"TableName", "Operation"})),
}


def own_metrics(namespace: str) -> dict[tuple[str, str], MetricFact]:
    """The metrics of our namespace: the handlers' (embedded metric format)
    and the two made by this module's log metric filters."""
    return {
        (namespace, STAGE_LATENCY): _timed(METRIC_DIMENSIONS[STAGE_LATENCY]),
        (namespace, PREDICTED_DIGIT): _counted(METRIC_DIMENSIONS[PREDICTED_DIGIT]),
        (namespace, CONFIDENCE): MetricFact((METRIC_DIMENSIONS[CONFIDENCE],), _TIMES, percentiles=True),
        # 1 or 0 per prediction: the sum counts them, the average is their share.
        (namespace, LOW_CONFIDENCE): MetricFact((METRIC_DIMENSIONS[LOW_CONFIDENCE],), frozenset({"Sum", "Average"})),
        (namespace, SERVER_SIDE_FAILURES): _counted(frozenset()),
        (namespace, API_THROTTLED_RESPONSES): _counted(frozenset()),
    }


@dataclass(frozen=True)
class AlarmArgs:
    """Where the alarms e-mail, and the thresholds that set them off."""

    email: str
    p99_latency_ms: int
    error_rate_percent: float


@dataclass(frozen=True)
class MonitoringArgs:
    """What monitoring takes from the stack settings."""

    region: str
    name_prefix: str
    metrics_namespace: str
    # None: no alarms, only the dashboard and the log metrics it shows.
    alarms: AlarmArgs | None


@dataclass(frozen=True)
class MonitoredNames:
    """The physical names of what the dashboard and alarms watch."""

    api_name: str
    stage_name: str
    api_access_log_group: str
    state_machine_arn: str
    workflow_log_group: str
    function_names: Mapping[str, str]
    endpoint_name: str
    table_name: str


def monitored_names(
    api: Api, workflow: Workflow, history: HistoryFunction, model: ModelEndpoint, storage: Storage
) -> pulumi.Output[MonitoredNames]:
    """The names of the stack's parts, once AWS has given them."""
    lambdas = {**workflow.functions, HISTORY.key: history.function}
    functions = pulumi.Output.all(**{key: function.name for key, function in lambdas.items()})
    return pulumi.Output.all(
        api_name=api.rest_api.name,
        stage_name=api.stage.stage_name,
        api_access_log_group=api.stage.access_log_settings.apply(_access_log_group),
        state_machine_arn=workflow.state_machine.arn,
        workflow_log_group=workflow.log_group.name,
        function_names=functions,
        endpoint_name=model.endpoint.name,
        table_name=storage.table.name,
    ).apply(lambda names: MonitoredNames(**names))


def _access_log_group(settings: aws.apigateway.outputs.StageAccessLogSettings | None) -> str:
    """The log group's name out of its ARN, ``arn:aws:logs:<region>:<account>:log-group:<name>``."""
    if settings is None:
        raise ValueError("the API stage has no access log")
    return settings.destination_arn.split(":log-group:", 1)[1].removesuffix(":*")


def _line(namespace: str, metric: str, dimensions: Mapping[str, str], stat: str, **options: Any) -> list[Any]:
    """A dashboard metric line, spelled out (no "." shorthand): namespace,
    name, dimension name/value pairs, then its options."""
    return [namespace, metric, *itertools.chain.from_iterable(dimensions.items()), {"stat": stat, **options}]


# The service's own metrics on the dashboard: title ({} is the namespace), expression id, metric, statistic.
OWN_METRIC_WIDGETS: tuple[tuple[str, str, str, str], ...] = (
    ("Stage latency p99 (ms, {})", "stages", STAGE_LATENCY, "p99"),
    ("Predictions per digit ({})", "digits", PREDICTED_DIGIT, "Sum"),
    ("Confidence ({})", "confidence", CONFIDENCE, "Average"),
    ("Low-confidence predictions ({})", "lowConfidence", LOW_CONFIDENCE, "Sum"),
)


def _search(
    expression_id: str,
    namespace: str,
    metric: str,
    dimension_names: Iterable[str],
    stat: str,
    where: Mapping[str, str] | None = None,
) -> list[Any]:
    """A dashboard line of every metric with exactly ``dimension_names``
    (a search schema matches only those), one graph line per combination."""
    schema = ",".join(_schema_name(name) for name in [namespace, *sorted(dimension_names)])
    terms = " ".join([f'MetricName="{metric}"', *(f'{name}="{value}"' for name, value in (where or {}).items())])
    return [{"expression": f"SEARCH('{{{schema}}} {terms}', '{stat}', {PERIOD})", "id": expression_id}]


def _schema_name(name: str) -> str:
    """A search schema takes a name with characters other than letters and
    digits in double quotes (AWS's own namespaces, like AWS/EC2, go bare)."""
    return name if re.fullmatch(r"[A-Za-z0-9/]+", name) else f'"{name}"'


def _metric_widget(title: str, lines: list[list[Any]], region: str) -> dict[str, Any]:
    return {
        "type": "metric",
        "width": 12,
        "height": 6,
        "properties": {"title": title, "region": region, "period": PERIOD, "view": "timeSeries", "metrics": lines},
    }


def dashboard_body(names: MonitoredNames, region: str, own: str) -> str:
    """The dashboard JSON: one widget per part of the stack, named by its real
    resources; ``own`` is the stack's metrics namespace."""
    api = {"ApiName": names.api_name, "Stage": names.stage_name}
    states = {"StateMachineArn": names.state_machine_arn}
    endpoint = {"EndpointName": names.endpoint_name, "VariantName": VARIANT_NAME}
    table = {"TableName": names.table_name}
    index = {**table, "GlobalSecondaryIndexName": INDEX_BY_CLIENT}
    widgets = [
        _metric_widget(
            "API requests and errors",
            [_line(API_GATEWAY, metric, api, "Sum") for metric in ("Count", "4XXError", "5XXError")],
            region,
        ),
        _metric_widget(
            "API latency (ms)",
            [
                _line(API_GATEWAY, "Latency", api, "p50"),
                _line(API_GATEWAY, "Latency", api, "p99"),
                _line(API_GATEWAY, "IntegrationLatency", api, "p99"),
            ],
            region,
        ),
        _metric_widget(
            "Workflow executions",
            [
                *(
                    _line(STATES, metric, states, "Sum")
                    for metric in ("ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut")
                ),
                _line(own, SERVER_SIDE_FAILURES, {}, "Sum", label="failed, not the caller's fault"),
            ],
            region,
        ),
        _metric_widget("Workflow duration (ms)", [_line(STATES, "ExecutionTime", states, "p99")], region),
        _metric_widget(
            "Throttling",
            [
                _line(own, API_THROTTLED_RESPONSES, {}, "Sum", label="API 429 responses"),
                _line(
                    STATES,
                    "ThrottledEvents",
                    {"APIName": START_SYNC_EXECUTION},
                    "Sum",
                    label=f"{START_SYNC_EXECUTION} throttled (whole account)",
                ),
            ],
            region,
        ),
        *[
            _metric_widget(
                f"Lambda {function}",
                [
                    *(
                        _line(LAMBDA, metric, {"FunctionName": name}, "Sum")
                        for metric in ("Invocations", "Errors", "Throttles")
                    ),
                    _line(LAMBDA, "Duration", {"FunctionName": name}, "p99", yAxis="right"),
                ],
                region,
            )
            for function, name in names.function_names.items()
        ],
        _metric_widget(
            "SageMaker endpoint",
            [
                *(
                    _line(SAGEMAKER, metric, endpoint, "Sum")
                    for metric in ("Invocations", "Invocation4XXErrors", "Invocation5XXErrors")
                ),
                _line(SAGEMAKER, "ModelLatency", endpoint, "p99", yAxis="right", label="ModelLatency p99 (µs)"),
                _line(SAGEMAKER, "ModelSetupTime", endpoint, "Maximum", yAxis="right", label="ModelSetupTime max (µs)"),
            ],
            region,
        ),
        _metric_widget(
            "DynamoDB history",
            [
                *(
                    _line(DYNAMODB, metric, table, "Sum")
                    for metric in (
                        "ConsumedWriteCapacityUnits",
                        "ConsumedReadCapacityUnits",
                        "ReadThrottleEvents",
                        "WriteThrottleEvents",
                    )
                ),
                *(
                    _line(DYNAMODB, metric, index, "Sum", label=f"{metric} ({INDEX_BY_CLIENT})")
                    for metric in ("ReadThrottleEvents", "WriteThrottleEvents")
                ),
                _search("systemErrors", DYNAMODB, "SystemErrors", ("TableName", "Operation"), "Sum", table),
            ],
            region,
        ),
        *(
            _metric_widget(
                title.format(own), [_search(expression_id, own, metric, METRIC_DIMENSIONS[metric], stat)], region
            )
            for title, expression_id, metric, stat in OWN_METRIC_WIDGETS
        ),
        {
            "type": "log",
            "width": 24,
            "height": 6,
            "properties": {
                "title": "Recent failed and timed-out executions",
                "region": region,
                "query": f"SOURCE '{names.workflow_log_group}' "
                "| fields @timestamp, execution_arn, type, details.error, details.cause "
                f"| filter type in ['{EXECUTION_FAILED}', '{EXECUTION_TIMED_OUT}'] "
                "| sort @timestamp desc | limit 50",
                "view": "table",
            },
        },
    ]
    return json.dumps({"widgets": widgets})


def server_failure_pattern() -> str:
    """Log filter matching the executions that did not end well for a reason
    other than the caller's request: a failure whose error is not a client
    error of the table, or a timeout.

    Step Functions logs an ``ExecutionFailed`` event with ``details.error`` and
    ``details.cause`` also when ``includeExecutionData`` is false (that drops
    only ``input``/``output``); a timed-out execution logs ``ExecutionTimedOut``
    instead, at the ERROR level too ("Log levels" in the developer guide)."""
    not_the_callers = " && ".join(f'$.details.error != "{code}"' for code in CLIENT_ERROR_CODES)
    return f'{{ ($.type = "{EXECUTION_TIMED_OUT}") || ($.type = "{EXECUTION_FAILED}" && {not_the_callers}) }}'


def throttled_response_pattern() -> str:
    """Access-log filter matching the API's 429 answers: its own stage
    throttling and the contract's ``Throttled``. The access log writes
    ``$context.status`` as a JSON string."""
    (status_field,) = [field for field, value in json.loads(ACCESS_LOG_FORMAT).items() if value == "$context.status"]
    return f'{{ $.{status_field} = "{Throttled.status}" }}'


def alarm_name_prefix(name_prefix: str) -> str:
    """What every alarm name of the stack starts with (the key policy relies on it)."""
    return f"{name_prefix}-"


def alarm_key_policy(account: str, region: str, name_prefix: str) -> str:
    """The alarm topic key's policy: the account administers the key (and
    may delegate through IAM, as the default key policy does); CloudWatch may
    call ``kms:GenerateDataKey*`` and ``kms:Decrypt`` with it, what a service
    publishing to an encrypted topic needs ("Enable compatibility between event
    sources from AWS services and encrypted topics", SNS developer guide), and
    only for this stack's alarms: its requests carry ``aws:SourceAccount`` and
    the alarm's ARN as ``aws:SourceArn`` (confused-deputy conditions)."""
    alarms = f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm_name_prefix(name_prefix)}*"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministers",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "StackAlarmsPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account}, "ArnLike": {"aws:SourceArn": alarms}},
                },
            ],
        }
    )


class Monitoring(pulumi.ComponentResource):
    dashboard: aws.cloudwatch.Dashboard
    alarm_topic: aws.sns.Topic | None

    def __init__(
        self,
        name: str,
        args: MonitoringArgs,
        names: pulumi.Output[MonitoredNames],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("digits:monitoring:Monitoring", name, None, opts)
        self.dashboard = self._build_dashboard(args, names)
        failures, throttled = self._build_log_metrics(args.metrics_namespace, names)
        self.alarm_topic = self._build_alarms(args, args.alarms, names, failures, throttled) if args.alarms else None
        self.register_outputs({"dashboardName": self.dashboard.dashboard_name})

    def _build_dashboard(self, args: MonitoringArgs, names: pulumi.Output[MonitoredNames]) -> aws.cloudwatch.Dashboard:
        return aws.cloudwatch.Dashboard(
            "dashboard",
            aws.cloudwatch.DashboardArgs(
                dashboard_name=f"{args.name_prefix}-digits",
                dashboard_body=names.apply(
                    lambda resolved: dashboard_body(resolved, args.region, args.metrics_namespace)
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _build_log_metrics(
        self, namespace: str, names: pulumi.Output[MonitoredNames]
    ) -> tuple[aws.cloudwatch.LogMetricFilter, aws.cloudwatch.LogMetricFilter]:
        """Server-side failures from the workflow's log, 429s from the API's
        access log; in both stacks, as the dashboard shows them too."""
        failures = self._log_metric(
            "server-side-failures",
            namespace,
            names.apply(lambda n: n.workflow_log_group),
            server_failure_pattern(),
            SERVER_SIDE_FAILURES,
        )
        throttled = self._log_metric(
            "api-throttled-responses",
            namespace,
            names.apply(lambda n: n.api_access_log_group),
            throttled_response_pattern(),
            API_THROTTLED_RESPONSES,
        )
        return failures, throttled

    def _log_metric(
        self, name: str, namespace: str, log_group: pulumi.Output[str], pattern: str, metric: str
    ) -> aws.cloudwatch.LogMetricFilter:
        return aws.cloudwatch.LogMetricFilter(
            name,
            aws.cloudwatch.LogMetricFilterArgs(
                log_group_name=log_group,
                pattern=pattern,
                metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                    name=metric,
                    namespace=namespace,
                    value="1",
                    default_value="0",
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _build_alarm_topic(self, args: MonitoringArgs, email: str) -> aws.sns.Topic:
        """The topic, its key and its e-mail subscription. The AWS-managed
        ``alias/aws/sns`` key cannot be used: its policy does not let CloudWatch in."""
        child = pulumi.ResourceOptions(parent=self)
        key = aws.kms.Key(
            "alarms-key",
            aws.kms.KeyArgs(
                description=f"Encrypts the {args.name_prefix} alarm topic; its alarms may publish with it.",
                enable_key_rotation=True,
                policy=account_id().apply(lambda account: alarm_key_policy(account, args.region, args.name_prefix)),
            ),
            opts=child,
        )
        aws.kms.Alias(
            "alarms-key",
            aws.kms.AliasArgs(name=f"alias/{args.name_prefix}-alarms", target_key_id=key.id),
            opts=child,
        )
        topic = aws.sns.Topic(
            "alarms",
            aws.sns.TopicArgs(name=f"{args.name_prefix}-alarms", kms_master_key_id=key.arn),
            opts=child,
        )
        aws.sns.TopicSubscription(
            "alarms-email",
            aws.sns.TopicSubscriptionArgs(topic=topic.arn, protocol="email", endpoint=pulumi.Output.secret(email)),
            opts=child,
        )
        return topic

    def _build_alarms(
        self,
        args: MonitoringArgs,
        alarms: AlarmArgs,
        names: pulumi.Output[MonitoredNames],
        failures: aws.cloudwatch.LogMetricFilter,
        throttled: aws.cloudwatch.LogMetricFilter,
    ) -> aws.sns.Topic:
        topic = self._build_alarm_topic(args, alarms.email)
        alarm = _AlarmFactory(args.name_prefix, topic, pulumi.ResourceOptions(parent=self))
        api = names.apply(lambda n: {"ApiName": n.api_name, "Stage": n.stage_name})

        alarm.create(
            "api-5xx-rate",
            f"API 5xx responses above {alarms.error_rate_percent}% of requests",
            threshold=alarms.error_rate_percent,
            metric_queries=[
                _query("errors", API_GATEWAY, "5XXError", api, "Sum"),
                _query("requests", API_GATEWAY, "Count", api, "Sum"),
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="rate",
                    expression="IF(requests > 0, 100 * errors / requests, 0)",
                    label="5xx %",
                    return_data=True,
                ),
            ],
        )

        alarm.create(
            "failed-executions",
            "Workflow executions failed or timed out, not because of bad input",
            threshold=0,
            metric_queries=[
                _query("failures", args.metrics_namespace, SERVER_SIDE_FAILURES, {}, "Sum", return_data=True)
            ],
            depends_on=[failures],
        )

        alarm.create(
            "api-p99-latency",
            f"API p99 latency above {alarms.p99_latency_ms} ms",
            threshold=alarms.p99_latency_ms,
            metric_queries=[_query("p99", API_GATEWAY, "Latency", api, "p99", return_data=True)],
        )

        alarm.create(
            "throttles",
            "Requests throttled: API 429 answers, StartSyncExecution or Lambda throttling",
            threshold=0,
            metric_queries=_throttle_metrics(args.metrics_namespace, names),
            depends_on=[throttled],
        )
        return topic


class _AlarmFactory:
    """Alarms of one stack: same period, actions and missing-data rule."""

    def __init__(self, name_prefix: str, topic: aws.sns.Topic, opts: pulumi.ResourceOptions) -> None:
        self._name_prefix = name_prefix
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
                name=f"{alarm_name_prefix(self._name_prefix)}{name}",
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
            namespace=namespace,
            metric_name=metric,
            dimensions=dimensions,
            stat=stat,
            period=PERIOD,
        ),
    )


def _function_dimensions(function: str, names: MonitoredNames) -> dict[str, str]:
    return {"FunctionName": names.function_names[function]}


def _throttle_metrics(
    namespace: str, names: pulumi.Output[MonitoredNames]
) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgs]:
    """Every throttle a request can meet: the API's 429 answers (stage
    throttling, and the contract's Throttled from Step Functions or DynamoDB),
    StartSyncExecution's own throttling, and each Lambda's."""
    lambdas = {f"lambda{index}": function.key for index, function in enumerate(FUNCTIONS)}
    queries = [
        _query("api", namespace, API_THROTTLED_RESPONSES, {}, "Sum"),
        _query("workflow", STATES, "ThrottledEvents", {"APIName": START_SYNC_EXECUTION}, "Sum"),
        *(
            _query(query_id, LAMBDA, "Throttles", names.apply(partial(_function_dimensions, function)), "Sum")
            for query_id, function in lambdas.items()
        ),
    ]
    # Metric math treats a missing value as 0 in arithmetic: a quiet series does not blank the sum.
    total = " + ".join(["api", "workflow", *lambdas])
    queries.append(
        aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id="throttled", expression=total, label="throttled requests", return_data=True
        )
    )
    return queries
