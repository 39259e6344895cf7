"""The dashboard and the alarms read metrics that exist, as AWS and our handlers
publish them; the alarm e-mails can be sent (CloudWatch may use the topic's
key); the log filters match the documented shapes of the log events."""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from components.api import ACCESS_LOG_FORMAT
from components.monitoring import (
    AWS_METRICS,
    EXECUTION_FAILED,
    EXECUTION_TIMED_OUT,
    START_SYNC_EXECUTION,
    MetricFact,
    own_metrics,
    server_failure_pattern,
    throttled_response_pattern,
)
from functions.core.errors import CLIENT_ERROR_CODES, ERROR_TABLE
from functions.core.observability import CONFIDENCE, LOW_CONFIDENCE, PREDICTED_DIGIT, STAGE_LATENCY, Observability
from tests.infra.mock_program import ACCOUNT
from tests.infra.records import StackRecord, settings_of

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
SEARCH = re.compile(
    r"""^SEARCH\('\{(?P<schema>[^}]*)\} MetricName="(?P<metric>\w+)"[^']*', '(?P<stat>[\w.]+)', \d+\)$"""
)
PERCENTILE = re.compile(r"^p\d{1,2}(\.\d+)?$")
# What a dashboard line or an alarm query reads: namespace, metric, dimensions, statistic.
Read = tuple[str, str, dict[str, str], str]


def _dashboard(stack: StackRecord) -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(stack.inputs("aws:cloudwatch/dashboard:Dashboard")["dashboardBody"])
    return dashboard


def _lines(stack: StackRecord) -> list[list[Any]]:
    return [line for w in _dashboard(stack)["widgets"] if w["type"] == "metric" for line in w["properties"]["metrics"]]


def _dashboard_reads(stack: StackRecord) -> Iterator[Read]:
    """(namespace, metric, dimensions, statistic) of every dashboard line; a
    search expression's dimensions are its schema's names (values unknown)."""
    for line in _lines(stack):
        if isinstance(line[0], dict):
            search = SEARCH.match(line[0]["expression"])
            assert search, f"not a search expression this test can read: {line[0]}"
            namespace, *names = (name.strip('"') for name in search["schema"].split(","))
            yield namespace, search["metric"], dict.fromkeys(names, "*"), search["stat"]
        else:
            namespace, metric, *pairs, options = line
            yield namespace, metric, dict(zip(pairs[::2], pairs[1::2], strict=True)), options["stat"]


def _alarm_reads(stack: StackRecord) -> Iterator[Read]:
    for alarm in stack.of_type(ALARM):
        for query in alarm["inputs"]["metricQueries"]:
            if "metric" in query:
                metric = query["metric"]
                yield metric["namespace"], metric["metricName"], metric.get("dimensions") or {}, metric["stat"]


def _published(stack: StackRecord) -> dict[tuple[str, str], MetricFact]:
    return {**AWS_METRICS, **own_metrics(settings_of(stack.stack).metrics_namespace)}


def _unpublished(reads: Iterable[Read], published: dict[tuple[str, str], MetricFact]) -> list[str]:
    problems = []
    for namespace, metric, dimensions, stat in reads:
        fact = published.get((namespace, metric))
        if fact is None:
            problems.append(f"{namespace} {metric}: not a metric AWS or our handlers publish")
        elif frozenset(dimensions) not in fact.dimension_sets:
            problems.append(
                f"{namespace} {metric}: published with {sorted(map(sorted, fact.dimension_sets))}, "
                f"read with {sorted(dimensions)}"
            )
        elif stat not in fact.statistics and not (fact.percentiles and PERCENTILE.match(stat)):
            problems.append(f"{namespace} {metric}: {stat} means nothing for it")
    return problems


def test_given_each_stack_then_every_dashboard_line_reads_a_metric_as_it_is_published(stack: StackRecord) -> None:
    reads = list(_dashboard_reads(stack))
    assert len(reads) > 20
    assert _unpublished(reads, _published(stack)) == []


def test_given_prod_then_every_alarm_reads_a_metric_as_it_is_published(stacks: dict[str, StackRecord]) -> None:
    prod = stacks["prod"]
    reads = list(_alarm_reads(prod))
    # CloudWatch bills a metric-math alarm per metric it reads: 11 alarm metrics.
    assert len(reads) == 11
    assert _unpublished(reads, _published(prod)) == []


def test_given_the_metric_table_then_it_knows_neither_the_standard_only_nor_the_account_wide_metrics() -> None:
    """ExecutionThrottled is state-transition throttling (Standard workflows);
    DynamoDB ThrottledRequests needs an Operation, UserErrors has no table."""
    assert ("AWS/States", "ExecutionThrottled") not in AWS_METRICS
    assert ("AWS/DynamoDB", "UserErrors") not in AWS_METRICS
    throttled_requests = AWS_METRICS.get(("AWS/DynamoDB", "ThrottledRequests"), MetricFact((), frozenset()))
    assert frozenset({"TableName"}) not in throttled_requests.dimension_sets
    assert AWS_METRICS[("AWS/DynamoDB", "SystemErrors")].dimension_sets == (frozenset({"TableName", "Operation"}),)


def test_given_each_stack_then_the_dashboard_watches_every_part_by_its_real_name(stack: StackRecord) -> None:
    values = {value for *_, dimensions, _ in _dashboard_reads(stack) for value in dimensions.values()}
    expected = {
        stack.inputs("aws:apigateway/restApi:RestApi")["name"],
        stack.one("aws:sfn/stateMachine:StateMachine")["arn"],
        stack.inputs("aws:sagemaker/endpoint:Endpoint")["name"],
        stack.inputs("aws:dynamodb/table:Table")["name"],
        *(f["inputs"]["name"] for f in stack.of_type("aws:lambda/function:Function")),
    }
    assert expected <= values
    assert {"AWS/ApiGateway", "AWS/States", "AWS/Lambda", "AWS/SageMaker", "AWS/DynamoDB"} <= {
        namespace for namespace, *_ in _dashboard_reads(stack)
    }


def test_given_each_stack_then_the_dashboard_counts_predictions_per_digit_and_shows_every_handler_metric(
    stack: StackRecord,
) -> None:
    namespace = settings_of(stack.stack).metrics_namespace
    own = {(metric, stat) for ns, metric, _, stat in _dashboard_reads(stack) if ns == namespace}
    assert {metric for metric, _ in own} >= {STAGE_LATENCY, PREDICTED_DIGIT, CONFIDENCE, LOW_CONFIDENCE}
    # One per prediction: the average of each digit's line would always be 1.
    assert {stat for metric, stat in own if metric == PREDICTED_DIGIT} == {"Sum"}


def test_given_the_handlers_then_their_metrics_carry_exactly_the_dimensions_the_dashboard_reads(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real embedded-metric-format output of the handlers' Observability."""
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    namespace = "DimensionCheck"
    obs = Observability.create("invoke_model", namespace, "INFO")
    capsys.readouterr()
    obs.stage_latency("invokeModel", 12.5)
    obs.prediction(7, 0.42, low_confidence=True)
    emitted: dict[str, frozenset[str]] = {}
    for line in capsys.readouterr().out.splitlines():
        for directive in json.loads(line)["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == namespace
            (dimensions,) = directive["Dimensions"]
            for metric in directive["Metrics"]:
                emitted[metric["Name"]] = frozenset(dimensions)
    published = own_metrics(namespace)
    assert set(emitted) == {STAGE_LATENCY, PREDICTED_DIGIT, CONFIDENCE, LOW_CONFIDENCE}
    assert {metric: (dimensions,) for metric, dimensions in emitted.items()} == {
        metric: published[(namespace, metric)].dimension_sets for metric in emitted
    }


def test_given_each_stack_then_the_log_widget_lists_failed_and_timed_out_executions(stack: StackRecord) -> None:
    (log_widget,) = [w for w in _dashboard(stack)["widgets"] if w["type"] == "log"]
    query = log_widget["properties"]["query"]
    group = stack.inputs("aws:cloudwatch/logGroup:LogGroup", "workflow-logs")["name"]
    assert query.startswith(f"SOURCE '{group}'")
    assert f"filter type in ['{EXECUTION_FAILED}', '{EXECUTION_TIMED_OUT}']" in query
    assert "details.error" in query and "details.cause" in query and "execution_arn" in query


# --- CloudWatch Logs filter patterns, against the documented log event shapes ---


def _value(event: dict[str, Any], path: str) -> Any:
    for key in path.removeprefix("$.").split("."):
        if not isinstance(event, dict) or key not in event:
            return None
        event = event[key]
    return event


_TOKEN = re.compile(r'\s*(\(|\)|&&|\|\||\$\.[\w.]+\s*!?=\s*"[^"]*")')
_COMPARISON = re.compile(r'(\$\.[\w.]+)\s*(!?=)\s*"([^"]*)"')


def _matches(pattern: str, event: dict[str, Any]) -> bool:
    """A JSON filter pattern's verdict on one log event, for the syntax the
    patterns use (CloudWatch Logs "Filter pattern syntax", JSON log events):
    ``$.a.b = "text"`` / ``!=`` (false when the field is absent), ``&&``,
    ``||`` and parentheses."""
    body = pattern.strip()
    assert body.startswith("{") and body.endswith("}"), pattern
    tokens = _TOKEN.findall(body[1:-1])
    assert "".join(tokens).replace(" ", "") == body[1:-1].replace(" ", ""), f"unreadable pattern: {pattern}"
    position = 0

    def either() -> bool:
        nonlocal position
        result = both()
        while position < len(tokens) and tokens[position] == "||":
            position += 1
            result = both() or result
        return result

    def both() -> bool:
        nonlocal position
        result = term()
        while position < len(tokens) and tokens[position] == "&&":
            position += 1
            result = term() and result
        return result

    def term() -> bool:
        nonlocal position
        token = tokens[position]
        position += 1
        if token == "(":
            result = either()
            assert tokens[position] == ")"
            position += 1
            return result
        comparison = _COMPARISON.fullmatch(token.strip())
        assert comparison, token
        path, operator, expected = comparison.groups()
        found = _value(event, path)
        if found is None:
            return False
        return (str(found) == expected) == (operator == "=")

    verdict = either()
    assert position == len(tokens)
    return verdict


def _execution_event(event_type: str, **details: str) -> dict[str, Any]:
    """A workflow log event as Step Functions writes it with
    ``includeExecutionData`` false: ``details`` keeps ``error`` and ``cause``
    and loses only ``input``/``output`` (AWS-recorded snapshot in LocalStack's
    tests/aws/services/stepfunctions/v2/logs/test_logs.snapshot.json,
    ``raise_failure.json5_ERROR_False``)."""
    return {
        "id": "7",
        "type": event_type,
        "details": details,
        "previous_event_id": "6",
        "event_timestamp": "1717999999999",
        "redrive_count": "0",
        "execution_arn": f"arn:aws:states:ap-southeast-1:{ACCOUNT}:express:digits-prod-workflow:e:1",
    }


@pytest.mark.parametrize("code", sorted(ERROR_TABLE))
def test_given_a_failed_execution_then_the_failure_filter_counts_it_unless_the_caller_caused_it(code: str) -> None:
    event = _execution_event(EXECUTION_FAILED, error=code, cause="message for a person")
    assert _matches(server_failure_pattern(), event) == (code not in CLIENT_ERROR_CODES)


def test_given_a_timed_out_execution_then_the_failure_filter_counts_it() -> None:
    event = _execution_event(EXECUTION_TIMED_OUT, error="States.Timeout", cause="execution timed out")
    assert _matches(server_failure_pattern(), event)


@pytest.mark.parametrize(
    "event",
    [
        _execution_event("FailStateEntered", name="Failed"),
        _execution_event(
            "TaskFailed", resourceType="lambda", resource="invoke", error="ModelUnavailable", cause="retried"
        ),
        _execution_event("ExecutionSucceeded"),
    ],
    ids=lambda event: event["type"],
)
def test_given_other_workflow_events_then_the_failure_filter_ignores_them(event: dict[str, Any]) -> None:
    assert not _matches(server_failure_pattern(), event)


@pytest.mark.parametrize("status", ["200", "400", "413", "429", "500", "503"])
def test_given_an_access_log_line_then_the_throttle_filter_counts_only_429(status: str) -> None:
    fields = json.loads(ACCESS_LOG_FORMAT)
    line = {name: ("x" if value != "$context.status" else status) for name, value in fields.items()}
    assert _matches(throttled_response_pattern(), line) == (status == "429")


def test_given_each_stack_then_the_filters_read_the_workflow_and_access_logs(stack: StackRecord) -> None:
    patterns = {f["inputs"]["logGroupName"]: f["inputs"]["pattern"] for f in stack.of_type(METRIC_FILTER)}
    assert patterns == {
        stack.inputs("aws:cloudwatch/logGroup:LogGroup", "workflow-logs")["name"]: server_failure_pattern(),
        stack.inputs("aws:cloudwatch/logGroup:LogGroup", "access-logs")["name"]: throttled_response_pattern(),
    }
    namespace = settings_of(stack.stack).metrics_namespace
    assert all(f["inputs"]["metricTransformation"]["namespace"] == namespace for f in stack.of_type(METRIC_FILTER))


def test_given_prod_then_the_throttle_alarm_reads_the_action_the_api_starts_and_the_apis_429s(
    stacks: dict[str, StackRecord],
) -> None:
    prod = stacks["prod"]
    start = prod.inputs("aws:apigateway/integration:Integration", "integration-start-prediction")
    assert start["uri"].endswith(f":states:action/{START_SYNC_EXECUTION}")
    queries = prod.inputs(ALARM, "throttles")["metricQueries"]
    metrics = {
        (q["metric"]["metricName"], json.dumps(q["metric"].get("dimensions") or {})) for q in queries if "metric" in q
    }
    assert ("ThrottledEvents", json.dumps({"APIName": START_SYNC_EXECUTION})) in metrics
    filtered = {
        f["inputs"]["metricTransformation"]["name"]
        for f in prod.of_type(METRIC_FILTER)
        if f["inputs"]["pattern"] == throttled_response_pattern()
    }
    assert {(name, "{}") for name in filtered} <= metrics
    functions = {f["inputs"]["name"] for f in prod.of_type("aws:lambda/function:Function")}
    assert {json.loads(d)["FunctionName"] for name, d in metrics if name == "Throttles"} == functions
    (total,) = [q for q in queries if q.get("returnData")]
    assert set(total["expression"].split(" + ")) == {q["id"] for q in queries if "metric" in q}


# --- The alarm topic's encryption ---


def test_given_prod_then_the_alarm_topic_is_encrypted_with_its_own_rotated_key(stacks: dict[str, StackRecord]) -> None:
    prod = stacks["prod"]
    key = prod.one("aws:kms/key:Key")
    assert prod.inputs("aws:sns/topic:Topic")["kmsMasterKeyId"] == key["arn"]
    assert key["inputs"]["enableKeyRotation"] is True
    alias = prod.inputs("aws:kms/alias:Alias")
    # The mocks give a resource the id "<its name>-id"; the key's name ends its ARN.
    assert alias["name"] == "alias/digits-prod-alarms" and alias["targetKeyId"] == f"{key['arn'].split('/')[-1]}-id"
    assert "alias/aws/sns" not in json.dumps(prod.resources)


def test_given_prod_then_the_key_lets_the_account_administer_it_and_only_this_stacks_alarms_publish(
    stacks: dict[str, StackRecord],
) -> None:
    prod = stacks["prod"]
    administer, publish = json.loads(prod.inputs("aws:kms/key:Key")["policy"])["Statement"]
    assert administer["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"} and administer["Action"] == "kms:*"
    assert publish["Effect"] == "Allow" and publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(publish["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert publish["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    allowed = publish["Condition"]["ArnLike"]["aws:SourceArn"]
    region = settings_of("prod").region
    alarms = [f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{a['inputs']['name']}" for a in prod.of_type(ALARM)]
    assert len(alarms) == 4 and all(fnmatch.fnmatchcase(arn, allowed) for arn in alarms)
    other_stack = f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:digits-dev-throttles"
    other_account = f"arn:aws:cloudwatch:{region}:210987654321:alarm:digits-prod-throttles"
    assert not fnmatch.fnmatchcase(other_stack, allowed) and not fnmatch.fnmatchcase(other_account, allowed)


def test_given_prod_then_every_alarm_tells_the_encrypted_topic(stacks: dict[str, StackRecord]) -> None:
    prod = stacks["prod"]
    topic = prod.one("aws:sns/topic:Topic")["arn"]
    assert all(a["inputs"]["alarmActions"] == [topic] == a["inputs"]["okActions"] for a in prod.of_type(ALARM))


def test_given_dev_then_it_has_no_alarms_and_no_key(stacks: dict[str, StackRecord]) -> None:
    dev = stacks["dev"]
    assert not dev.of_type(ALARM) and not dev.of_type("aws:kms/key:Key") and not dev.of_type("aws:sns/topic:Topic")
