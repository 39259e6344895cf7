"""What a stack's bill depends on besides traffic: how much X-Ray traces and
which API Gateway metrics CloudWatch charges for."""

from __future__ import annotations

from fnmatch import fnmatchcase

from tests.infra.records import StackRecord

# X-Ray's own default rule: the first request each second plus 5%, at priority 10000.
DEFAULT_RULE_PRIORITY = 10_000
MAX_FIXED_RATE = 0.05


def test_given_each_stack_then_its_api_and_workflow_are_traced_at_a_fixed_small_rate(stack: StackRecord) -> None:
    """X-Ray sampling is decided once, by the first traced service (API Gateway,
    service name "<api name>/<stage>"; or the state machine when started
    directly), and followed downstream ("Configuring sampling rules", X-Ray
    developer guide). A reservoir of one request a second would trace almost
    every request at this traffic: the stack's rule has none."""
    (rule,) = [r["inputs"] for r in stack.of_type("aws:xray/samplingRule:SamplingRule")]
    assert 0 < rule["fixedRate"] <= MAX_FIXED_RATE
    assert rule["reservoirSize"] == 0
    assert rule["priority"] < DEFAULT_RULE_PRIORITY
    assert len(rule["ruleName"]) <= 32  # X-Ray's limit on rule names
    api_name = stack.inputs("aws:apigateway/restApi:RestApi")["name"]
    stage = stack.inputs("aws:apigateway/stage:Stage")["stageName"]
    state_machine = stack.inputs("aws:sfn/stateMachine:StateMachine")["name"]
    for service in (f"{api_name}/{stage}", state_machine):
        assert fnmatchcase(service, rule["serviceName"]), service
    assert all(rule[key] == "*" for key in ("serviceType", "host", "httpMethod", "urlPath", "resourceArn"))
    # Another stack in the same account keeps its own rule.
    other = "digits-prod-api/api" if stack.stack == "dev" else "digits-dev-api/api"
    assert not fnmatchcase(other, rule["serviceName"])


def test_given_each_stack_then_api_gateway_sends_only_its_free_stage_metrics(stack: StackRecord) -> None:
    """Per-stage Count, Latency and errors are always sent; detailed metrics
    (per method) are billed as custom metrics, and nothing reads them."""
    (method_settings,) = [r["inputs"] for r in stack.of_type("aws:apigateway/methodSettings:MethodSettings")]
    assert method_settings["methodPath"] == "*/*"
    assert method_settings["settings"]["metricsEnabled"] is False
