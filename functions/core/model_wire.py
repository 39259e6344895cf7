"""The model's wire format: the SageMaker request and response of
``model/inference.py``, as the invoke_model task sends and reads them."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from functions.core.errors import InternalError

if TYPE_CHECKING:
    import numpy as np

# Decimals kept of each pixel sent to the model: far below what changes a prediction.
MODEL_INPUT_DECIMALS = 5


@dataclass(frozen=True)
class ModelPrediction:
    digit: int
    confidence: float
    probabilities: list[float]
    model_version: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "digit": self.digit,
            "confidence": self.confidence,
            "probabilities": self.probabilities,
            "modelVersion": self.model_version,
        }


def model_request_body(tensor: np.ndarray) -> bytes:
    """The SageMaker request of model/inference.py: ``{"instances": [[784 floats]]}``."""
    import numpy as np

    pixels = np.round(np.asarray(tensor, dtype=np.float64).reshape(-1), MODEL_INPUT_DECIMALS)
    return json.dumps({"instances": [pixels.tolist()]}, separators=(",", ":")).encode()


def parse_model_response(body: bytes) -> ModelPrediction:
    """The first prediction of a model response; ``InternalError`` if it is not one."""
    try:
        payload = json.loads(body)
        first = payload["predictions"][0]
        probabilities = [float(p) for p in first["probabilities"]]
        digit, confidence, version = first["digit"], float(first["confidence"]), payload["modelVersion"]
    except (ValueError, TypeError, KeyError, IndexError):
        raise InternalError("The model answered with something that is not a prediction.") from None
    valid = (
        len(probabilities) == 10
        and all(math.isfinite(p) and 0.0 <= p <= 1.0 for p in probabilities)
        and isinstance(digit, int)
        and not isinstance(digit, bool)
        and 0 <= digit <= 9
        and math.isfinite(confidence)
        and isinstance(version, str)
    )
    if not valid:
        raise InternalError("The model answered with something that is not a prediction.")
    return ModelPrediction(digit, confidence, probabilities, version)
