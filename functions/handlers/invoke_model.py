"""Workflow task InvokeModel: the tensor goes to the SageMaker endpoint
(``SAGEMAKER_ENDPOINT_NAME``) through boto3's ``sagemaker-runtime`` client.

In: the state after Preprocess. Out: the same facts with ``prediction``
(digit, confidence, probabilities, modelVersion) instead of the tensor. Fails
with ``ModelUnavailable`` (throttled, 5xx, unreachable, or too slow for the
task's deadline: the workflow retries it) or ``InternalError``. Emits the prediction metrics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.core.config import InvokeModelSettings
from functions.handlers._runtime import Handler, cold_start

if TYPE_CHECKING:
    from functions.core.deadline import Deadline
    from functions.core.sagemaker_client import ClientForTimeout


def build(settings: InvokeModelSettings, client_for: ClientForTimeout | None = None) -> Handler:
    """``client_for(read_timeout)``: a boto3 ``sagemaker-runtime`` client with
    that read timeout (default: one attempt per call, region and endpoint URL
    from the environment, one client per timeout)."""
    from functions.core.predictions import decode_tensor
    from functions.core.sagemaker_client import SageMakerClient, cached_clients
    from functions.core.tasks import INVOKE_MODEL
    from functions.handlers._tasks import observability, task_handler

    model = SageMakerClient(client_for or cached_clients(), settings.sagemaker_endpoint_name)
    obs = observability(settings)

    def invoke_model(event: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        prediction = model.predict(decode_tensor(event.get("tensor")), deadline)
        unsure = prediction.confidence < settings.low_confidence_threshold
        obs.prediction(prediction.digit, prediction.confidence, unsure)
        passed_on = {key: value for key, value in event.items() if key != "tensor"}
        return {**passed_on, "prediction": {**prediction.to_dict(), "lowConfidence": unsure}}

    return task_handler(INVOKE_MODEL.stage, obs, invoke_model)


handler = cold_start(build, InvokeModelSettings)
