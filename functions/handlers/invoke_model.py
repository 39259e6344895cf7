"""Workflow task InvokeModel: the tensor goes to the SageMaker endpoint
(``SAGEMAKER_ENDPOINT_NAME``) through boto3's ``sagemaker-runtime`` client.

In: the state after Preprocess. Out: the same facts with ``prediction``
(digit, confidence, probabilities, modelVersion) instead of the tensor. Fails
with ``ModelUnavailable`` (throttled, 5xx, unreachable, or too slow for the
task's deadline: the workflow retries it) or ``InternalError``. Emits the prediction metrics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.handlers._runtime import Handler, cold_start

if TYPE_CHECKING:
    from functions.core.config import Settings
    from functions.core.deadline import Deadline
    from functions.core.model_endpoint import ClientForTimeout


def build(settings: Settings, client_for: ClientForTimeout | None = None) -> Handler:
    """``client_for(read_timeout)``: a boto3 ``sagemaker-runtime`` client with
    that read timeout (default: one attempt per call, region and endpoint URL
    from the environment, one client per timeout)."""
    from functions.core.config import ConfigError
    from functions.core.model_endpoint import SageMakerModel, cached_clients
    from functions.core.predictions import INVOKE_MODEL, decode_tensor
    from functions.handlers._tasks import observability, task_handler

    if not settings.sagemaker_endpoint_name:
        raise ConfigError("Environment variable SAGEMAKER_ENDPOINT_NAME must be set.")
    model = SageMakerModel(client_for or cached_clients(), settings.sagemaker_endpoint_name)
    obs = observability(settings)

    def invoke_model(event: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        prediction = model.predict(decode_tensor(event.get("tensor")), deadline)
        unsure = prediction.confidence < settings.low_confidence_threshold
        obs.prediction(prediction.digit, prediction.confidence, unsure)
        passed_on = {key: value for key, value in event.items() if key != "tensor"}
        return {**passed_on, "prediction": {**prediction.to_dict(), "lowConfidence": unsure}}

    return task_handler(INVOKE_MODEL, obs, invoke_model)


handler = cold_start(build, ("model",))
