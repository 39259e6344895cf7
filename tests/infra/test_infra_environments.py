"""dev and prod differ only through their stack files: prod-only features
are present in prod and absent in dev, and every setting reaches its resource."""

from __future__ import annotations

from tests.infra.records import StackRecord, instance_sagemaker, settings_of

# How the Pulumi wire protocol marks a secret value.
SECRET_SIGNATURE, SECRET_VALUE = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"


def test_given_prod_then_history_is_protected_and_given_dev_then_not(stacks: dict[str, StackRecord]) -> None:
    for name, expected in (("dev", False), ("prod", True)):
        table = stacks[name].inputs("aws:dynamodb/table:Table")
        assert table["pointInTimeRecovery"]["enabled"] is expected
        assert table["deletionProtectionEnabled"] is expected


def test_given_prod_then_alarms_email_the_topic(stacks: dict[str, StackRecord]) -> None:
    prod = stacks["prod"]
    subscription = prod.inputs("aws:sns/topicSubscription:TopicSubscription")
    assert subscription["protocol"] == "email"
    # Kept secret in the state, as it came from `pulumi config set --secret`.
    assert subscription["endpoint"] == {SECRET_SIGNATURE: SECRET_VALUE, "value": "oncall@example.com"}
    alarms = {a["name"]: a["inputs"] for a in prod.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert set(alarms) == {"api-5xx-rate", "failed-executions", "api-p99-latency", "throttles"}
    topic_arn = "arn:aws:sns:ap-southeast-1:123456789012:topic/digits-prod-alarms"
    assert all(alarm["alarmActions"] == [topic_arn] for alarm in alarms.values())
    settings = settings_of("prod")
    assert alarms["api-p99-latency"]["threshold"] == settings.alarm_p99_latency_ms
    assert alarms["api-5xx-rate"]["threshold"] == settings.alarm_error_rate_percent


def test_given_each_stack_then_its_settings_reach_the_resources(stack: StackRecord) -> None:
    settings = settings_of(stack.stack)
    throttling = stack.inputs("aws:apigateway/methodSettings:MethodSettings")["settings"]
    assert throttling["throttlingRateLimit"] == settings.api_throttle_rate_limit
    assert throttling["throttlingBurstLimit"] == settings.api_throttle_burst_limit
    for function in stack.of_type("aws:lambda/function:Function"):
        key = function["inputs"]["handler"].split(".")[2]
        assert function["inputs"]["memorySize"] == settings.lambda_memory_mb[key]
        assert function["inputs"]["environment"]["variables"]["LOG_LEVEL"] == settings.log_level
    assert {g["inputs"]["retentionInDays"] for g in stack.of_type("aws:cloudwatch/logGroup:LogGroup")} == {
        settings.log_retention_days
    }
    persist = stack.inputs("aws:lambda/function:Function", "persist")
    assert persist["environment"]["variables"]["HISTORY_TTL_DAYS"] == str(settings.history_ttl_days)


def test_given_dev_then_the_endpoint_is_serverless(stacks: dict[str, StackRecord]) -> None:
    (variant,) = stacks["dev"].inputs("aws:sagemaker/endpointConfiguration:EndpointConfiguration")["productionVariants"]
    settings = settings_of("dev").sagemaker
    assert variant["serverlessConfig"] == {
        "memorySizeInMb": settings.serverless_memory_mb,
        "maxConcurrency": settings.serverless_max_concurrency,
    }
    assert "instanceType" not in variant


def test_given_each_stack_then_the_endpoint_variant_follows_its_mode(stack: StackRecord) -> None:
    (variant,) = stack.inputs("aws:sagemaker/endpointConfiguration:EndpointConfiguration")["productionVariants"]
    settings = settings_of(stack.stack).sagemaker
    assert ("serverlessConfig" in variant) == (settings.mode == "serverless")
    assert ("instanceType" in variant) == (settings.mode == "instance")


def test_given_instance_mode_then_the_variant_runs_on_instances() -> None:
    from dataclasses import replace

    from components.model_endpoint import _variant

    settings = replace(settings_of("prod"), sagemaker=instance_sagemaker())
    variant = _variant(settings.sagemaker, "model")
    assert (variant.instance_type, variant.initial_instance_count, variant.serverless_config) == (
        "ml.c6i.large",
        2,
        None,
    )
