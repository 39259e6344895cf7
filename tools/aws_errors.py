"""What the tools say when AWS refuses: botocore's error code and message, and the login fix."""

from __future__ import annotations

from botocore.exceptions import ClientError

NO_CREDENTIALS = (
    "no AWS credentials found: run `aws sso login`, set AWS_PROFILE, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))
