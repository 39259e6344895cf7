"""The client of the model behind SageMaker's InvokeEndpoint, and its failures
in the error table's terms.

The boto3 ``sagemaker-runtime`` client makes exactly one attempt per call, and
its read timeout is what the task has left (``functions/core/deadline.py``),
capped at ``READ_TIMEOUT_SECONDS``: a cold or slow model fails with
``ModelUnavailable``, which the workflow retries, before Step Functions times
the task out. The workflow owns the retries (with backoff and jitter).
Outcomes:

- throttling, model not ready, any 5xx, a model container 5xx, a connection
  failure, a timeout, or too little time left to wait -> ``ModelUnavailable``
  (the workflow retries it, then the API answers 503);
- any other 4xx (our request was wrong, the endpoint does not accept it) ->
  ``InternalError``: a bug on our side.

The botocore error stays chained as the cause, for the handler's log.

Locally the client reaches ``local/sagemaker_endpoint.py`` through the standard
``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME`` variable.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from functions.core.deadline import Deadline
from functions.core.errors import InternalError, ModelUnavailable
from functions.core.model_wire import ModelPrediction, model_request_body, parse_model_response

CONNECT_TIMEOUT_SECONDS = 1.0
# The longest wait for one answer: a serverless cold start that takes longer is
# retried by the workflow (its container keeps starting meanwhile).
READ_TIMEOUT_SECONDS = 4.5
# Less time than this left: not worth a call, the workflow's retry has a better chance.
MIN_READ_TIMEOUT_SECONDS = 0.5
# Read timeouts are rounded down to this step, so a handful of clients serve every deadline.
READ_TIMEOUT_STEP_SECONDS = 0.25
CONTENT_TYPE = "application/json"
TRANSIENT_CODES = frozenset({"ThrottlingException", "ModelNotReadyException", "ServiceUnavailable", "InternalFailure"})

ClientForTimeout = Callable[[float], Any]


def sagemaker_runtime_client(read_timeout: float = READ_TIMEOUT_SECONDS) -> Any:
    """A client for the environment's region and endpoint URL, one attempt per call."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": 1},
    )
    return boto3.client("sagemaker-runtime", config=config)


def cached_clients() -> ClientForTimeout:
    """One client per read timeout, created when first needed."""
    return functools.lru_cache(maxsize=None)(sagemaker_runtime_client)


def read_timeout_for(deadline: Deadline) -> float | None:
    """The read timeout that ends a call before ``deadline`` (None: too little time left)."""
    budget = min(READ_TIMEOUT_SECONDS, deadline.seconds_left() - CONNECT_TIMEOUT_SECONDS)
    if budget < MIN_READ_TIMEOUT_SECONDS:
        return None
    return math.floor(budget / READ_TIMEOUT_STEP_SECONDS) * READ_TIMEOUT_STEP_SECONDS


class SageMakerClient:
    """The model's predictions through one endpoint's InvokeEndpoint."""

    def __init__(self, client_for: ClientForTimeout, endpoint_name: str) -> None:
        """``client_for(read_timeout)``: a sagemaker-runtime client with that read timeout."""
        self._client_for = client_for
        self._endpoint_name = endpoint_name

    def predict(self, tensor: np.ndarray, deadline: Deadline) -> ModelPrediction:
        read_timeout = read_timeout_for(deadline)
        if read_timeout is None:
            raise ModelUnavailable()
        try:
            response = self._client_for(read_timeout).invoke_endpoint(
                EndpointName=self._endpoint_name,
                ContentType=CONTENT_TYPE,
                Accept=CONTENT_TYPE,
                Body=model_request_body(tensor),
            )
            body = response["Body"].read()
        except ClientError as error:
            raise _from_client_error(error) from error
        except (BotocoreConnectionError, HTTPClientError) as error:
            raise ModelUnavailable() from error
        return parse_model_response(body)


def _from_client_error(error: ClientError) -> Exception:
    code = error.response.get("Error", {}).get("Code", "")
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    original_status = int(error.response.get("OriginalStatusCode") or 0)
    if code in TRANSIENT_CODES or status >= 500 or original_status >= 500:
        return ModelUnavailable()
    return InternalError()
