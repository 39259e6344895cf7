"""Scenarios through the whole workflow, as API Gateway would start it on AWS."""

from __future__ import annotations

import io
import json
import socket
from typing import Any

import numpy as np
import pytest
from PIL import Image

from functions.core.config import InvokeModelSettings
from functions.core.errors import (
    CLIENT_ERROR_CODES,
    ERROR_TABLE,
    ModelUnavailable,
    Throttled,
)
from functions.core.history.port import HistoryStore, Item, Page
from functions.core.history.sqlite_store import SqliteHistoryStore
from functions.core.imaging import MAX_IMAGE_BYTES
from functions.core.predictions import item_id
from functions.handlers import invoke_model
from local.engine import STATE_DATA_LIMIT_BYTES, LocalEngine
from local.sagemaker_endpoint import LocalSageMakerEndpoint
from model.mnist_data import as_png, load_split
from tests.imagegen import png_claiming
from tests.support.workflow_runs import CLIENT_ID, EngineFactory, execution_input, state
from workflows.definition import TRANSIENT_RETRY

TASK_STATES = ("Validate", "Preprocess", "InvokeModel", "Persist")


@pytest.fixture(scope="module")
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    return load_split("test")


@pytest.fixture(scope="module")
def digit_png(mnist_test: tuple[np.ndarray, np.ndarray]) -> bytes:
    return as_png(mnist_test[0][0])


def blank_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (64, 64), 255).save(buffer, "PNG")
    return buffer.getvalue()


def items_of(store: HistoryStore, client_id: str = CLIENT_ID) -> list[Item]:
    return store.list(client_id, limit=100).items


def described(engine: LocalEngine, result: dict[str, Any]) -> dict[str, Any]:
    return engine.describe_execution(result["executionArn"])


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_given_an_mnist_digit_when_predicted_then_the_right_digit_is_answered_and_kept(
    engine: LocalEngine, store: SqliteHistoryStore, mnist_test: tuple[np.ndarray, np.ndarray], index: int
) -> None:
    digits, labels = mnist_test
    upload = as_png(digits[index])

    result = engine.start_sync_execution(execution_input(upload, request_id=f"request-{index}"))

    assert result["status"] == "SUCCEEDED", result
    item = json.loads(result["output"])
    assert item["digit"] == labels[index]
    assert item["id"] == item_id(f"request-{index}")
    assert item["clientId"] == CLIENT_ID
    assert item["confidence"] == max(item["probabilities"]) and abs(sum(item["probabilities"]) - 1) < 1e-3
    assert item["input"]["format"] == "png" and item["input"]["bytes"] == len(upload)
    assert (item["input"]["width"], item["input"]["height"]) == (28, 28)
    assert len(item["thumbnail"]) == 1048  # base64 of 28x28 bytes
    assert set(item["timingsMs"]) == {"validate", "preprocess", "invokeModel"}
    assert store.get(CLIENT_ID, item["id"]) == item
    assert items_of(store) == [item]


def bad_requests() -> list[Any]:
    return [
        pytest.param({"requestId": "r", "request": "not an object"}, "BadRequest", id="body-not-object"),
        pytest.param({"requestId": "r", "request": {"clientId": CLIENT_ID}}, "BadRequest", id="no-image"),
        pytest.param(json.loads(execution_input(blank_png(), client_id="bad id!")), "BadRequest", id="bad-client-id"),
        pytest.param(json.loads(execution_input("%%% not base64 %%%")), "BadRequest", id="not-base64"),
        pytest.param(
            json.loads(execution_input(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)), "InvalidImage", id="corrupt-png"
        ),
        pytest.param(
            json.loads(execution_input(b"\x00" * (MAX_IMAGE_BYTES + 1))), "ImageTooLarge", id="too-many-bytes"
        ),
        pytest.param(
            json.loads(execution_input(png_claiming(100_000, 100_000))), "ImageTooLarge", id="too-many-pixels"
        ),
        pytest.param(json.loads(execution_input(b"Just some text, not an image.")), "UnsupportedImageType", id="text"),
        pytest.param(json.loads(execution_input(blank_png())), "NoDigitFound", id="blank-page"),
    ]


@pytest.mark.parametrize(("request_input", "code"), bad_requests())
def test_given_bad_input_when_predicted_then_it_fails_once_with_its_code_and_keeps_nothing(
    engine: LocalEngine,
    store: SqliteHistoryStore,
    model_endpoint: LocalSageMakerEndpoint,
    request_input: dict[str, Any],
    code: str,
) -> None:
    invocations_before = model_endpoint.invocations

    result = engine.start_sync_execution(json.dumps(request_input))

    assert result["status"] == "FAILED"
    assert result["error"] == code
    assert result["cause"] and "Traceback" not in result["cause"] and "errorType" not in result["cause"]
    execution = described(engine, result)
    failed = [visited for visited in execution["states"] if visited["type"] == "Task" and visited["error"]]
    assert [(visited["error"], visited["attempts"], visited["retries"]) for visited in failed] == [(code, 1, [])]
    assert model_endpoint.invocations == invocations_before
    assert items_of(store) == []


@pytest.mark.parametrize("status", [429, 503])
def test_given_the_model_fails_once_when_predicted_then_it_is_retried_and_one_item_is_kept(
    engine: LocalEngine,
    store: SqliteHistoryStore,
    model_endpoint: LocalSageMakerEndpoint,
    status: int,
    digit_png: bytes,
) -> None:
    model_endpoint.fail_next(1, status)

    result = engine.start_sync_execution(execution_input(digit_png))

    assert result["status"] == "SUCCEEDED", result
    invoke = state(described(engine, result), "InvokeModel")
    assert invoke["attempts"] == 2
    assert [retry["error"] for retry in invoke["retries"]] == ["ModelUnavailable"]
    assert items_of(store) == [json.loads(result["output"])]


def test_given_the_model_keeps_failing_when_predicted_then_model_unavailable_and_nothing_kept(
    engine: LocalEngine, store: SqliteHistoryStore, model_endpoint: LocalSageMakerEndpoint, digit_png: bytes
) -> None:
    attempts = 1 + TRANSIENT_RETRY["MaxAttempts"]
    model_endpoint.fail_next(attempts, 503)

    result = engine.start_sync_execution(execution_input(digit_png))

    assert (result["status"], result["error"], result["cause"]) == (
        "FAILED",
        "ModelUnavailable",
        ModelUnavailable.default_message,
    )
    invoke = state(described(engine, result), "InvokeModel")
    assert invoke["attempts"] == attempts and invoke["error"] == "ModelUnavailable"
    assert items_of(store) == []


def test_given_the_model_endpoint_is_down_when_predicted_then_model_unavailable(
    make_engine: EngineFactory,
    store: SqliteHistoryStore,
    invoke_model_settings: InvokeModelSettings,
    monkeypatch: pytest.MonkeyPatch,
    digit_png: bytes,
) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        nothing_listens = f"http://127.0.0.1:{unused.getsockname()[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", nothing_listens)
    engine = make_engine(invoke_model=invoke_model.build(invoke_model_settings))

    result = engine.start_sync_execution(execution_input(digit_png))

    assert (result["status"], result["error"]) == ("FAILED", "ModelUnavailable")
    assert items_of(store) == []


class FlakyStore:
    """The real store behind DynamoDB-style throttling, as the DynamoDB adapter
    reports it (``Throttled``): the first ``failures`` writes raise it, after
    writing if ``fail_after_write`` (a write whose answer was lost)."""

    def __init__(self, store: HistoryStore, failures: int, fail_after_write: bool) -> None:
        self._store = store
        self._failures = failures
        self._fail_after_write = fail_after_write
        self.writes = 0

    def put_new(self, item: Item) -> Item:
        self.writes += 1
        if self._failures:
            self._failures -= 1
            if self._fail_after_write:
                self._store.put_new(item)
            raise Throttled()
        return self._store.put_new(item)

    def get(self, client_id: str, item_id: str) -> Item:
        return self._store.get(client_id, item_id)

    def list(self, client_id: str, limit: int = 20, cursor: str | None = None) -> Page:
        return self._store.list(client_id, limit, cursor)

    def set_feedback(self, client_id: str, item_id: str, label: int) -> Item:
        return self._store.set_feedback(client_id, item_id, label)


@pytest.mark.parametrize("fail_after_write", [False, True], ids=["before-write", "after-write"])
def test_given_the_store_throttles_once_when_predicted_then_persist_is_retried_and_one_item_is_kept(
    make_engine: EngineFactory, store: SqliteHistoryStore, fail_after_write: bool, digit_png: bytes
) -> None:
    flaky = FlakyStore(store, failures=1, fail_after_write=fail_after_write)
    engine = make_engine(persist_store=flaky)

    result = engine.start_sync_execution(execution_input(digit_png))

    assert result["status"] == "SUCCEEDED", result
    persist_state = state(described(engine, result), "Persist")
    assert [retry["error"] for retry in persist_state["retries"]] == ["Throttled"]
    assert flaky.writes == 2
    assert items_of(store) == [json.loads(result["output"])]


def test_given_the_store_keeps_throttling_when_predicted_then_throttled(
    make_engine: EngineFactory, store: SqliteHistoryStore, digit_png: bytes
) -> None:
    engine = make_engine(persist_store=FlakyStore(store, failures=3, fail_after_write=False))

    result = engine.start_sync_execution(execution_input(digit_png))

    assert (result["status"], result["error"], result["cause"]) == ("FAILED", "Throttled", Throttled.default_message)


def largest_accepted_png(digit: np.ndarray) -> bytes:
    """A digit on grainy paper, as big as an accepted upload gets: the grain
    (too faint to be ink) defeats PNG's compression."""
    rng = np.random.default_rng(7)
    best = b""
    low, high = 100, 1200
    while low <= high:
        side = (low + high) // 2
        ink = np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BILINEAR), dtype=np.int16)
        grain = rng.integers(0, 12, size=(side, side), dtype=np.int16)
        buffer = io.BytesIO()
        Image.fromarray(np.clip(255 - ink - grain, 0, 255).astype(np.uint8), "L").save(buffer, "PNG")
        if len(buffer.getvalue()) <= MAX_IMAGE_BYTES:
            best, low = buffer.getvalue(), side + 1
        else:
            high = side - 1
    return best


def test_given_the_largest_accepted_image_then_state_data_stays_under_256_kb_and_the_image_is_dropped(
    engine: LocalEngine, store: SqliteHistoryStore, mnist_test: tuple[np.ndarray, np.ndarray]
) -> None:
    digits, labels = mnist_test
    upload = largest_accepted_png(digits[0])
    assert MAX_IMAGE_BYTES - 4096 < len(upload) <= MAX_IMAGE_BYTES

    result = engine.start_sync_execution(execution_input(upload))

    assert result["status"] == "SUCCEEDED", result
    assert json.loads(result["output"])["digit"] == labels[0]
    execution = described(engine, result)
    assert [visited["name"] for visited in execution["states"]] == list(TASK_STATES)
    for visited in execution["states"]:
        assert visited["inputBytes"] < STATE_DATA_LIMIT_BYTES and visited["outputBytes"] < STATE_DATA_LIMIT_BYTES
    assert execution["maxStateBytes"] > 4 * len(upload) // 3  # the raw image did travel, once
    after_preprocess = [state(execution, name)["output"] for name in TASK_STATES[1:]]
    assert all("image" not in data for data in after_preprocess)
    assert state(execution, "Preprocess")["outputBytes"] < 16 * 1024


def test_definition_never_retries_the_requests_own_faults(engine: LocalEngine) -> None:
    for name, definition_state in engine.definition["States"].items():
        for retrier in definition_state.get("Retry", []):
            retried = set(retrier["ErrorEquals"])
            assert not retried & set(CLIENT_ERROR_CODES), name
            assert not retried & {"States.ALL", "States.TaskFailed", "InternalError"}, name
    assert set(CLIENT_ERROR_CODES) <= set(ERROR_TABLE)


def test_given_the_largest_accepted_image_failing_then_the_failure_does_not_carry_the_image_along(
    engine: LocalEngine, mnist_test: tuple[np.ndarray, np.ndarray]
) -> None:
    """A Catch that adds the error to a state near 256 KB would end in
    States.DataLimitExceeded on AWS, which no Catch catches (a 500): the
    caught error replaces the state instead."""
    blank = np.zeros_like(mnist_test[0][0])  # no ink: only paper grain remains
    upload = largest_accepted_png(blank)
    assert MAX_IMAGE_BYTES - 4096 < len(upload) <= MAX_IMAGE_BYTES

    result = engine.start_sync_execution(execution_input(upload))

    assert (result["status"], result["error"]) == ("FAILED", "NoDigitFound")
    execution = described(engine, result)
    assert state(execution, "Preprocess")["inputBytes"] > 4 * len(upload) // 3
    described_failure = state(execution, "DescribeFailure")
    assert described_failure["inputBytes"] < 4096
