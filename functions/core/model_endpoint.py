"""The model behind SageMaker's InvokeEndpoint, and its failures in the error
table's terms.

The boto3 ``sagemaker-runtime`` client makes exactly one attempt with short
timeouts: the workflow owns the retries (with backoff and jitter) and the time
budget. Outcomes:

- throttling, model not ready, any 5xx, a model container 5xx, a connection
  failure or a timeout -> ``ModelUnavailable`` (the workflow retries it, then
  the API answers 503);
- any other 4xx (our request was wrong, the endpoint does not accept it) ->
  ``InternalError``: a bug on our side.

The botocore error stays chained as the cause, for the handler's log.

Locally the client reaches ``local/sagemaker_endpoint.py`` through the standard
``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME`` variable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from functions.core.errors import InternalError, ModelUnavailable
from functions.core.predictions import ModelPrediction, model_request_body, parse_model_response

CONNECT_TIMEOUT_SECONDS = 1
# SageMaker serverless may need a few seconds to start a cold container; a
# slower answer is retried once by the workflow rather than waited for.
READ_TIMEOUT_SECONDS = 4
CONTENT_TYPE = "application/json"
TRANSIENT_CODES = frozenset({"ThrottlingException", "ModelNotReadyException", "ServiceUnavailable", "InternalFailure"})


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


class ModelEndpoint:
    def __init__(self, client: Any, endpoint_name: str) -> None:
        self._client = client
        self._endpoint_name = endpoint_name

    def predict(self, tensor: np.ndarray) -> ModelPrediction:
        try:
            response = self._client.invoke_endpoint(
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
