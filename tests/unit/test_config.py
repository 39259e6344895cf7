"""Configuration from the environment: defaults, and clear refusals."""

from __future__ import annotations

import pytest

from functions.core.config import ConfigError, Need, Settings, load_settings
from functions.core.imaging import MAX_IMAGE_BYTES


def test_given_nothing_set_then_defaults_apply() -> None:
    assert load_settings({}) == Settings()
    assert Settings().max_image_bytes == MAX_IMAGE_BYTES == 184320


def test_given_a_full_sqlite_environment_then_every_value_is_read() -> None:
    settings = load_settings(
        {
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
        },
        needs=[Need.HISTORY, Need.MODEL],
    )
    assert settings == Settings(
        "sqlite", None, "/data/history.db", 30, "digits", 100000, 1000000, 0.75, "DEBUG", "digits", "Digits"
    )


@pytest.mark.parametrize(
    ("environ", "needs", "variable"),
    [
        ({}, [Need.HISTORY], "HISTORY_BACKEND"),
        ({"HISTORY_BACKEND": "postgres"}, [], "HISTORY_BACKEND"),
        ({"HISTORY_BACKEND": "dynamodb"}, [Need.HISTORY], "HISTORY_TABLE"),
        ({"HISTORY_BACKEND": "sqlite", "HISTORY_TABLE": "t"}, [Need.HISTORY], "HISTORY_SQLITE_PATH"),
        ({}, [Need.MODEL], "SAGEMAKER_ENDPOINT_NAME"),
        ({"HISTORY_TTL_DAYS": "-1"}, [], "HISTORY_TTL_DAYS"),
        ({"MAX_IMAGE_BYTES": "lots"}, [], "MAX_IMAGE_BYTES"),
        ({"MAX_IMAGE_BYTES": str(MAX_IMAGE_BYTES + 1)}, [], "MAX_IMAGE_BYTES"),
        ({"MAX_IMAGE_PIXELS": "0"}, [], "MAX_IMAGE_PIXELS"),
        ({"LOW_CONFIDENCE_THRESHOLD": "1.5"}, [], "LOW_CONFIDENCE_THRESHOLD"),
        ({"LOW_CONFIDENCE_THRESHOLD": "nan"}, [], "LOW_CONFIDENCE_THRESHOLD"),
        ({"LOG_LEVEL": "chatty"}, [], "LOG_LEVEL"),
    ],
)
def test_given_a_missing_or_bad_variable_then_the_error_names_it(
    environ: dict[str, str], needs: list[Need], variable: str
) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings(environ, needs=needs)
