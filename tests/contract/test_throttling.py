"""``Throttled``: a burst past the stack's throttling is answered 429 with the
contract's error JSON (API Gateway's THROTTLED gateway response, or the WAF's
rate rule). Only when asked (``SMOKE_THROTTLE=1``): the burst is the one time
the suite goes past the stack's limits, and the local stack has none."""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.contract.expect import assert_error
from tests.contract.stack_client import StackLink

THROTTLE_VARIABLE = "SMOKE_THROTTLE"
# Requests in the burst, and how many at once: past dev's burst of 10, in a bounded number.
BURST_REQUESTS_VARIABLE = "SMOKE_THROTTLE_REQUESTS"
DEFAULT_BURST_REQUESTS = 60
MAX_BURST_REQUESTS = 500
BURST_WORKERS = 16


@pytest.mark.skipif(
    os.environ.get(THROTTLE_VARIABLE) != "1", reason=f"{THROTTLE_VARIABLE}=1 bursts past the stack's limit"
)
def test_a_burst_past_the_stacks_limit_is_throttled_with_the_contracts_error(link: StackLink) -> None:
    burst = min(int(os.environ.get(BURST_REQUESTS_VARIABLE) or DEFAULT_BURST_REQUESTS), MAX_BURST_REQUESTS)

    def one(_: int) -> httpx.Response:
        with link.client() as client:
            return client.get("/api/health")

    with link.unpaced(), ThreadPoolExecutor(max_workers=BURST_WORKERS) as pool:
        responses = list(pool.map(one, range(burst)))

    statuses = Counter(response.status_code for response in responses)
    assert statuses[429], f"none of {burst} requests to GET /api/health was throttled: {dict(statuses)}"
    assert set(statuses) <= {200, 429}, f"statuses {dict(statuses)}"
    for response in responses:
        if response.status_code == 429:
            assert_error(response, 429, "Throttled")
