"""Configuration from the environment: defaults, and clear refusals."""

from __future__ import annotations

import pytest

from functions.core.config import (
    ConfigError,
    DynamoDbHistory,
    FunctionSettings,
    HistoryApiSettings,
    InvokeModelSettings,
    PersistSettings,
    PreprocessSettings,
    SqliteHistory,
    ValidateSettings,
    load_settings,
)
from functions.core.imaging import MAX_IMAGE_BYTES

FULL_SQLITE_ENVIRONMENT = {
    "HISTORY_BACKEND": "sqlite",
    "HISTORY_SQLITE_PATH": "/data/history.db",
    "HISTORY_TTL_DAYS": "30",
    "SAGEMAKER_ENDPOINT_NAME": "digits",
    "MAX_IMAGE_BYTES": "100000",
    "MAX_IMAGE_PIXELS": "1000000",
    "LOW_CONFIDENCE_THRESHOLD": "0.75",
    "LOG_LEVEL": "debug",
    "POWERTOOLS_SERVICE_NAME": "digits",
    "POWERTOOLS_METRICS_NAMESPACE": "Digits",
}
OBSERVABILITY = {"log_level": "DEBUG", "service_name": "digits", "metrics_namespace": "Digits"}


def test_given_nothing_set_then_defaults_apply() -> None:
    assert load_settings(FunctionSettings, {}) == FunctionSettings()
    assert load_settings(ValidateSettings, {}) == ValidateSettings()
    assert load_settings(PreprocessSettings, {}) == PreprocessSettings()
    assert ValidateSettings().max_image_bytes == MAX_IMAGE_BYTES == 184320


def test_given_a_full_sqlite_environment_then_every_value_is_read() -> None:
    def load(kind: type[FunctionSettings]) -> FunctionSettings:
        return load_settings(kind, FULL_SQLITE_ENVIRONMENT)

    assert load(ValidateSettings) == ValidateSettings(**OBSERVABILITY, max_image_bytes=100000, max_image_pixels=1000000)
    assert load(PreprocessSettings) == PreprocessSettings(**OBSERVABILITY, max_image_pixels=1000000)
    assert load(InvokeModelSettings) == InvokeModelSettings(
        **OBSERVABILITY, sagemaker_endpoint_name="digits", low_confidence_threshold=0.75
    )
    history = SqliteHistory(path="/data/history.db")
    assert load(PersistSettings) == PersistSettings(**OBSERVABILITY, history=history)
    assert load(HistoryApiSettings) == HistoryApiSettings(**OBSERVABILITY, history=history)


def test_given_a_dynamodb_environment_then_the_table_and_its_ttl_are_read() -> None:
    environ = {**FULL_SQLITE_ENVIRONMENT, "HISTORY_BACKEND": "DynamoDB", "HISTORY_TABLE": "digits-PredictionHistory"}

    table = DynamoDbHistory(table="digits-PredictionHistory", ttl_days=30)
    assert load_settings(PersistSettings, environ).history == table
    assert load_settings(HistoryApiSettings, environ).history == table


@pytest.mark.parametrize(
    ("environ", "kinds", "variable"),
    [
        ({}, [PersistSettings, HistoryApiSettings], "HISTORY_BACKEND"),
        ({"HISTORY_BACKEND": "postgres"}, [ValidateSettings], "HISTORY_BACKEND"),
        ({"HISTORY_BACKEND": "dynamodb"}, [PersistSettings, HistoryApiSettings], "HISTORY_TABLE"),
        (
            {"HISTORY_BACKEND": "sqlite", "HISTORY_TABLE": "t"},
            [PersistSettings, HistoryApiSettings],
            "HISTORY_SQLITE_PATH",
        ),
        ({}, [InvokeModelSettings], "SAGEMAKER_ENDPOINT_NAME"),
        ({"HISTORY_TTL_DAYS": "-1"}, [ValidateSettings], "HISTORY_TTL_DAYS"),
        ({"MAX_IMAGE_BYTES": "lots"}, [ValidateSettings], "MAX_IMAGE_BYTES"),
        ({"MAX_IMAGE_BYTES": str(MAX_IMAGE_BYTES + 1)}, [ValidateSettings], "MAX_IMAGE_BYTES"),
        ({"MAX_IMAGE_PIXELS": "0"}, [ValidateSettings, PreprocessSettings], "MAX_IMAGE_PIXELS"),
        ({"LOW_CONFIDENCE_THRESHOLD": "1.5"}, [ValidateSettings], "LOW_CONFIDENCE_THRESHOLD"),
        ({"LOW_CONFIDENCE_THRESHOLD": "nan"}, [ValidateSettings], "LOW_CONFIDENCE_THRESHOLD"),
        ({"LOG_LEVEL": "chatty"}, [ValidateSettings], "LOG_LEVEL"),
    ],
)
def test_given_a_missing_or_bad_variable_then_the_error_names_it(
    environ: dict[str, str], kinds: list[type[FunctionSettings]], variable: str
) -> None:
    """A variable only another function needs is not required, but one that
    is set is checked by every function (the rows with ValidateSettings)."""
    for kind in kinds:
        with pytest.raises(ConfigError, match=variable):
            load_settings(kind, environ)


def test_given_only_what_validate_needs_then_the_functions_that_need_more_refuse_to_start() -> None:
    environ = {"MAX_IMAGE_BYTES": "1000"}

    assert load_settings(ValidateSettings, environ).max_image_bytes == 1000
    for kind, variable in (
        (InvokeModelSettings, "SAGEMAKER_ENDPOINT_NAME"),
        (PersistSettings, "HISTORY_BACKEND"),
        (HistoryApiSettings, "HISTORY_BACKEND"),
    ):
        with pytest.raises(ConfigError, match=variable):
            load_settings(kind, environ)
