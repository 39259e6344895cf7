"""Prediction requests as the page sends them."""

from __future__ import annotations

import base64

from tests.imagegen import mnist_digit, mnist_png


def digit_request(client_id: str, index: int = 0) -> dict[str, str]:
    """A clear MNIST test digit, dark ink on white, as the page would upload it."""
    png = mnist_png(mnist_digit(index), dark_ink=True)
    return {"image": "data:image/png;base64," + base64.b64encode(png).decode("ascii"), "clientId": client_id}
