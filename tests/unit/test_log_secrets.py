"""Logs never carry AWS credentials or people's images, whatever the
function's log level.

At DEBUG (dev's ``logLevel``) the Lambda runtime sets the root logger to DEBUG,
and botocore then logs every signed request: the access key id, the session
token, the signature and the request body (``../shared/AWS_FACTS.md``, Lambda).
Here the real InvokeModel entry point, built from the environment as on Lambda,
calls the local SageMaker-protocol endpoint with temporary credentials (a
session token, as a Lambda role's are) under a root logger at DEBUG whose
handler keeps every line, and the process's stdout/stderr are read too; the
real Validate entry point opens a PNG upload the same way (PIL logs every
chunk of an image at DEBUG).
"""

from __future__ import annotations

import base64
import io
import logging
import uuid
from collections.abc import Iterator

import boto3
import numpy as np
import pytest
from PIL import Image

from functions.core.config import LOG_LEVELS, InvokeModelSettings, ValidateSettings
from functions.core.model_wire import model_request_body
from functions.core.observability import QUIET_LIBRARIES, Observability
from functions.core.predictions import encode_tensor
from functions.handlers import invoke_model, validate
from functions.handlers._runtime import cold_start
from local.sagemaker_endpoint import LocalSageMakerEndpoint
from tests.imagegen import encode

ENDPOINT_NAME = "digits-log-secrets"
# Shaped like temporary credentials; unique, so any occurrence is a leak.
ACCESS_KEY_ID = "ASIALOGLEAKTEST00001"
SECRET_ACCESS_KEY = "never/logged/secret+access+key/0123456789ab"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLEsessionTokenNeverLogged0123456789"
# A distinctive 28x28 input, so its request body cannot appear by accident.
TENSOR = np.linspace(0.0, 1.0, 28 * 28, dtype=np.float32).reshape(28, 28)


@pytest.fixture
def endpoint() -> Iterator[LocalSageMakerEndpoint]:
    model = LocalSageMakerEndpoint(endpoint_name=ENDPOINT_NAME)
    model.start()
    try:
        yield model
    finally:
        model.stop()


@pytest.fixture
def debug_root_log() -> Iterator[io.StringIO]:
    """The root logger at DEBUG with a handler that keeps every line, and the
    libraries' loggers as a fresh Lambda environment has them (no level of
    their own); all restored afterwards."""
    root = logging.getLogger()
    saved_root_level = root.level
    saved_library_levels = {name: logging.getLogger(name).level for name in QUIET_LIBRARIES}
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.NOTSET)
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setLevel(logging.DEBUG)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_root_level)
        for name, level in saved_library_levels.items():
            logging.getLogger(name).setLevel(level)


def test_given_debug_logging_when_a_handler_calls_aws_then_no_credential_or_image_is_logged(
    endpoint: LocalSageMakerEndpoint,
    debug_root_log: io.StringIO,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_SESSION_TOKEN": SESSION_TOKEN,
        "AWS_DEFAULT_REGION": "ap-southeast-1",
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": endpoint.url,
        "SAGEMAKER_ENDPOINT_NAME": ENDPOINT_NAME,
        "LOG_LEVEL": "DEBUG",
        # A logger of its own, writing to this test's captured output (Powertools keeps one per service).
        "POWERTOOLS_SERVICE_NAME": f"log-secrets-{uuid.uuid4().hex}",
    }.items():
        monkeypatch.setenv(name, value)
    # A fresh default session, as in a new Lambda environment: it resolves (and
    # logs finding) this test's credentials instead of reusing another test's.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    # The module's own entry point, fresh: it reads the environment and builds on its first call.
    handler = cold_start(invoke_model.build, InvokeModelSettings)

    result = handler({"requestId": "request-1", "tensor": encode_tensor(TENSOR)}, None)

    assert result["prediction"]["digit"] in range(10)
    out, err = capfd.readouterr()
    logged = debug_root_log.getvalue() + out + err
    # The capture sees botocore (its INFO lines still pass) and the handler's own logs.
    assert "Found credentials in environment variables." in logged
    assert "task done" in logged
    for secret in (ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN, "Signature=", "X-Amz-Security-Token"):
        assert secret not in logged, f"{secret!r} was logged"
    assert model_request_body(TENSOR).decode() not in logged


def test_given_debug_logging_when_a_handler_opens_an_upload_then_no_image_chunk_is_logged(
    debug_root_log: io.StringIO, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", f"log-secrets-{uuid.uuid4().hex}")
    handler = cold_start(validate.build, ValidateSettings)
    upload = base64.b64encode(encode(Image.fromarray((TENSOR * 255).astype(np.uint8)), "PNG")).decode()

    state = handler({"requestId": "request-2", "request": {"image": upload, "clientId": "client-1"}}, None)

    assert state["input"]["format"] == "png"
    logged = debug_root_log.getvalue() + "".join(capfd.readouterr())
    assert "task done" in logged
    # PIL's DEBUG line per PNG chunk: "STREAM b'IHDR' 16 13", "STREAM b'IDAT' ...".
    assert "STREAM b'I" not in logged
    assert upload not in logged


@pytest.mark.parametrize("function_level", LOG_LEVELS)
def test_given_any_function_log_level_when_a_handler_is_built_then_the_libraries_log_at_info_or_above(
    function_level: str, debug_root_log: io.StringIO
) -> None:
    logging.getLogger().setLevel(function_level)  # what the Lambda runtime does before the handler loads

    Observability.create("validate", "LevelCheck", function_level)

    children = ("botocore.auth", "botocore.endpoint", "urllib3.connectionpool", "PIL.PngImagePlugin")
    for name in (*QUIET_LIBRARIES, *children):
        assert logging.getLogger(name).getEffectiveLevel() == max(logging.INFO, logging.getLevelName(function_level))
