"""How fast the stack answers: the run's first prediction (after a deploy or
an idle spell, cold Lambdas and a cold model) and a bounded number of warm
ones after it. The figures go to the terminal summary; nothing asserts a time."""

from __future__ import annotations

import httpx

from tests.contract.digits import canvas_drawings
from tests.contract.expect import predict
from tests.contract.run_record import Latency
from tests.contract.stack_client import StackLink


def test_the_first_prediction_and_the_warm_ones_after_it_read_the_drawing_right(
    api: httpx.Client, link: StackLink, latency: Latency, client_id: str
) -> None:
    drawing = canvas_drawings()[0]

    for _ in range(1 + latency.warm_requests):
        item = predict(api, drawing, client_id)
        latency.add(link.calls[-1].seconds)

        assert item["digit"] == drawing.label, f"read {item['digit']}, not {drawing.label}"
