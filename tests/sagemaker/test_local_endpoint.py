"""The local SageMaker endpoint through boto3's real ``sagemaker-runtime``
client, and what ``invoke_model``'s core makes of each answer.

SageMaker Runtime answers a container status other than 200 with ``ModelError``
(HTTP 424, botocore's sagemaker-runtime model) carrying ``OriginalStatusCode``
and ``OriginalMessage``; ``functions/core/sagemaker_client.py`` makes a container
4xx an ``InternalError`` (our request was wrong: not retried) and a 5xx
``ModelUnavailable`` (retried, then 503).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from functions.core.deadline import Deadline
from functions.core.errors import InternalError, ModelUnavailable
from functions.core.sagemaker_client import READ_TIMEOUT_SECONDS, SageMakerClient, sagemaker_runtime_client
from local.sagemaker_endpoint import LocalSageMakerEndpoint
from model import inference
from model.mnist_data import load_split, through_upload_path

ENDPOINT_NAME = "digits-boto3"
DEADLINE_SECONDS = 30.0


@pytest.fixture(scope="module")
def endpoint() -> Iterator[LocalSageMakerEndpoint]:
    with LocalSageMakerEndpoint(endpoint_name=ENDPOINT_NAME) as model:
        yield model


@pytest.fixture(scope="module")
def broken_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSageMakerEndpoint]:
    """A model that loads but fails on every prediction: its last layer has the wrong shape."""
    directory = tmp_path_factory.mktemp("broken-model")
    with np.load(inference.default_weights_path()) as weights:
        arrays = {name: weights[name] for name in weights.files}
    arrays["dense2.w"] = arrays["dense2.w"][:-1]
    np.savez(directory / "digits-broken.npz", **arrays)
    with LocalSageMakerEndpoint(directory, endpoint_name=ENDPOINT_NAME) as model:
        yield model


def _client(endpoint: LocalSageMakerEndpoint, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ap-southeast-1",
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": endpoint.url,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return sagemaker_runtime_client(READ_TIMEOUT_SECONDS)


@pytest.fixture
def runtime(endpoint: LocalSageMakerEndpoint, monkeypatch: pytest.MonkeyPatch) -> Any:
    return _client(endpoint, monkeypatch)


def _predict(client: Any, tensor: np.ndarray) -> Any:
    return SageMakerClient(lambda _: client, ENDPOINT_NAME).predict(tensor, Deadline.after(DEADLINE_SECONDS))


def _model_error(client: Any, body: str, content_type: str, accept: str) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        client.invoke_endpoint(EndpointName=ENDPOINT_NAME, Body=body.encode(), ContentType=content_type, Accept=accept)
    response: dict[str, Any] = caught.value.response
    assert response["Error"]["Code"] == "ModelError"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 424
    return response


def test_given_a_real_digit_then_invoke_model_gets_its_prediction(runtime: Any) -> None:
    images, labels = load_split("test")
    prediction = _predict(runtime, through_upload_path(images[:1])[0])
    assert prediction.digit == labels[0]
    assert prediction.model_version == inference.load_model().version


VALID = json.dumps({"instances": [[0.0] * inference.PIXELS]})


@pytest.mark.parametrize(
    ("body", "content_type", "accept", "status", "code"),
    [
        (
            json.dumps({"instances": [[0.5] * (inference.PIXELS - 1)]}),
            "application/json",
            "application/json",
            400,
            "InvalidInput",
        ),
        (
            json.dumps({"instances": [[2.0] * inference.PIXELS]}),
            "application/json",
            "application/json",
            400,
            "InvalidInput",
        ),
        ("not json", "application/json", "application/json", 400, "InvalidInput"),
        ("0,0,0", "text/csv", "application/json", 415, "UnsupportedMediaType"),
        (VALID, "application/json", "text/csv", 406, "NotAcceptable"),
    ],
)
def test_given_a_request_the_container_refuses_then_boto3_gets_a_model_error_with_its_status_and_body(
    runtime: Any, body: str, content_type: str, accept: str, status: int, code: str
) -> None:
    response = _model_error(runtime, body, content_type, accept)
    assert response["OriginalStatusCode"] == status
    assert json.loads(response["OriginalMessage"])["error"]["code"] == code
    assert f"({status})" in response["Error"]["Message"]


@pytest.mark.parametrize(
    "tensor", [np.full((28, 28), 2.0), np.zeros(inference.PIXELS - 1)], ids=["value 2.0", "783 pixels"]
)
def test_given_the_container_refuses_our_request_then_invoke_model_reports_an_internal_error(
    runtime: Any, tensor: np.ndarray
) -> None:
    with pytest.raises(InternalError) as caught:
        _predict(runtime, tensor)
    assert caught.value.__cause__ is not None
    assert caught.value.__cause__.response["OriginalStatusCode"] == 400  # type: ignore[attr-defined]


def test_given_the_container_fails_then_boto3_gets_a_model_error_500_and_invoke_model_says_unavailable(
    broken_endpoint: LocalSageMakerEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(broken_endpoint, monkeypatch)
    response = _model_error(client, VALID, "application/json", "application/json")
    assert response["OriginalStatusCode"] == 500
    with pytest.raises(ModelUnavailable):
        _predict(client, np.zeros((28, 28)))
