"""The DynamoDB client the history store uses on AWS: timeouts and attempts
that fit inside the workflow's time budget (checked by tests/unit/test_deadline.py)."""

from __future__ import annotations

from typing import Any

# DynamoDB answers in milliseconds: a call that takes a second is failing.
DYNAMODB_CONNECT_TIMEOUT_SECONDS = 0.5
DYNAMODB_READ_TIMEOUT_SECONDS = 1.0
# Attempts per call. Persist makes one: its task is short and the workflow
# retries Throttled with backoff; the history API (no workflow) retries itself.
PERSIST_ATTEMPTS = 1
HISTORY_API_ATTEMPTS = 2


def dynamodb_client_options(attempts: int) -> dict[str, Any]:
    """botocore ``Config`` options of the DynamoDB client."""
    return {
        "connect_timeout": DYNAMODB_CONNECT_TIMEOUT_SECONDS,
        "read_timeout": DYNAMODB_READ_TIMEOUT_SECONDS,
        "retries": {"mode": "standard", "total_max_attempts": attempts},
    }


def dynamodb_client(attempts: int) -> Any:
    """A client for the environment's region and endpoint URL that tries one call ``attempts`` times."""
    import boto3
    from botocore.config import Config

    return boto3.client("dynamodb", config=Config(**dynamodb_client_options(attempts)))
