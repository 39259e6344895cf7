"""The service's configuration: environment variables only (docs/INTERFACES.md).

Read once per execution environment (a Lambda cold start, or the local stack's
start) into one immutable ``Settings``. A bad value fails right there with a
``ConfigError`` naming the variable, instead of a puzzling failure later.

Each handler states what it needs (``Need.HISTORY``, ``Need.MODEL``): a
variable that only another handler needs is not required, but any variable that
is set must be valid.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from functions.core.limits import DEFAULT_MAX_PIXELS, MAX_IMAGE_BYTES

DEFAULT_LOW_CONFIDENCE_THRESHOLD = 0.6
DEFAULT_SERVICE_NAME = "digit-recognition"
DEFAULT_METRICS_NAMESPACE = "DigitRecognition"
HISTORY_BACKENDS = ("dynamodb", "sqlite")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(ValueError):
    """An environment variable is missing or invalid."""


class Need(enum.Enum):
    HISTORY = "history"  # persist, history
    MODEL = "model"  # invoke_model


@dataclass(frozen=True)
class Settings:
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


def load_settings(environ: Mapping[str, str] | None = None, needs: Iterable[Need] = ()) -> Settings:
    """Settings from ``environ`` (default ``os.environ``); ``ConfigError`` if
    any set variable is invalid or one that ``needs`` requires is missing."""
    env = os.environ if environ is None else environ
    needed = set(needs)
    backend = _choice(env, "HISTORY_BACKEND", HISTORY_BACKENDS, required=Need.HISTORY in needed)
    return Settings(
        history_backend=backend,
        history_table=_text(env, "HISTORY_TABLE", required=backend == "dynamodb" and Need.HISTORY in needed),
        history_sqlite_path=_text(env, "HISTORY_SQLITE_PATH", required=backend == "sqlite" and Need.HISTORY in needed),
        history_ttl_days=_integer(env, "HISTORY_TTL_DAYS", default=0, minimum=0, maximum=36_500),
        sagemaker_endpoint_name=_text(env, "SAGEMAKER_ENDPOINT_NAME", required=Need.MODEL in needed),
        max_image_bytes=_integer(env, "MAX_IMAGE_BYTES", default=MAX_IMAGE_BYTES, minimum=1, maximum=MAX_IMAGE_BYTES),
        max_image_pixels=_integer(env, "MAX_IMAGE_PIXELS", default=DEFAULT_MAX_PIXELS, minimum=1, maximum=500_000_000),
        low_confidence_threshold=_fraction(env, "LOW_CONFIDENCE_THRESHOLD", DEFAULT_LOW_CONFIDENCE_THRESHOLD),
        log_level=_choice(env, "LOG_LEVEL", LOG_LEVELS, required=False, upper=True) or "INFO",
        service_name=_text(env, "POWERTOOLS_SERVICE_NAME", required=False) or DEFAULT_SERVICE_NAME,
        metrics_namespace=_text(env, "POWERTOOLS_METRICS_NAMESPACE", required=False) or DEFAULT_METRICS_NAMESPACE,
    )


def _raw(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return value.strip() if value is not None and value.strip() else None


def _text(env: Mapping[str, str], name: str, required: bool) -> str | None:
    value = _raw(env, name)
    if value is None and required:
        raise ConfigError(f"Environment variable {name} must be set.")
    return value


def _choice(
    env: Mapping[str, str], name: str, choices: tuple[str, ...], required: bool, upper: bool = False
) -> str | None:
    value = _text(env, name, required)
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
