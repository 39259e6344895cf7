"""Handler details that the workflow scenarios do not reach: the history API,
the model error mapping, Persist's idempotency and the cold-start wiring."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.stub import Stubber
from PIL import Image

from functions.core.config import (
    ConfigError,
    HistoryApiSettings,
    InvokeModelSettings,
    PersistSettings,
    SqliteHistory,
    ValidateSettings,
)
from functions.core.errors import InternalError, ModelUnavailable
from functions.core.history.sqlite_store import SqliteHistoryStore
from functions.core.predictions import encode_tensor, item_id
from functions.handlers import history, invoke_model, persist, validate
from functions.handlers._runtime import cold_start
from tests.support.api_events import api_gateway_event

CLIENT = "client-1"


@pytest.fixture(autouse=True)
def quiet_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ap-southeast-1",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)


QUIET = "WARNING"
VALIDATE_SETTINGS = ValidateSettings(log_level=QUIET)
INVOKE_MODEL_SETTINGS = InvokeModelSettings(log_level=QUIET, sagemaker_endpoint_name="digits")


@pytest.fixture
def history_file(tmp_path: Path) -> SqliteHistory:
    return SqliteHistory(path=str(tmp_path / "history.db"))


@pytest.fixture
def api_settings(history_file: SqliteHistory) -> HistoryApiSettings:
    return HistoryApiSettings(log_level=QUIET, history=history_file)


@pytest.fixture
def persist_settings(history_file: SqliteHistory) -> PersistSettings:
    return PersistSettings(log_level=QUIET, history=history_file)


@pytest.fixture
def store(history_file: SqliteHistory) -> SqliteHistoryStore:
    return SqliteHistoryStore(history_file.path)


def state_after_model(request_id: str = "request-1", created_at: str = "2024-05-01T12:34:56.789Z") -> dict[str, Any]:
    return {
        "requestId": request_id,
        "clientId": CLIENT,
        "createdAt": created_at,
        "input": {"format": "png", "width": 28, "height": 28, "bytes": 100, "sha256": "0" * 64},
        "thumbnail": base64.b64encode(bytes(784)).decode(),
        "prediction": {
            "digit": 3,
            "confidence": 0.9,
            "lowConfidence": False,
            "probabilities": [0.01] * 9 + [0.91],
            "modelVersion": "v1",
        },
        "timingsMs": {"validate": 1.0, "preprocess": 2.0, "invokeModel": 3.0},
    }


def proxy_event(method: str, path: str, query: dict[str, str] | None = None, body: Any = None) -> dict[str, Any]:
    return api_gateway_event(method, path, query, body, headers={"content-type": "application/json"})


def call(handler: Any, *args: Any, **kwargs: Any) -> tuple[int, Any]:
    response = handler(proxy_event(*args, **kwargs), None)
    return response["statusCode"], json.loads(response["body"])


# --- history ---


@pytest.fixture
def stored_items(store: SqliteHistoryStore) -> list[dict[str, Any]]:
    return [
        store.put_new(persist_item)
        for persist_item in (
            _item("request-1", "2024-05-01T12:00:00.000Z"),
            _item("request-2", "2024-05-01T12:00:01.000Z"),
            _item("request-3", "2024-05-01T12:00:02.000Z"),
        )
    ]


def _item(request_id: str, created_at: str) -> dict[str, Any]:
    from functions.core.predictions import build_item

    return build_item(state_after_model(request_id, created_at))


def test_history_lists_a_clients_items_newest_first_page_by_page(
    api_settings: HistoryApiSettings, store: SqliteHistoryStore, stored_items: list[dict[str, Any]]
) -> None:
    handler = history.build(api_settings, store=store)

    status, first = call(handler, "GET", "/api/predictions", {"clientId": CLIENT, "limit": "2"})
    _, second = call(
        handler, "GET", "/api/predictions", {"clientId": CLIENT, "limit": "2", "cursor": first["nextCursor"]}
    )

    assert status == 200
    assert [item["id"] for item in first["items"] + second["items"]] == [item["id"] for item in reversed(stored_items)]
    assert second["nextCursor"] is None


def test_history_gets_one_item_and_records_feedback(
    api_settings: HistoryApiSettings, store: SqliteHistoryStore, stored_items: list[dict[str, Any]]
) -> None:
    handler = history.build(api_settings, store=store)
    wanted = stored_items[0]["id"]

    got = call(handler, "GET", f"/api/predictions/{wanted}", {"clientId": CLIENT})
    corrected = call(handler, "POST", f"/api/predictions/{wanted}/feedback", body={"clientId": CLIENT, "label": 8})

    assert got == (200, stored_items[0])
    assert corrected == (200, {**stored_items[0], "feedbackLabel": 8})
    assert store.get(CLIENT, wanted)["feedbackLabel"] == 8


@pytest.mark.parametrize(
    ("request_args", "status", "code"),
    [
        (("GET", "/api/predictions", {"limit": "5"}), 400, "BadRequest"),
        (("GET", "/api/predictions", {"clientId": "no spaces"}), 400, "BadRequest"),
        (("GET", "/api/predictions", {"clientId": CLIENT, "limit": "101"}), 400, "BadRequest"),
        (("GET", "/api/predictions", {"clientId": CLIENT, "cursor": "not-a-cursor"}), 400, "BadRequest"),
        (("GET", "/api/predictions/unknown-id", {"clientId": CLIENT}), 404, "NotFound"),
        (("GET", f"/api/predictions/{item_id('request-1')}", {"clientId": "someone-else"}), 404, "NotFound"),
        (("POST", "/api/predictions/x/feedback", None, "{not json"), 400, "BadRequest"),
        (
            ("POST", f"/api/predictions/{item_id('request-1')}/feedback", None, {"clientId": CLIENT, "label": 10}),
            400,
            "BadRequest",
        ),
        (
            ("POST", f"/api/predictions/{item_id('request-1')}/feedback", None, {"clientId": CLIENT, "label": True}),
            400,
            "BadRequest",
        ),
        (("PUT", "/api/predictions", None), 404, "NotFound"),
        (("DELETE", "/api/predictions", None), 400, "BadRequest"),
        (("GET", "/api/elsewhere", None), 404, "NotFound"),
    ],
)
def test_history_answers_every_bad_request_with_the_error_table(
    api_settings: HistoryApiSettings,
    store: SqliteHistoryStore,
    stored_items: list[dict[str, Any]],
    request_args: tuple[Any, ...],
    status: int,
    code: str,
) -> None:
    answered_status, body = call(history.build(api_settings, store=store), *request_args)

    assert answered_status == status
    assert body["error"]["code"] == code and body["error"]["message"]


class BrokenStore(SqliteHistoryStore):
    def list(self, client_id: str, limit: int = 20, cursor: str | None = None) -> Any:
        raise RuntimeError("disk on fire at /secret/path")

    def put_new(self, item: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("disk on fire at /secret/path")


def test_history_hides_unexpected_failures(api_settings: HistoryApiSettings) -> None:
    status, body = call(
        history.build(api_settings, store=BrokenStore(":memory:")), "GET", "/api/predictions", {"clientId": CLIENT}
    )

    assert (status, body) == (500, InternalError().to_body())


# --- persist ---


def test_persist_twice_for_one_request_keeps_one_identical_item(
    persist_settings: PersistSettings, store: SqliteHistoryStore
) -> None:
    handler = persist.build(persist_settings, store=store)

    first = handler(state_after_model(), None)
    second = handler(state_after_model(), None)

    assert first == second == store.get(CLIENT, item_id("request-1"))
    assert "persist" not in first["timingsMs"]
    assert len(store.list(CLIENT).items) == 1


def test_persist_never_overwrites_another_item_with_the_same_id(
    persist_settings: PersistSettings, store: SqliteHistoryStore
) -> None:
    handler = persist.build(persist_settings, store=store)
    handler(state_after_model(), None)

    with pytest.raises(InternalError):
        handler(state_after_model(created_at="2024-06-01T00:00:00.000Z"), None)
    assert store.get(CLIENT, item_id("request-1"))["createdAt"] == "2024-05-01T12:34:56.789Z"


def test_persist_refuses_to_start_without_history_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HISTORY_BACKEND", raising=False)
    with pytest.raises(ConfigError, match="HISTORY_BACKEND"):
        cold_start(persist.build, PersistSettings)(state_after_model(), None)


# --- invoke_model (the AWS edge stubbed with botocore's own Stubber) ---


def model_state() -> dict[str, Any]:
    state = state_after_model()
    del state["prediction"]
    return {**state, "tensor": encode_tensor(np.zeros((28, 28), dtype=np.float32))}


def stubbed_invoke() -> tuple[Any, Stubber]:
    from functions.core.sagemaker_client import sagemaker_runtime_client

    client = sagemaker_runtime_client()
    return invoke_model.build(INVOKE_MODEL_SETTINGS, client_for=lambda _read_timeout: client), Stubber(client)


def test_invoke_model_passes_the_prediction_on_instead_of_the_tensor() -> None:
    handler, stubber = stubbed_invoke()
    answer = {
        "predictions": [{"probabilities": [0.0] * 9 + [1.0], "digit": 9, "confidence": 1.0}],
        "modelVersion": "v7",
    }
    stubber.add_response(
        "invoke_endpoint", {"Body": io.BytesIO(json.dumps(answer).encode()), "ContentType": "application/json"}
    )

    with stubber:
        result = handler(model_state(), None)

    assert result["prediction"] == {
        "digit": 9,
        "confidence": 1.0,
        "lowConfidence": False,
        "probabilities": [0.0] * 9 + [1.0],
        "modelVersion": "v7",
    }
    assert "tensor" not in result and set(result["timingsMs"]) == {"validate", "preprocess", "invokeModel"}


def test_invoke_model_flags_a_prediction_below_the_threshold_as_unsure(persist_settings: PersistSettings) -> None:
    handler, stubber = stubbed_invoke()
    unsure = INVOKE_MODEL_SETTINGS.low_confidence_threshold - 0.01
    probabilities = [(1 - unsure) / 9] * 9 + [unsure]
    answer = {"predictions": [{"probabilities": probabilities, "digit": 9, "confidence": unsure}], "modelVersion": "v7"}
    stubber.add_response(
        "invoke_endpoint", {"Body": io.BytesIO(json.dumps(answer).encode()), "ContentType": "application/json"}
    )

    with stubber:
        result = handler(model_state(), None)

    assert result["prediction"]["lowConfidence"] is True
    assert (
        persist.build(persist_settings, store=SqliteHistoryStore(":memory:"))(
            {**result, "thumbnail": model_state()["thumbnail"]}, None
        )["lowConfidence"]
        is True
    )


@pytest.mark.parametrize(
    ("code", "status", "extra", "expected"),
    [
        ("ThrottlingException", 400, {}, ModelUnavailable),
        ("ModelNotReadyException", 429, {}, ModelUnavailable),
        ("ServiceUnavailable", 503, {}, ModelUnavailable),
        ("ModelError", 424, {"OriginalStatusCode": 500}, ModelUnavailable),
        ("ModelError", 424, {"OriginalStatusCode": 400}, InternalError),
        ("ValidationError", 400, {}, InternalError),
    ],
)
def test_invoke_model_maps_sagemaker_errors(
    code: str, status: int, extra: dict[str, Any], expected: type[Exception]
) -> None:
    handler, stubber = stubbed_invoke()
    stubber.add_client_error("invoke_endpoint", service_error_code=code, http_status_code=status, modeled_fields=extra)

    with stubber, pytest.raises(expected) as raised:
        handler(model_state(), None)
    assert type(raised.value) is expected


def test_invoke_model_answers_internal_error_for_a_malformed_model_answer() -> None:
    handler, stubber = stubbed_invoke()
    stubber.add_response(
        "invoke_endpoint", {"Body": io.BytesIO(b'{"predictions": []}'), "ContentType": "application/json"}
    )

    with stubber, pytest.raises(InternalError):
        handler(model_state(), None)


# --- validate and the cold start ---


def png(side: int) -> str:
    buffer = io.BytesIO()
    Image.new("L", (side, side), 255).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_validate_ignores_unknown_fields_and_passes_the_upload_on() -> None:
    image = png(40)
    result = validate.build(VALIDATE_SETTINGS)(
        {"requestId": "r", "request": {"image": f"data:image/png;base64,{image}", "clientId": CLIENT, "extra": 1}}, None
    )

    assert result["image"] == image
    assert (result["clientId"], result["requestId"]) == (CLIENT, "r")
    assert result["input"]["width"] == 40 and result["input"]["format"] == "png"
    assert result["createdAt"].endswith("Z") and len(result["createdAt"]) == 24


def test_an_unexpected_failure_leaves_the_handler_as_a_bare_internal_error(persist_settings: PersistSettings) -> None:
    with pytest.raises(InternalError) as raised:
        persist.build(persist_settings, store=BrokenStore(":memory:"))(state_after_model(), None)
    assert str(raised.value) == InternalError.default_message


def test_the_lambda_entry_point_reads_the_environment_on_its_first_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_IMAGE_BYTES", "not a number")
    import importlib

    fresh = importlib.reload(validate)
    with pytest.raises(ConfigError, match="MAX_IMAGE_BYTES"):
        fresh.handler({"requestId": "r", "request": {}}, None)
