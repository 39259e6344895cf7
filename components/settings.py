"""The stack's settings: every per-environment value, read once from the stack
configuration (``Pulumi.<stack>.yaml``) and validated before any resource is
declared.

``parse_settings`` is pure (raw strings in, a typed object out) so the rules
are testable without Pulumi; ``load_stack_settings`` feeds it from ``pulumi.Config``.
A bad value raises ``SettingsError`` naming the full key, e.g.
``digit-recognition:wafRateLimit``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import pulumi
import yaml

from components.pulumi_config import all_config
from components.sagemaker_image import SUPPORTED_REGIONS
from functions.core.tasks import FUNCTIONS

PROJECT = "digit-recognition"
FUNCTION_NAMES: tuple[str, ...] = tuple(function.key for function in FUNCTIONS)

# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS: frozenset[int] = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
STEP_FUNCTIONS_LOG_LEVELS = ("ALL", "ERROR", "FATAL", "OFF")
SAGEMAKER_MODES = ("serverless", "instance")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
METRICS_NAMESPACE = re.compile(r"^[A-Za-z0-9._/#:-]{1,255}$")

# Every key this program reads from the project namespace; anything else in
# the stack file is a typo and fails the program.
KNOWN_KEYS: tuple[str, ...] = (
    "logLevel",
    "logRetentionDays",
    "lambdaMemoryMb",
    "sagemakerMode",
    "sagemakerServerlessMemoryMb",
    "sagemakerServerlessMaxConcurrency",
    "sagemakerProvisionedConcurrency",
    "sagemakerInstanceType",
    "sagemakerInstanceCount",
    "apiThrottleRateLimit",
    "apiThrottleBurstLimit",
    "wafEnabled",
    "wafRateLimit",
    "pointInTimeRecovery",
    "deletionProtection",
    "alarmsEnabled",
    "alarmEmail",
    "alarmP99LatencyMs",
    "alarmErrorRatePercent",
    "historyTtlDays",
    "stepFunctionsLogLevel",
    "stepFunctionsIncludeExecutionData",
    "metricsNamespace",
    "lowConfidenceThreshold",
)

T = TypeVar("T")


class SettingsError(ValueError):
    """A stack setting is missing or out of range; the message names the key."""


@dataclass(frozen=True)
class SageMakerSettings:
    mode: Literal["serverless", "instance"]
    serverless_memory_mb: int
    serverless_max_concurrency: int
    # Serverless invocations kept warm (0: none, every first request after idle is a cold start).
    provisioned_concurrency: int
    instance_type: str | None
    instance_count: int


@dataclass(frozen=True)
class StackSettings:
    stack: str
    region: str
    log_level: str
    log_retention_days: int
    lambda_memory_mb: Mapping[str, int]
    sagemaker: SageMakerSettings
    api_throttle_rate_limit: float
    api_throttle_burst_limit: int
    waf_enabled: bool
    waf_rate_limit: int
    point_in_time_recovery: bool
    deletion_protection: bool
    alarms_enabled: bool
    alarm_email: str | None
    alarm_p99_latency_ms: int
    alarm_error_rate_percent: float
    history_ttl_days: int
    step_functions_log_level: str
    step_functions_include_execution_data: bool
    metrics_namespace: str
    low_confidence_threshold: float

    @property
    def name_prefix(self) -> str:
        """Prefix of physical names, so two stacks can share an account."""
        return f"digits-{self.stack}"


class _Reader:
    """Typed access to raw config strings, each error naming the full key."""

    def __init__(self, raw: Mapping[str, str | None]) -> None:
        self._raw = raw

    def _fail(self, key: str, problem: str) -> SettingsError:
        return SettingsError(f"{PROJECT}:{key} {problem}")

    def _value(self, key: str, convert: Callable[[str], T], kind: str, default: T | None) -> T:
        raw = self._raw.get(key)
        if raw is None:
            if default is None:
                raise self._fail(key, "is required but not set")
            return default
        try:
            return convert(raw.strip())
        except (ValueError, TypeError):
            raise self._fail(key, f"must be {kind}, got {raw!r}") from None

    def string(self, key: str, default: str | None = None) -> str:
        return self._value(key, str, "a string", default)

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> str:
        value = self.string(key, default)
        if value not in choices:
            raise self._fail(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def boolean(self, key: str, default: bool | None = None) -> bool:
        return self._value(key, _parse_bool, "true or false", default)

    def integer(self, key: str, low: int, high: int, default: int | None = None) -> int:
        value = self._value(key, int, "an integer", default)
        self._check_range(key, value, low, high)
        return value

    def number(self, key: str, low: float, high: float, default: float | None = None) -> float:
        value = self._value(key, float, "a number", default)
        self._check_range(key, value, low, high)
        return value

    def _check_range(self, key: str, value: float, low: float, high: float) -> None:
        if not low <= value <= high:
            raise self._fail(key, f"must be between {low} and {high}, got {value}")

    def memory_map(self, key: str) -> dict[str, int]:
        raw = self._value(key, json.loads, "a JSON object of function name to MB", None)
        if not isinstance(raw, dict) or set(raw) != set(FUNCTION_NAMES):
            raise self._fail(key, f"must set exactly these functions: {', '.join(FUNCTION_NAMES)}")
        # Lambda accepts 128 MB to 10240 MB.
        return {
            name: _Reader({f"{key}.{name}": str(raw[name])}).integer(f"{key}.{name}", 128, 10240)
            for name in FUNCTION_NAMES
        }


def _parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise ValueError(text)
    return lowered == "true"


def parse_settings(stack: str, region: str | None, raw: Mapping[str, str | None]) -> StackSettings:
    """Validate the raw config strings of one stack into ``StackSettings``."""
    unknown = sorted(key for key, value in raw.items() if value is not None and key not in KNOWN_KEYS)
    if unknown:
        raise SettingsError(f"{PROJECT}:{unknown[0]} is not a known setting (known: {', '.join(KNOWN_KEYS)})")
    if region not in SUPPORTED_REGIONS:
        raise SettingsError(f"aws:region must be a region with a SageMaker scikit-learn image, got {region!r}")
    read = _Reader(raw)

    mode = read.choice("sagemakerMode", SAGEMAKER_MODES)
    sagemaker = SageMakerSettings(
        mode="serverless" if mode == "serverless" else "instance",
        # Serverless inference offers 1024-6144 MB in 1 GB steps and 1-200 concurrent invocations.
        serverless_memory_mb=int(
            read.choice("sagemakerServerlessMemoryMb", tuple(str(mb) for mb in range(1024, 6145, 1024)), "2048")
        ),
        serverless_max_concurrency=read.integer("sagemakerServerlessMaxConcurrency", 1, 200, 5),
        provisioned_concurrency=read.integer("sagemakerProvisionedConcurrency", 0, 200, 0),
        instance_type=_instance_type(read) if mode == "instance" else None,
        instance_count=read.integer("sagemakerInstanceCount", 1, 10, 1),
    )
    _check_provisioned_concurrency(sagemaker)

    alarms_enabled = read.boolean("alarmsEnabled")
    alarm_email = raw.get("alarmEmail")
    if alarms_enabled:
        if not alarm_email:
            raise SettingsError(
                f"{PROJECT}:alarmEmail is required when alarmsEnabled is true "
                f"(set it with `pulumi config set --secret alarmEmail you@example.com`)"
            )
        if not EMAIL.match(alarm_email):
            raise SettingsError(f"{PROJECT}:alarmEmail must be an e-mail address")

    step_functions_log_level = read.choice("stepFunctionsLogLevel", STEP_FUNCTIONS_LOG_LEVELS)
    if alarms_enabled and step_functions_log_level == "OFF":
        raise SettingsError(
            f"{PROJECT}:stepFunctionsLogLevel must not be OFF when alarms are enabled "
            "(the failed-executions alarm reads the workflow's logs)"
        )

    retention = read.integer("logRetentionDays", 1, 3653)
    if retention not in LOG_RETENTION_DAYS:
        raise SettingsError(f"{PROJECT}:logRetentionDays must be one of {sorted(LOG_RETENTION_DAYS)}, got {retention}")
    namespace = read.string("metricsNamespace", "DigitRecognition")
    if not METRICS_NAMESPACE.match(namespace) or namespace.startswith("AWS/"):
        raise SettingsError(f"{PROJECT}:metricsNamespace must be a custom CloudWatch namespace, got {namespace!r}")

    return StackSettings(
        stack=stack,
        region=region,
        log_level=read.choice("logLevel", LOG_LEVELS),
        log_retention_days=retention,
        lambda_memory_mb=read.memory_map("lambdaMemoryMb"),
        sagemaker=sagemaker,
        api_throttle_rate_limit=read.number("apiThrottleRateLimit", 1, 10000),
        api_throttle_burst_limit=read.integer("apiThrottleBurstLimit", 1, 5000),
        waf_enabled=read.boolean("wafEnabled"),
        # WAF rate-based rules count requests per client IP over 5 minutes (minimum 10).
        waf_rate_limit=read.integer("wafRateLimit", 10, 2_000_000_000, 1000),
        point_in_time_recovery=read.boolean("pointInTimeRecovery"),
        deletion_protection=read.boolean("deletionProtection"),
        alarms_enabled=alarms_enabled,
        alarm_email=alarm_email if alarms_enabled else None,
        alarm_p99_latency_ms=read.integer("alarmP99LatencyMs", 100, 29000, 3000),
        alarm_error_rate_percent=read.number("alarmErrorRatePercent", 0.1, 100, 5),
        history_ttl_days=read.integer("historyTtlDays", 0, 36500),
        step_functions_log_level=step_functions_log_level,
        step_functions_include_execution_data=read.boolean("stepFunctionsIncludeExecutionData"),
        metrics_namespace=namespace,
        low_confidence_threshold=read.number("lowConfidenceThreshold", 0, 1, 0.6),
    )


def _check_provisioned_concurrency(sagemaker: SageMakerSettings) -> None:
    """SageMaker keeps provisioned concurrency within the endpoint's maximum, and only serverless endpoints have it."""
    key = f"{PROJECT}:sagemakerProvisionedConcurrency"
    if sagemaker.mode == "instance" and sagemaker.provisioned_concurrency:
        raise SettingsError(f"{key} applies to serverless endpoints only: set it to 0 in instance mode")
    if sagemaker.provisioned_concurrency > sagemaker.serverless_max_concurrency:
        raise SettingsError(
            f"{key} must not exceed {PROJECT}:sagemakerServerlessMaxConcurrency "
            f"({sagemaker.serverless_max_concurrency}), got {sagemaker.provisioned_concurrency}"
        )


def _instance_type(read: _Reader) -> str:
    instance_type = read.string("sagemakerInstanceType")
    if not instance_type.startswith("ml."):
        raise SettingsError(
            f"{PROJECT}:sagemakerInstanceType must be a SageMaker instance type (ml.*), got {instance_type!r}"
        )
    return instance_type


def load_stack_settings() -> StackSettings:
    """Read and validate this stack's configuration."""
    config = pulumi.Config(PROJECT)
    raw = {key: config.get(key) for key in KNOWN_KEYS}
    raw.update(_unknown_project_keys())
    return parse_settings(pulumi.get_stack(), pulumi.Config("aws").get("region"), raw)


def _unknown_project_keys() -> dict[str, str]:
    """Keys set in the project namespace that this program does not read."""
    return {key: value for key, value in project_values(all_config()).items() if key not in KNOWN_KEYS}


def read_stack_file(path: Path) -> dict[str, str]:
    """A ``Pulumi.<stack>.yaml``'s config as the engine hands it over: strings, objects as JSON."""
    document = yaml.safe_load(path.read_text()) or {}
    config = document.get("config") or {}
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}


def project_values(config: Mapping[str, str]) -> dict[str, str]:
    """The project's own keys of a full config map, without their namespace."""
    prefix = f"{PROJECT}:"
    return {key[len(prefix) :]: value for key, value in config.items() if key.startswith(prefix)}
