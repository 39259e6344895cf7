"""The digit model: numpy-only inference and the SageMaker inference contract.

Self-contained on purpose: this file is shipped as ``code/inference.py`` in
``model.tar.gz`` beside the weights, and the SageMaker scikit-learn serving
container imports it with nothing else of this project around it (it has numpy).

Network (weights trained by ``model/train.py``, batch norm already folded in):
conv3x3(1->16) relu maxpool2 -> conv3x3(16->32) relu maxpool2 ->
conv3x3 valid(32->64) relu -> dense(1600->128) relu -> dense(128->10) softmax.

The container's contract is ``model_fn`` + one ``transform_fn`` that answers
like a service: 200 with the predictions, or a JSON error with 400, 406 or 415.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

import numpy as np

WEIGHTS_GLOB = "digits-*.npz"
MAX_BATCH = 256
PIXELS = 28 * 28
JSON_CONTENT_TYPE = "application/json"
# Media ranges of an Accept header that admit a JSON answer.
JSON_ACCEPTING_RANGES = frozenset({JSON_CONTENT_TYPE, "application/*", "*/*"})
LAYER_NAMES = ("conv1", "conv2", "conv3", "dense1", "dense2")


class ModelInputError(ValueError):
    """A request body the model cannot accept: answered with a 400."""


@dataclass(frozen=True)
class DigitModel:
    version: str
    sha256: str
    params: dict[str, np.ndarray]

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> DigitModel:
        raw = Path(path).read_bytes()
        with np.load(path, allow_pickle=False) as archive:
            params = {name: np.ascontiguousarray(archive[name], dtype=np.float32) for name in archive.files if name != "version"}
            version = str(archive["version"])
        missing = [f"{layer}.{part}" for layer in LAYER_NAMES for part in ("w", "b") if f"{layer}.{part}" not in params]
        if missing:
            raise ValueError(f"weights file {path} lacks {', '.join(missing)}")
        for conv in ("conv1", "conv2", "conv3"):
            params[f"{conv}.w"] = _rows_by_position(params[f"{conv}.w"])
        return cls(version=version, sha256=hashlib.sha256(raw).hexdigest(), params=params)

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """(N, 28, 28) or (N, 784) floats in [0, 1], ink high -> (N, 10) probabilities."""
        x = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28, 1)
        p = self.params
        # ReLU after pooling: the same result (both are monotone), on a quarter of the values.
        x = _relu(_max_pool(_conv3x3(x, p["conv1.w"], p["conv1.b"], pad=1)))
        x = _relu(_max_pool(_conv3x3(x, p["conv2.w"], p["conv2.b"], pad=1)))
        x = _relu(_conv3x3(x, p["conv3.w"], p["conv3.b"], pad=0))
        x = _relu(x.reshape(x.shape[0], -1) @ p["dense1.w"] + p["dense1.b"])
        return _softmax(x @ p["dense2.w"] + p["dense2.b"])


def _conv3x3(x: np.ndarray, w: np.ndarray, b: np.ndarray, pad: int) -> np.ndarray:
    """NHWC convolution as one matrix product; ``w`` is (9 * C_in, C_out) in (kh, kw, c) order.

    The columns are nine shifted views concatenated along channels: contiguous
    copies, several times faster than gathering sliding windows."""
    if pad:
        x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    n, h, wd, _ = x.shape
    columns = np.concatenate([x[:, dy : dy + h - 2, dx : dx + wd - 2, :] for dy in range(3) for dx in range(3)], axis=3)
    out: np.ndarray = (columns.reshape(n * (h - 2) * (wd - 2), -1) @ w + b).reshape(n, h - 2, wd - 2, -1)
    return out


def _rows_by_position(weights: np.ndarray) -> np.ndarray:
    """Stored (c, kh, kw)-ordered rows (PyTorch's layout) -> the (kh, kw, c) order of ``_conv3x3``."""
    channels = weights.shape[0] // 9
    reordered = weights.reshape(channels, 3, 3, -1).transpose(1, 2, 0, 3).reshape(9 * channels, -1)
    return np.ascontiguousarray(reordered)


def _relu(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.maximum(x, 0.0, out=x)
    return out


def _max_pool(x: np.ndarray) -> np.ndarray:
    """2x2 max pooling as three element-wise maxima of strided views."""
    top = np.maximum(x[:, 0::2, 0::2], x[:, 0::2, 1::2])
    out: np.ndarray = np.maximum(top, np.maximum(x[:, 1::2, 0::2], x[:, 1::2, 1::2]), out=top)
    return out


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    out: np.ndarray = shifted / shifted.sum(axis=1, keepdims=True)
    return out


def default_weights_path(model_dir: str | os.PathLike[str] | None = None) -> Path:
    """The single weights file in ``model_dir`` (default: model/weights beside this file)."""
    directory = Path(model_dir) if model_dir else Path(__file__).resolve().parent / "weights"
    candidates = sorted(directory.glob(WEIGHTS_GLOB))
    if len(candidates) != 1:
        raise FileNotFoundError(f"expected exactly one {WEIGHTS_GLOB} in {directory}, found {len(candidates)}")
    return candidates[0]


def load_model(model_dir: str | os.PathLike[str] | None = None) -> DigitModel:
    return DigitModel.load(default_weights_path(model_dir))


def parse_request(body: str | bytes) -> np.ndarray:
    """A JSON request body ``{"instances": [[784 floats], ...]}`` -> an (N, 784) array."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        raise ModelInputError("The body is not valid JSON.") from None
    return parse_instances(payload)


def parse_instances(payload: Any) -> np.ndarray:
    """Validates ``{"instances": [[784 floats], ...]}`` into an (N, 784) array."""
    if not isinstance(payload, dict) or "instances" not in payload:
        raise ModelInputError('The body must be a JSON object {"instances": [[784 numbers], ...]}.')
    instances = payload["instances"]
    if not isinstance(instances, list) or not instances:
        raise ModelInputError('"instances" must be a non-empty list.')
    if len(instances) > MAX_BATCH:
        raise ModelInputError(f'"instances" holds at most {MAX_BATCH} images per request.')
    for index, instance in enumerate(instances):
        if not isinstance(instance, list) or len(instance) != PIXELS:
            raise ModelInputError(f"Instance {index} must be a list of {PIXELS} numbers.")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in instance):
            raise ModelInputError(f"Instance {index} must hold numbers only.")
    try:
        array = np.asarray(instances, dtype=np.float32)
    except OverflowError:  # an integer beyond any float
        raise ModelInputError("Pixel values must be finite numbers between 0 and 1.") from None
    if not np.isfinite(array).all() or array.min() < 0.0 or array.max() > 1.0:
        raise ModelInputError("Pixel values must be finite numbers between 0 and 1.")
    return array


def prediction_body(probabilities: np.ndarray, model_version: str) -> dict[str, Any]:
    """The answer for (N, 10) probabilities: one prediction per instance, in order."""
    return {
        "predictions": [
            {
                "probabilities": [round(float(p), 6) for p in row],
                "digit": int(row.argmax()),
                "confidence": round(float(row.max()), 6),
            }
            for row in probabilities
        ],
        "modelVersion": model_version,
    }


@dataclass(frozen=True)
class ModelResponse:
    """One answer of the model container, with its own HTTP status.

    It is a WSGI application on purpose. The toolkit (sagemaker-containers
    ``_transformer.Transformer.transform``) turns a tuple returned by
    ``transform_fn`` into a 200 and hands anything else to Flask as the view's
    result; Flask runs a WSGI callable to make the response, so this status is
    the one the caller gets. An exception would be a 500 whatever it says."""

    status: int
    body: bytes
    content_type: str = JSON_CONTENT_TYPE

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response(
            f"{self.status} {HTTPStatus(self.status).phrase}",
            [("Content-Type", self.content_type), ("Content-Length", str(len(self.body)))],
        )
        return [self.body]


def error_response(status: HTTPStatus, code: str, message: str) -> ModelResponse:
    """The container's error answer: ``{"error": {"code", "message"}}``."""
    return ModelResponse(status.value, json.dumps({"error": {"code": code, "message": message}}).encode())


def _media_type(header: str) -> str:
    return header.split(";")[0].strip().lower()


def accepts_json(accept: str) -> bool:
    """Whether an Accept header (absent: anything) admits ``application/json``."""
    return not accept.strip() or any(_media_type(part) in JSON_ACCEPTING_RANGES for part in accept.split(","))


# --- The SageMaker inference contract (scikit-learn serving container) ---


def model_fn(model_dir: str) -> DigitModel:
    return load_model(model_dir)


def transform_fn(model: DigitModel, request_body: str | bytes, content_type: str, accept: str) -> ModelResponse:
    """One invocation: the toolkit passes the body (text for ``application/json``
    exactly, bytes otherwise), the Content-Type and the Accept header."""
    if _media_type(content_type or "") != JSON_CONTENT_TYPE:
        return error_response(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            f"Content type {content_type!r} is not supported; send {JSON_CONTENT_TYPE}.",
        )
    if not accepts_json(accept or ""):
        return error_response(
            HTTPStatus.NOT_ACCEPTABLE, "NotAcceptable", f"Accept {accept!r} is not supported; accept {JSON_CONTENT_TYPE}."
        )
    try:
        images = parse_request(request_body)
    except ModelInputError as error:
        return error_response(HTTPStatus.BAD_REQUEST, "InvalidInput", str(error))
    body = prediction_body(model.predict_proba(images), model.version)
    return ModelResponse(HTTPStatus.OK.value, json.dumps(body).encode())
