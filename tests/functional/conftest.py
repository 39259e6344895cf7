"""The real local stack (``python -m local``) as a subprocess, and what the
tests send it: real MNIST digits as PNG uploads."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import numpy as np
import pytest

from model.mnist_data import as_png, load_split

# The first test digits of MNIST are clear ones any decent model reads right.
CLEAR_DIGIT_INDICES = (0, 1, 2, 3, 4)
@pytest.fixture(scope="session")
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    return load_split("test")


@pytest.fixture(scope="session")
def clear_digits(mnist_test: tuple[np.ndarray, np.ndarray]) -> list[tuple[bytes, int]]:
    """``(png, label)`` for a few clear MNIST test digits."""
    images, labels = mnist_test
    return [(as_png(images[index]), int(labels[index])) for index in CLEAR_DIGIT_INDICES]


def new_client_id() -> str:
    return f"client-{uuid.uuid4().hex[:12]}"


def prediction_body(png: bytes, client_id: str) -> dict[str, str]:
    return {"image": "data:image/png;base64," + base64.b64encode(png).decode("ascii"), "clientId": client_id}


def predict(client: httpx.Client, png: bytes, client_id: str) -> dict[str, Any]:
    response = client.post("/api/predictions", json=prediction_body(png, client_id))
    assert response.status_code == 200, response.text
    item: dict[str, Any] = response.json()
    return item


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    """The contract's error JSON with the error table's status, nothing else."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert body["error"]["message"].strip()
    assert "Traceback" not in response.text
