"""The model endpoint failing under the real server: the stack runs against a
SageMaker-protocol endpoint in this test process (``--model-endpoint-url``),
whose fault hooks make it throttle, fail, hang or vanish."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from functions.core.sagemaker_client import READ_TIMEOUT_SECONDS
from local.sagemaker_endpoint import LocalSageMakerEndpoint
from local.stack import ENDPOINT_NAME
from tests.support.client_ids import new_client_id
from tests.support.digit_requests import digit_request
from tests.support.error_answers import assert_contract_error
from tests.support.local_stack import (
    REQUEST_TIMEOUT_SECONDS,
    SQLITE_HISTORY,
    free_port,
    running_stack,
)
from tests.support.stack_probes import history_of
from workflows.definition import TRANSIENT_RETRY

ATTEMPTS_PER_CALL = 1 + TRANSIENT_RETRY["MaxAttempts"]


@pytest.fixture(scope="module")
def endpoint() -> Iterator[LocalSageMakerEndpoint]:
    # A fixed port, so that the endpoint can be stopped and started again at the same address.
    with LocalSageMakerEndpoint(endpoint_name=ENDPOINT_NAME, port=free_port()) as model:
        yield model


@pytest.fixture(scope="module")
def api(endpoint: LocalSageMakerEndpoint, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    env = {**SQLITE_HISTORY, "MODEL_ENDPOINT_URL": endpoint.url}
    with (
        running_stack(tmp_path_factory.mktemp("model-faults"), env=env) as base_url,
        httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS) as client,
    ):
        yield client


@pytest.fixture(autouse=True)
def healthy_model(endpoint: LocalSageMakerEndpoint) -> Iterator[None]:
    yield
    endpoint.slow(0)


@pytest.mark.parametrize("status", [503, 429, 500])
def test_a_model_failing_once_per_request_is_retried_and_each_answer_has_exactly_one_item(
    api: httpx.Client, endpoint: LocalSageMakerEndpoint, status: int
) -> None:
    for index in range(2):
        client_id = new_client_id()
        before = endpoint.invocations
        endpoint.fail_next(1, status)

        response = api.post("/api/predictions", json=digit_request(client_id, index))

        assert response.status_code == 200, response.text
        assert endpoint.invocations - before == 2  # the failed call and its retry
        assert history_of(api, client_id) == [response.json()]


def test_a_model_failing_every_attempt_is_a_503_after_the_retries_and_leaves_no_item(
    api: httpx.Client, endpoint: LocalSageMakerEndpoint
) -> None:
    client_id = new_client_id()
    before = endpoint.invocations
    endpoint.fail_next(ATTEMPTS_PER_CALL, 503)

    response = api.post("/api/predictions", json=digit_request(client_id))

    assert_contract_error(response, 503, "ModelUnavailable")
    assert endpoint.invocations - before == ATTEMPTS_PER_CALL
    assert history_of(api, client_id) == []


def test_a_model_slower_than_its_timeout_is_a_503_in_bounded_time_and_leaves_no_item(
    api: httpx.Client, endpoint: LocalSageMakerEndpoint
) -> None:
    client_id = new_client_id()
    endpoint.slow(READ_TIMEOUT_SECONDS + 2)

    response = api.post("/api/predictions", json=digit_request(client_id))

    assert_contract_error(response, 503, "ModelUnavailable")
    endpoint.slow(0)
    assert history_of(api, client_id) == []
    assert api.post("/api/predictions", json=digit_request(new_client_id())).status_code == 200


def test_a_model_endpoint_that_is_gone_is_a_503_and_the_service_recovers_when_it_is_back(
    api: httpx.Client, endpoint: LocalSageMakerEndpoint
) -> None:
    gone_client, back_client = new_client_id(), new_client_id()
    endpoint.stop()
    try:
        gone = api.post("/api/predictions", json=digit_request(gone_client))
        health = api.get("/api/health")
    finally:
        endpoint.start()

    back = api.post("/api/predictions", json=digit_request(back_client))

    assert_contract_error(gone, 503, "ModelUnavailable")
    assert health.status_code == 200
    assert history_of(api, gone_client) == []
    assert back.status_code == 200 and history_of(api, back_client) == [back.json()]
