"""The committed model and its SageMaker inference contract."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from model import inference
from model.evaluate import evaluate
from model.inference import (
    DigitModel,
    ModelInputError,
    UnsupportedContentType,
    load_model,
)
from model.mnist_data import load_split, through_upload_path

WEIGHTS_DIR = Path(inference.__file__).resolve().parent / "weights"


@pytest.fixture(scope="module")
def model() -> DigitModel:
    return load_model()


@pytest.fixture(scope="module")
def test_digits() -> tuple[np.ndarray, np.ndarray]:
    digits, labels = load_split("test")
    return through_upload_path(digits[:64]), labels[:64]


def test_weights_carry_a_version_and_the_recorded_checksum(model: DigitModel) -> None:
    recorded = json.loads((WEIGHTS_DIR / "training.json").read_text())
    assert model.version == recorded["version"]
    assert model.sha256 == recorded["sha256"]
    assert inference.default_weights_path().name == f"digits-{model.version}.npz"


def test_probabilities_are_a_distribution_per_image(model: DigitModel, test_digits: tuple[np.ndarray, np.ndarray]) -> None:
    tensors, _ = test_digits
    probabilities = model.predict_proba(tensors)
    assert probabilities.shape == (64, 10)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (probabilities >= 0).all()


def test_a_batch_gives_the_same_answer_as_one_by_one(model: DigitModel, test_digits: tuple[np.ndarray, np.ndarray]) -> None:
    tensors, _ = test_digits
    batch = model.predict_proba(tensors[:8])
    single = np.concatenate([model.predict_proba(t[None]) for t in tensors[:8]])
    assert np.allclose(batch, single, atol=1e-5)
    assert np.allclose(model.predict_proba(tensors[:8].reshape(8, 784)), batch, atol=1e-6)


@pytest.mark.slow
def test_accuracy_through_the_upload_path_is_at_least_99_4_percent(model: DigitModel) -> None:
    """Given the 10k MNIST test digits as PNG uploads, when classified, then >= 99.4% are right."""
    result = evaluate(model)
    assert result.count == 10_000
    assert result.accuracy >= 0.994, f"accuracy {result.accuracy:.4%}"
    assert result.confusion.sum() == 10_000


def _request(instances: object) -> str:
    return json.dumps({"instances": instances})


def test_sagemaker_contract_round_trip(test_digits: tuple[np.ndarray, np.ndarray]) -> None:
    tensors, labels = test_digits
    loaded = inference.model_fn(str(WEIGHTS_DIR))
    body = _request(tensors[:4].reshape(4, 784).tolist())
    data = inference.input_fn(body, "application/json; charset=utf-8")
    output, content_type = inference.output_fn(inference.predict_fn(data, loaded), "application/json")
    parsed = json.loads(output)
    assert content_type == "application/json"
    assert parsed["modelVersion"] == loaded.version
    assert [p["digit"] for p in parsed["predictions"]] == labels[:4].tolist()
    for prediction in parsed["predictions"]:
        assert len(prediction["probabilities"]) == 10
        assert prediction["confidence"] == max(prediction["probabilities"])


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("not json", "not valid JSON"),
        (json.dumps([1, 2, 3]), "JSON object"),
        (json.dumps({"images": []}), "JSON object"),
        (_request([]), "non-empty"),
        (_request("abc"), "non-empty"),
        (_request([[0.5] * 783]), "784 numbers"),
        (_request([[0.5] * 784, [0.5] * 785]), "Instance 1"),
        (_request([["x"] * 784]), "numbers only"),
        (_request([[True] * 784]), "numbers only"),
        (_request([[2.0] * 784]), "between 0 and 1"),
        (_request([[-0.1] * 784]), "between 0 and 1"),
        (_request([[0.0] * 784] * (inference.MAX_BATCH + 1)), "at most"),
    ],
)
def test_bad_payloads_get_a_clear_client_error(body: str, fragment: str) -> None:
    with pytest.raises(ModelInputError) as caught:
        inference.input_fn(body, "application/json")
    assert caught.value.status == 400
    assert fragment in str(caught.value)


def test_non_finite_values_are_rejected() -> None:
    with pytest.raises(ModelInputError):
        inference.input_fn('{"instances": [[' + ",".join(["NaN"] * 784) + "]]}", "application/json")


def test_other_content_types_are_unsupported() -> None:
    with pytest.raises(UnsupportedContentType) as caught:
        inference.input_fn("a,b", "text/csv")
    assert caught.value.status == 415
    with pytest.raises(UnsupportedContentType):
        inference.output_fn({"probabilities": np.ones((1, 10)) / 10, "modelVersion": "v"}, "text/csv")


def test_inference_module_is_self_contained(tmp_path: Path) -> None:
    """Given only code/inference.py and the weights, as in model.tar.gz, the model loads and predicts."""
    (tmp_path / "code").mkdir()
    shutil.copy(inference.__file__, tmp_path / "code" / "inference.py")
    shutil.copy(inference.default_weights_path(), tmp_path)
    script = (
        "import json, inference\n"
        f"m = inference.model_fn({str(tmp_path)!r})\n"
        "x = inference.input_fn(json.dumps({'instances': [[0.0] * 784]}), 'application/json')\n"
        "print(inference.output_fn(inference.predict_fn(x, m), 'application/json')[0])\n"
    )
    result = subprocess.run(
        [sys.executable, "-E", "-s", "-c", script], cwd=tmp_path / "code", capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["predictions"][0]["probabilities"]) == 10
