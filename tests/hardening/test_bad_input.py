"""Hostile and broken requests against the running server: each one gets a
4xx with the contract's error JSON and the table's code, in bounded time
(the client's timeout), with nothing internal in the body; and the server is
still healthy afterwards. Then random requests from hypothesis, same rules."""

from __future__ import annotations

import json
import string

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hardening.corpus import CLIENT_ID, BadRequestCase, all_cases
from tests.support.error_answers import assert_contract_error, assert_no_leak
from tests.support.stack_probes import assert_healthy

CASES = all_cases()
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
PATHS = (
    "/api/predictions",
    "/api/predictions/{segment}",
    "/api/predictions/{segment}/feedback",
    "/api/executions/{segment}",
    "/api/{segment}",
    "/{segment}",
)
FIELD_NAMES = ("image", "clientId", "label", "limit", "cursor", "__proto__", "")
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(FIELD_NAMES), children, max_size=4)
    ),
    max_leaves=12,
)
PATH_SEGMENTS = st.text(alphabet=string.ascii_letters + string.digits + "-_.%~", min_size=1, max_size=40)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_bad_request_gets_its_error_from_the_table_and_the_server_stays_healthy(
    api: httpx.Client, case: BadRequestCase
) -> None:
    response = api.request(case.method, case.path, content=case.content, headers={"content-type": case.content_type})

    assert_contract_error(response, case.status, case.code)
    assert_healthy(api)


def test_no_bad_request_left_an_item_in_the_corpus_clients_history(api: httpx.Client) -> None:
    """Given the whole corpus was sent (above, same server), then its client has no history."""
    for case in CASES:
        api.request(case.method, case.path, content=case.content, headers={"content-type": case.content_type})

    listed = api.get("/api/predictions", params={"clientId": CLIENT_ID})

    assert listed.status_code == 200 and listed.json()["items"] == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(METHODS),
    path=st.sampled_from(PATHS),
    segment=PATH_SEGMENTS,
    body=JSON_VALUES,
    query=st.dictionaries(st.sampled_from(FIELD_NAMES[1:]), st.text(max_size=30), max_size=3),
)
def test_random_requests_never_get_a_server_error_or_a_leak(
    api: httpx.Client, method: str, path: str, segment: str, body: object, query: dict[str, str]
) -> None:
    response = api.request(
        method,
        path.format(segment=segment),
        params=query,
        content=json.dumps(body).encode() if method in ("POST", "PUT", "PATCH") else None,
        headers={"content-type": "application/json"},
    )

    assert response.status_code < 500, response.text
    assert_no_leak(response.text)
    if response.status_code >= 400 and path.startswith("/api/"):
        assert_contract_error(response)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    image=st.one_of(st.text(max_size=200), st.binary(max_size=200).map(lambda data: data.hex())),
    client_id=st.text(max_size=70),
)
def test_random_prediction_bodies_get_a_client_error(api: httpx.Client, image: str, client_id: str) -> None:
    response = api.post("/api/predictions", json={"image": image, "clientId": client_id})

    assert_contract_error(response)
