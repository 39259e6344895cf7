"""The prediction workflow's core: what each task does to the workflow's state.

Pure functions over JSON-ready dicts; nothing here knows of Lambda, Step
Functions or boto3. The state that travels between the tasks (each key is
listed once more in ``workflows/definition.py``, which passes on nothing else):

- execution input: ``{"requestId", "request": <the POST body>}``
- after Validate: ``requestId, clientId, createdAt, input, image, timingsMs``
  (``image`` is the upload's bytes in base64, at most ~240 KB)
- after Preprocess: ``requestId, clientId, createdAt, input, tensor, thumbnail,
  timingsMs`` (the raw image is gone; ``tensor`` is the 28x28 float32 the model
  reads, base64, ~4 KB)
- after InvokeModel: ``requestId, clientId, createdAt, input, thumbnail,
  prediction, timingsMs`` (``prediction`` says whether the model is unsure:
  ``lowConfidence``, its confidence below ``LOW_CONFIDENCE_THRESHOLD``)
- after Persist: the prediction item (the execution's output).

numpy is imported by the two tensor helpers only: persist and history use
this module too and never load it (their cold start stays lean).

Request rules: the body must be a JSON object with a string ``image`` and a
``clientId`` of 1-64 characters from ``[A-Za-z0-9_-]``. Other fields are
ignored, so a newer page can send more without breaking an older API.

``createdAt`` is fixed by Validate and the item's ``id`` is derived from the
request id, so a retried Persist builds exactly the same item and the store's
idempotent ``put_new`` never writes a second one.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from functions.core.errors import BadRequest, InternalError
from functions.core.limits import SIDE

if TYPE_CHECKING:
    import numpy as np

    from functions.core.imaging import ImageInfo

State = dict[str, Any]

CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
CLIENT_ID_MESSAGE = "'clientId' must be 1 to 64 letters, digits, '-' or '_'."
# Item ids are UUIDs derived from the request id in this namespace.
ITEM_ID_NAMESPACE = uuid.UUID("5d0f7a52-6a4e-4c1e-9a57-0f1f5f1c2b6e")
TENSOR_BYTES = SIDE * SIDE * 4


@dataclass(frozen=True)
class PredictionRequest:
    request_id: str
    client_id: str
    image_field: str


def parse_request(execution_input: Any) -> PredictionRequest:
    """The workflow's input checked; ``BadRequest`` says what is wrong with the body."""
    if not isinstance(execution_input, dict) or not isinstance(execution_input.get("requestId"), str):
        raise InternalError("The workflow was started without a request id.")
    body = execution_input.get("request")
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object with 'image' and 'clientId'.")
    if "image" not in body:
        raise BadRequest("The request needs an 'image': base64 or a data: URL.")
    image = body["image"]
    if not isinstance(image, str):
        raise BadRequest("'image' must be a string of base64 or a data: URL.")
    return PredictionRequest(execution_input["requestId"], check_client_id(body.get("clientId")), image)


def check_client_id(value: Any) -> str:
    if not isinstance(value, str) or not CLIENT_ID.fullmatch(value):
        raise BadRequest(CLIENT_ID_MESSAGE)
    return value


def validated_state(
    request: PredictionRequest, raw_image: bytes, info: ImageInfo, now: datetime | None = None
) -> State:
    return {
        "requestId": request.request_id,
        "clientId": request.client_id,
        "createdAt": iso_timestamp(now or datetime.now(UTC)),
        "input": info.to_dict(),
        "image": base64.b64encode(raw_image).decode("ascii"),
    }


def raw_image(state: State) -> bytes:
    try:
        return base64.b64decode(state["image"], validate=True)
    except (KeyError, TypeError, binascii.Error):
        raise InternalError("The workflow state lost the image.") from None


def iso_timestamp(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds, the one form the history store sorts on."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def encode_tensor(tensor: np.ndarray) -> str:
    """The 28x28 model input as base64 of little-endian float32: compact and exact."""
    import numpy as np

    return base64.b64encode(np.asarray(tensor, dtype="<f4").reshape(SIDE, SIDE).tobytes()).decode("ascii")


def decode_tensor(text: Any) -> np.ndarray:
    import numpy as np

    try:
        raw = base64.b64decode(text, validate=True)
    except (TypeError, binascii.Error):
        raw = b""
    if len(raw) != TENSOR_BYTES:
        raise InternalError("The workflow state holds no valid tensor.")
    return np.frombuffer(raw, dtype="<f4").reshape(SIDE, SIDE)


def item_id(request_id: str) -> str:
    """The same request id always gives the same item id: retries write one item."""
    return str(uuid.uuid5(ITEM_ID_NAMESPACE, request_id))


def build_item(state: State) -> dict[str, Any]:
    """The prediction item (DESIGN.md) from the state after InvokeModel."""
    try:
        prediction = state["prediction"]
        return {
            "id": item_id(state["requestId"]),
            "clientId": state["clientId"],
            "digit": prediction["digit"],
            "confidence": prediction["confidence"],
            "lowConfidence": bool(prediction["lowConfidence"]),
            "probabilities": prediction["probabilities"],
            "modelVersion": prediction["modelVersion"],
            "createdAt": state["createdAt"],
            "input": state["input"],
            "thumbnail": state["thumbnail"],
            "timingsMs": state["timingsMs"],
        }
    except (KeyError, TypeError):
        raise InternalError("The workflow state lacks part of the prediction.") from None


def with_timing(state: State, previous: Any, stage: str, milliseconds: float) -> State:
    """``state`` with this stage's duration added to the earlier stages' ones."""
    timings = dict(previous) if isinstance(previous, dict) else {}
    timings[stage] = round(milliseconds, 3)
    return {**state, "timingsMs": timings}
