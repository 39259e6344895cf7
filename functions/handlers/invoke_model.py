"""Workflow task InvokeModel: the tensor goes to the SageMaker endpoint
(``SAGEMAKER_ENDPOINT_NAME``) through boto3's ``sagemaker-runtime`` client.

In: the state after Preprocess. Out: the same facts with ``prediction``
(digit, confidence, probabilities, modelVersion) instead of the tensor. Fails
with ``ModelUnavailable`` (throttled, 5xx, unreachable or too slow: the
workflow retries it) or ``InternalError``. Emits the prediction metrics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.handlers._runtime import Handler, cold_start

if TYPE_CHECKING:
    from functions.core.config import Settings


def build(settings: Settings, client: Any = None) -> Handler:
    """``client``: a boto3 ``sagemaker-runtime`` client (default: one attempt per
    call, short timeouts, region and endpoint URL from the environment)."""
    from functions.core.config import ConfigError
    from functions.core.model_endpoint import ModelEndpoint, sagemaker_runtime_client
    from functions.core.predictions import INVOKE_MODEL, decode_tensor
    from functions.handlers._tasks import observability, task_handler

    if not settings.sagemaker_endpoint_name:
        raise ConfigError("Environment variable SAGEMAKER_ENDPOINT_NAME must be set.")
    endpoint = ModelEndpoint(client or sagemaker_runtime_client(), settings.sagemaker_endpoint_name)
    obs = observability(settings)

    def invoke_model(event: dict[str, Any]) -> dict[str, Any]:
        prediction = endpoint.predict(decode_tensor(event.get("tensor")))
        obs.prediction(prediction.digit, prediction.confidence, prediction.confidence < settings.low_confidence_threshold)
        passed_on = {key: value for key, value in event.items() if key != "tensor"}
        return {**passed_on, "prediction": prediction.to_dict()}

    return task_handler(INVOKE_MODEL, obs, invoke_model)


handler = cold_start(build, ("model",))
