"""Security basics of the running server: loopback only by default, security
headers everywhere, no way into another client's history without its item id
and client id, and no internals in errors or logs."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from local.server import SECURITY_HEADERS
from local.stack import parse_args
from tests.hardening.corpus import all_cases
from tests.support.client_ids import new_client_id
from tests.support.digit_requests import digit_request
from tests.support.error_answers import assert_contract_error, assert_no_leak
from tests.support.local_stack import server_pid
from tests.support.stack_probes import history_of, server_stderr

LOOPBACK_HEX = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it
LISTEN = "0A"


def test_the_stack_binds_to_loopback_unless_told_otherwise() -> None:
    assert parse_args([], {}).host == "127.0.0.1"


def test_the_running_server_listens_on_loopback_only(stack_url: str) -> None:
    port = urlsplit(stack_url).port
    listening = [
        fields[1].rsplit(":", 1)[0]
        for table in ("/proc/net/tcp", "/proc/net/tcp6")
        for fields in (line.split() for line in Path(table).read_text().splitlines()[1:])
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == LISTEN
    ]

    assert listening == [LOOPBACK_HEX]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/console.html"),
        ("GET", "/api/health"),
        ("GET", "/api/predictions?clientId=someone"),
        ("GET", "/api/nothing"),
        ("DELETE", "/api/health"),
        ("POST", "/api/predictions"),
    ],
)
def test_every_response_carries_the_security_headers(api: httpx.Client, method: str, path: str) -> None:
    response = api.request(method, path)

    for name, value in SECURITY_HEADERS:
        assert response.headers.get(name.decode()) == value.decode(), name
    assert "server" not in response.headers


def test_one_client_cannot_list_or_read_another_clients_history(api: httpx.Client) -> None:
    owner, intruder = new_client_id(), new_client_id()
    item = api.post("/api/predictions", json=digit_request(owner)).json()

    listed = history_of(api, intruder)
    fetched = api.get(f"/api/predictions/{item['id']}", params={"clientId": intruder})
    corrected = api.post(f"/api/predictions/{item['id']}/feedback", json={"clientId": intruder, "label": 3})

    assert listed == []
    assert_contract_error(fetched, 404, "NotFound")
    assert_contract_error(corrected, 404, "NotFound")
    assert history_of(api, owner) == [item]  # untouched by the intruder's feedback


def test_item_ids_are_random_uuids_not_guessable_from_each_other(api: httpx.Client) -> None:
    client_id = new_client_id()
    ids = [api.post("/api/predictions", json=digit_request(client_id, n)).json()["id"] for n in range(3)]

    assert len(set(ids)) == 3
    assert all(len(item_id) == 36 and item_id[14] in "45" for item_id in ids)  # UUID v4 or v5 (SHA-1 of a random id)


def test_no_stack_trace_or_path_reaches_the_log_for_bad_input(api: httpx.Client, stack_url: str) -> None:
    for case in all_cases():
        response = api.request(
            case.method, case.path, content=case.content, headers={"content-type": case.content_type}
        )
        assert_no_leak(response.text)

    assert_no_leak(server_stderr(server_pid(stack_url)))
