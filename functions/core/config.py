"""The functions' configuration: environment variables only (docs/INTERFACES.md).

Read once per execution environment (a Lambda cold start, or the local stack's
start) into the one immutable settings object its function needs
(``load_settings(ValidateSettings)``, ...). A bad value fails right there with
a ``ConfigError`` naming the variable, instead of a puzzling failure later.

A variable that only another function needs is not required, but any variable
that is set must be valid, so that one function's environment never hides a
mistake that another's would trip over.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Self, TypedDict, TypeVar

from functions.core.limits import DEFAULT_MAX_PIXELS, MAX_IMAGE_BYTES

DEFAULT_LOW_CONFIDENCE_THRESHOLD = 0.6
DEFAULT_SERVICE_NAME = "digit-recognition"
DEFAULT_METRICS_NAMESPACE = "DigitRecognition"
HISTORY_BACKENDS = ("dynamodb", "sqlite")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MAX_HISTORY_TTL_DAYS = 36_500
MAX_IMAGE_PIXELS_LIMIT = 500_000_000


class ConfigError(ValueError):
    """An environment variable is missing or invalid."""


@dataclass(frozen=True, kw_only=True)
class SqliteHistory:
    """History in one SQLite file (the local stack)."""

    path: str


@dataclass(frozen=True, kw_only=True)
class DynamoDbHistory:
    """History in a DynamoDB table (AWS); ``ttl_days`` > 0 lets items expire."""

    table: str
    ttl_days: int = 0


HistoryLocation = SqliteHistory | DynamoDbHistory


@dataclass(frozen=True, kw_only=True)
class EnvironmentVariables:
    """Every variable a function reads, each checked if set; None when unset."""

    history_backend: str | None = None
    history_table: str | None = None
    history_sqlite_path: str | None = None
    history_ttl_days: int = 0
    sagemaker_endpoint_name: str | None = None
    max_image_bytes: int = MAX_IMAGE_BYTES
    max_image_pixels: int = DEFAULT_MAX_PIXELS
    low_confidence_threshold: float = DEFAULT_LOW_CONFIDENCE_THRESHOLD
    log_level: str = "INFO"
    service_name: str = DEFAULT_SERVICE_NAME
    metrics_namespace: str = DEFAULT_METRICS_NAMESPACE


class _Observability(TypedDict):
    log_level: str
    service_name: str
    metrics_namespace: str


@dataclass(frozen=True, kw_only=True)
class FunctionSettings:
    """What every function reads: how it logs and where its metrics go."""

    log_level: str = "INFO"
    service_name: str = DEFAULT_SERVICE_NAME
    metrics_namespace: str = DEFAULT_METRICS_NAMESPACE

    @classmethod
    def from_variables(cls, variables: EnvironmentVariables) -> Self:
        return cls(**_observability(variables))


@dataclass(frozen=True, kw_only=True)
class ValidateSettings(FunctionSettings):
    max_image_bytes: int = MAX_IMAGE_BYTES
    max_image_pixels: int = DEFAULT_MAX_PIXELS

    @classmethod
    def from_variables(cls, variables: EnvironmentVariables) -> Self:
        return cls(
            **_observability(variables),
            max_image_bytes=variables.max_image_bytes,
            max_image_pixels=variables.max_image_pixels,
        )


@dataclass(frozen=True, kw_only=True)
class PreprocessSettings(FunctionSettings):
    max_image_pixels: int = DEFAULT_MAX_PIXELS

    @classmethod
    def from_variables(cls, variables: EnvironmentVariables) -> Self:
        return cls(**_observability(variables), max_image_pixels=variables.max_image_pixels)


@dataclass(frozen=True, kw_only=True)
class InvokeModelSettings(FunctionSettings):
    sagemaker_endpoint_name: str
    low_confidence_threshold: float = DEFAULT_LOW_CONFIDENCE_THRESHOLD

    @classmethod
    def from_variables(cls, variables: EnvironmentVariables) -> Self:
        return cls(
            **_observability(variables),
            sagemaker_endpoint_name=_required(variables.sagemaker_endpoint_name, "SAGEMAKER_ENDPOINT_NAME"),
            low_confidence_threshold=variables.low_confidence_threshold,
        )


@dataclass(frozen=True, kw_only=True)
class _HistorySettings(FunctionSettings):
    """A function that opens the history store."""

    history: HistoryLocation

    @classmethod
    def from_variables(cls, variables: EnvironmentVariables) -> Self:
        return cls(**_observability(variables), history=_history_location(variables))


@dataclass(frozen=True, kw_only=True)
class PersistSettings(_HistorySettings):
    pass


@dataclass(frozen=True, kw_only=True)
class HistoryApiSettings(_HistorySettings):
    pass


SettingsT = TypeVar("SettingsT", bound=FunctionSettings)


def load_settings(kind: type[SettingsT], environ: Mapping[str, str] | None = None) -> SettingsT:
    """``kind``'s settings from ``environ`` (default ``os.environ``);
    ``ConfigError`` if any set variable is invalid or one that ``kind``
    requires is missing."""
    return kind.from_variables(_read_variables(os.environ if environ is None else environ))


def _read_variables(env: Mapping[str, str]) -> EnvironmentVariables:
    """Every variable that is set, checked; ``ConfigError`` names the first bad one."""
    return EnvironmentVariables(
        history_backend=_choice(env, "HISTORY_BACKEND", HISTORY_BACKENDS),
        history_table=_raw(env, "HISTORY_TABLE"),
        history_sqlite_path=_raw(env, "HISTORY_SQLITE_PATH"),
        history_ttl_days=_integer(env, "HISTORY_TTL_DAYS", default=0, minimum=0, maximum=MAX_HISTORY_TTL_DAYS),
        sagemaker_endpoint_name=_raw(env, "SAGEMAKER_ENDPOINT_NAME"),
        max_image_bytes=_integer(env, "MAX_IMAGE_BYTES", default=MAX_IMAGE_BYTES, minimum=1, maximum=MAX_IMAGE_BYTES),
        max_image_pixels=_integer(
            env, "MAX_IMAGE_PIXELS", default=DEFAULT_MAX_PIXELS, minimum=1, maximum=MAX_IMAGE_PIXELS_LIMIT
        ),
        low_confidence_threshold=_fraction(env, "LOW_CONFIDENCE_THRESHOLD", DEFAULT_LOW_CONFIDENCE_THRESHOLD),
        log_level=_choice(env, "LOG_LEVEL", LOG_LEVELS, upper=True) or "INFO",
        service_name=_raw(env, "POWERTOOLS_SERVICE_NAME") or DEFAULT_SERVICE_NAME,
        metrics_namespace=_raw(env, "POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_METRICS_NAMESPACE,
    )


def _observability(variables: EnvironmentVariables) -> _Observability:
    return {
        "log_level": variables.log_level,
        "service_name": variables.service_name,
        "metrics_namespace": variables.metrics_namespace,
    }


def _history_location(variables: EnvironmentVariables) -> HistoryLocation:
    backend = _required(variables.history_backend, "HISTORY_BACKEND")
    if backend == "sqlite":
        return SqliteHistory(path=_required(variables.history_sqlite_path, "HISTORY_SQLITE_PATH"))
    return DynamoDbHistory(
        table=_required(variables.history_table, "HISTORY_TABLE"), ttl_days=variables.history_ttl_days
    )


def _required(value: str | None, name: str) -> str:
    if value is None:
        raise ConfigError(f"Environment variable {name} must be set.")
    return value


def _raw(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return value.strip() if value is not None and value.strip() else None


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], upper: bool = False) -> str | None:
    value = _raw(env, name)
    if value is None:
        return None
    value = value.upper() if upper else value.lower()
    if value not in choices:
        raise ConfigError(f"Environment variable {name} must be one of {', '.join(choices)}, not {value!r}.")
    return value


def _integer(env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    value = _raw(env, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"Environment variable {name} must be a whole number, not {value!r}.") from None
    if not minimum <= number <= maximum:
        raise ConfigError(f"Environment variable {name} must be from {minimum} to {maximum}, not {number}.")
    return number


def _fraction(env: Mapping[str, str], name: str, default: float) -> float:
    value = _raw(env, name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"Environment variable {name} must be a number, not {value!r}.") from None
    if not 0.0 <= number <= 1.0:
        raise ConfigError(f"Environment variable {name} must be between 0 and 1, not {value}.")
    return number
