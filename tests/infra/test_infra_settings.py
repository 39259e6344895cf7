"""Stack settings: both stack files validate, and a bad value fails naming its key."""

from __future__ import annotations

import pytest

from components.settings import SettingsError, parse_settings
from tests.infra.records import raw_settings, settings_of

DEV = raw_settings("dev")


def test_given_the_stack_files_then_both_validate_with_their_environment_s_character() -> None:
    dev, prod = settings_of("dev"), settings_of("prod")
    assert (dev.region, prod.region) == ("ap-southeast-1", "ap-southeast-1")
    assert dev.step_functions_include_execution_data and not prod.step_functions_include_execution_data
    assert prod.waf_enabled and prod.alarms_enabled and prod.point_in_time_recovery and prod.deletion_protection
    assert not (dev.waf_enabled or dev.alarms_enabled or dev.point_in_time_recovery or dev.deletion_protection)
    assert prod.log_retention_days > dev.log_retention_days


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("logLevel", "LOUD", "digit-recognition:logLevel must be one of"),
        ("logRetentionDays", "8", "digit-recognition:logRetentionDays must be one of"),
        ("lambdaMemoryMb", '{"validate": 256}', "digit-recognition:lambdaMemoryMb must set exactly"),
        (
            "lambdaMemoryMb",
            '{"validate": 64, "preprocess": 1, "invoke_model": 1, "persist": 1, "history": 1}',
            "digit-recognition:lambdaMemoryMb.validate must be between",
        ),
        ("sagemakerServerlessMemoryMb", "1500", "digit-recognition:sagemakerServerlessMemoryMb must be one of"),
        ("apiThrottleBurstLimit", "lots", "digit-recognition:apiThrottleBurstLimit must be an integer"),
        ("wafEnabled", "yes", "digit-recognition:wafEnabled must be true or false"),
        ("wafRateLimit", "5", "digit-recognition:wafRateLimit must be between"),
        ("historyTtlDays", "-1", "digit-recognition:historyTtlDays must be between"),
        ("stepFunctionsLogLevel", "VERBOSE", "digit-recognition:stepFunctionsLogLevel must be one of"),
        ("lowConfidenceThreshold", "1.5", "digit-recognition:lowConfidenceThreshold must be between"),
        ("metricsNamespace", "AWS/Lambda", "digit-recognition:metricsNamespace must be a custom"),
        ("pointInTimeRecovery", None, "digit-recognition:pointInTimeRecovery is required"),
        ("wafRateLimt", "100", "digit-recognition:wafRateLimt is not a known setting"),
        (
            "sagemakerProvisionedConcurrency",
            "3",
            "digit-recognition:sagemakerProvisionedConcurrency must not exceed "
            "digit-recognition:sagemakerServerlessMaxConcurrency",
        ),
        ("sagemakerProvisionedConcurrency", "-1", "digit-recognition:sagemakerProvisionedConcurrency must be between"),
    ],
)
def test_given_a_bad_value_then_loading_fails_naming_the_key(key: str, value: str | None, message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace(".", r"\.")):
        parse_settings("dev", "ap-southeast-1", {**DEV, key: value})


def test_given_alarms_without_an_email_then_loading_fails_naming_the_secret() -> None:
    with pytest.raises(SettingsError, match="digit-recognition:alarmEmail is required"):
        parse_settings("dev", "ap-southeast-1", {**DEV, "alarmsEnabled": "true"})


def test_given_instance_mode_without_an_instance_type_then_loading_fails() -> None:
    with pytest.raises(SettingsError, match="digit-recognition:sagemakerInstanceType is required"):
        parse_settings("dev", "ap-southeast-1", {**DEV, "sagemakerMode": "instance"})


def test_given_a_region_without_the_serving_image_then_loading_fails() -> None:
    with pytest.raises(SettingsError, match="aws:region"):
        parse_settings("dev", "mars-north-1", DEV)


def test_given_instance_mode_with_provisioned_concurrency_then_loading_fails() -> None:
    raw = {
        **DEV,
        "sagemakerMode": "instance",
        "sagemakerInstanceType": "ml.c6i.large",
        "sagemakerProvisionedConcurrency": "1",
    }
    with pytest.raises(SettingsError, match="sagemakerProvisionedConcurrency applies to serverless endpoints only"):
        parse_settings("dev", "ap-southeast-1", raw)
