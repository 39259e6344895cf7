"""The history store failing under the real server: the stack keeps history
in DynamoDB (``--history dynamodb``) through a proxy in front of a real
DynamoDB Local (``--dynamodb-endpoint-url``) that makes PutItem fail."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from functions.core.history.dynamodb_client import PERSIST_ATTEMPTS
from local import dynamodb_local
from tests.hardening.fault_proxy import Fault, FaultProxy
from tests.support.client_ids import new_client_id
from tests.support.digit_requests import digit_request
from tests.support.local_stack import REQUEST_TIMEOUT_SECONDS, running_stack
from tests.support.stack_probes import history_of

pytestmark = pytest.mark.java

PUT_ITEM = "DynamoDB_20120810.PutItem"
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"


def dynamodb_error(status: int, error_type: str, *, after_forwarding: bool = False) -> Fault:
    """An error as DynamoDB's JSON protocol answers it."""
    body = json.dumps({"__type": ERROR_PREFIX + error_type, "message": "Injected by the hardening tests."})
    return Fault(status, body.encode(), {"content-type": "application/x-amz-json-1.0"}, after_forwarding)


THROTTLED = dynamodb_error(400, "ProvisionedThroughputExceededException")
# The write is done, then its answer is lost: the retry meets its own item.
ANSWER_LOST = dynamodb_error(500, "InternalServerError", after_forwarding=True)


class PutItemFaults:
    """Fails the first ``failures`` PutItem attempts of every item with ``fault``; counts attempts per item."""

    def __init__(self) -> None:
        self.attempts: Counter[str] = Counter()
        self.fault: Fault | None = None
        self.failures = 0
        self._lock = threading.Lock()

    def fail_first(self, failures: int, fault: Fault) -> None:
        with self._lock:
            self.failures, self.fault = failures, fault

    def decide(self, target: str, body: bytes) -> Fault | None:
        if target != PUT_ITEM:
            return None
        item_id = json.loads(body)["Item"]["id"]["S"]
        with self._lock:
            self.attempts[item_id] += 1
            return self.fault if self.attempts[item_id] <= self.failures else None


@pytest.fixture(scope="module")
def faults() -> PutItemFaults:
    return PutItemFaults()


@pytest.fixture(scope="module")
def api(faults: PutItemFaults, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with dynamodb_local.running_dynamodb_local() as dynamodb, FaultProxy(dynamodb.endpoint_url, faults.decide) as proxy:
        env = {"HISTORY_BACKEND": "dynamodb", "DYNAMODB_ENDPOINT_URL": proxy.url}
        with (
            running_stack(tmp_path_factory.mktemp("store-faults"), env=env) as base_url,
            httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS) as client,
        ):
            yield client


def test_throttling_past_the_sdk_retries_is_retried_by_the_workflow_and_stores_one_item(
    api: httpx.Client, faults: PutItemFaults
) -> None:
    """Given every item's first PutItem attempts are throttled, as many as the SDK makes itself,
    when a digit is posted, then the workflow's retry stores it: a 200 and exactly one item."""
    faults.fail_first(PERSIST_ATTEMPTS, THROTTLED)
    for index in range(2):
        client_id = new_client_id()

        response = api.post("/api/predictions", json=digit_request(client_id, index))

        assert response.status_code == 200, response.text
        item = response.json()
        assert faults.attempts[item["id"]] == PERSIST_ATTEMPTS + 1
        assert history_of(api, client_id) == [item]


def test_a_write_whose_answer_is_lost_is_retried_into_exactly_one_item(
    api: httpx.Client, faults: PutItemFaults
) -> None:
    faults.fail_first(1, ANSWER_LOST)
    for index in range(2):
        client_id = new_client_id()

        response = api.post("/api/predictions", json=digit_request(client_id, index))

        assert response.status_code == 200, response.text
        item = response.json()
        assert faults.attempts[item["id"]] == 2
        assert history_of(api, client_id) == [item]
