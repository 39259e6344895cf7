"""The AWS environment tests run in: dummy credentials and loopback endpoints
(nothing can reach AWS), or no credentials at all."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest


def use_loopback_aws(monkeypatch: pytest.MonkeyPatch, sagemaker_url: str) -> None:
    """Dummy credentials, and SageMaker Runtime at ``sagemaker_url`` (a local endpoint)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ap-southeast-1",
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": sagemaker_url,
        "POWERTOOLS_METRICS_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def use_no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nowhere to find credentials: no variables, no files, no instance metadata,
    and a fresh default session (one another test created would still hold its own)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
