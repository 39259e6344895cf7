"""model.tar.gz served by the SageMaker scikit-learn 1.9-0 image's own serving
toolkit (sagemaker-containers 2.8.6.post2 under Flask 3.1.3 / Werkzeug 3.1.8,
Python 3.12, numpy 2.5.1: see tests/support/sagemaker_toolkit.py), and our
local endpoint answering what SageMaker Runtime makes of the same answers.

The toolkit turns every exception of the user code into a 500 and a tuple
into a 200 (``_transformer.Transformer.transform``, ``_functions.error_wrapper``);
only the response ``transform_fn`` returns can carry 400, 406 or 415.
Through InvokeEndpoint any status but 200 reaches the caller as ``ModelError``
(HTTP 424) with ``OriginalStatusCode`` and ``OriginalMessage`` (botocore's
sagemaker-runtime model; "ModelError" in the InvokeEndpoint API reference).
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from components.model_artifact import build_model_artifact
from functions.core.model_wire import model_request_body
from local.sagemaker_endpoint import LocalSageMakerEndpoint
from model.inference import MAX_BATCH, PIXELS, load_model
from model.mnist_data import load_split, through_upload_path
from tests.support.sagemaker_toolkit import PING, invocation, require_venv, run_container

ROOT = Path(__file__).resolve().parents[2]
# Where SageMaker extracts model.tar.gz in the container; the script is code/<program>.
MODEL_CODE_DIR = "/opt/ml/model/code"
BATCH = 4


def _instances(pixels: Any) -> str:
    return json.dumps({"instances": pixels})


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """Real MNIST test digits, through the service's own upload path."""
    images, labels = load_split("test")
    return through_upload_path(images[:BATCH]).reshape(BATCH, PIXELS), labels[:BATCH]


@pytest.fixture(scope="module")
def requests(digits: tuple[np.ndarray, np.ndarray]) -> dict[str, dict[str, Any]]:
    tensors, _ = digits
    valid = model_request_body(tensors[0]).decode()
    return {
        "digit": invocation(valid, accept="application/json"),
        "batch": invocation(_instances(tensors.tolist())),
        "no accept": invocation(valid),
        "any accept": invocation(valid, accept="*/*"),
        "json with charset": invocation(valid, content_type="application/json; charset=utf-8"),
        "malformed json": invocation('{"instances": [[0.1, '),
        "783 pixels": invocation(_instances([[0.5] * (PIXELS - 1)])),
        "a value of 2.0": invocation(_instances([[0.5] * (PIXELS - 1) + [2.0]])),
        "NaN": invocation('{"instances": [[' + ",".join(["NaN"] * PIXELS) + "]]}"),
        f"{MAX_BATCH + 1} instances": invocation(_instances([[0.0] * PIXELS] * (MAX_BATCH + 1))),
        "text/csv content": invocation(",".join(["0"] * PIXELS), content_type="text/csv"),
        "Accept: text/csv": invocation(valid, accept="text/csv"),
    }


ERRORS = {
    "malformed json": (400, "InvalidInput"),
    "783 pixels": (400, "InvalidInput"),
    "a value of 2.0": (400, "InvalidInput"),
    "NaN": (400, "InvalidInput"),
    f"{MAX_BATCH + 1} instances": (400, "InvalidInput"),
    "text/csv content": (415, "UnsupportedMediaType"),
    "Accept: text/csv": (406, "NotAcceptable"),
}


def _program_environment(archive: Path) -> dict[str, str]:
    """The toolkit's settings for the archive's one script (the stacks' own
    environment is started in tests/infra/test_infra_sagemaker_container.py)."""
    with tarfile.open(archive) as tar:
        [script] = [name for name in tar.getnames() if name.startswith("code/") and name.endswith(".py")]
    return {"SAGEMAKER_PROGRAM": Path(script).name, "SAGEMAKER_SUBMIT_DIRECTORY": MODEL_CODE_DIR}


@pytest.fixture(scope="module")
def served(requests: dict[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One container on the project's model.tar.gz: its start-up, then /ping and every request."""
    python = require_venv()
    work = tmp_path_factory.mktemp("toolkit")
    archive = build_model_artifact(ROOT / "model", work / "model.tar.gz")
    result, log = run_container(
        python, archive, _program_environment(archive), work, [PING, *requests.values()], install=False
    )
    assert "answers" in result, f"the container did not serve: {result}\n{log[-4000:]}"
    return {"result": result, "ping": result["answers"][0], **dict(zip(requests, result["answers"][1:], strict=True))}


def test_given_the_model_archive_then_the_image_loads_model_fn_and_transform_fn_and_answers_ping(
    served: dict[str, Any],
) -> None:
    assert served["result"]["hooks"] == ["model_fn", "transform_fn"]
    assert "refused" not in served["result"]
    assert served["ping"]["status"] == 200


def test_given_real_mnist_digits_then_the_toolkit_answers_200_with_their_labels(
    served: dict[str, Any], digits: tuple[np.ndarray, np.ndarray]
) -> None:
    _, labels = digits
    version = load_model().version
    for case, expected in (("digit", labels[:1]), ("batch", labels)):
        answer = served[case]
        assert (answer["status"], answer["content_type"]) == (200, "application/json"), case
        body = json.loads(answer["body"])
        assert [p["digit"] for p in body["predictions"]] == expected.tolist(), case
        assert body["modelVersion"] == version
        assert all(
            len(p["probabilities"]) == 10 and p["confidence"] == max(p["probabilities"]) for p in body["predictions"]
        )


@pytest.mark.parametrize("case", ["no accept", "any accept", "json with charset"])
def test_given_the_toolkits_default_accept_or_a_json_charset_then_the_answer_is_200(
    served: dict[str, Any], case: str
) -> None:
    assert served[case]["status"] == 200
    assert served[case]["body"] == served["digit"]["body"]


@pytest.mark.parametrize("case", list(ERRORS))
def test_given_a_bad_request_then_the_toolkit_answers_its_status_with_the_error_json(
    served: dict[str, Any], case: str
) -> None:
    status, code = ERRORS[case]
    answer = served[case]
    assert (answer["status"], answer["content_type"]) == (status, "application/json")
    assert json.loads(answer["body"])["error"]["code"] == code


@pytest.fixture(scope="module")
def local_endpoint() -> Iterator[LocalSageMakerEndpoint]:
    with LocalSageMakerEndpoint(endpoint_name="digits-conformance") as endpoint:
        yield endpoint


def test_given_each_request_then_the_local_endpoint_answers_what_sagemaker_runtime_makes_of_the_toolkits_answer(
    served: dict[str, Any], requests: dict[str, dict[str, Any]], local_endpoint: LocalSageMakerEndpoint
) -> None:
    url = f"{local_endpoint.url}/endpoints/{local_endpoint.endpoint_name}/invocations"
    with httpx.Client(timeout=30) as client:
        for case, request in requests.items():
            container = served[case]
            local = client.post(url, content=request["body"].encode(), headers=request["headers"])
            if container["status"] == 200:
                assert local.status_code == 200, case
                assert local.headers["content-type"] == container["content_type"]
                _assert_same_predictions(local.json(), json.loads(container["body"]))
            else:
                assert (local.status_code, local.headers["x-amzn-errortype"]) == (424, "ModelError"), case
                assert local.json()["OriginalStatusCode"] == container["status"], case
                assert local.json()["OriginalMessage"] == container["body"], case


def _assert_same_predictions(local: dict[str, Any], container: dict[str, Any]) -> None:
    """Same digits and version; probabilities equal but for numpy 2.4 vs 2.5 in the last rounded digit."""
    assert local["modelVersion"] == container["modelVersion"]
    assert [p["digit"] for p in local["predictions"]] == [p["digit"] for p in container["predictions"]]
    for ours, theirs in zip(local["predictions"], container["predictions"], strict=True):
        assert np.allclose(ours["probabilities"], theirs["probabilities"], rtol=0, atol=2e-6)


STEPWISE_MODULE = """
class RejectedInput(ValueError):
    status = 400

def model_fn(model_dir):
    return None

def input_fn(body, content_type):
    raise RejectedInput("bad input")

def predict_fn(data, model):
    return data

def output_fn(prediction, accept):
    return prediction, accept
"""


def test_given_input_fn_raising_an_exception_with_a_status_then_the_toolkit_answers_500_html(tmp_path: Path) -> None:
    """Why transform_fn: the toolkit never reads an exception's status (issue 10, finding 3)."""
    python = require_venv()
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("code/stepwise.py")
        info.size = len(STEPWISE_MODULE.encode())
        tar.addfile(info, io.BytesIO(STEPWISE_MODULE.encode()))
    result, log = run_container(
        python,
        archive,
        _program_environment(archive),
        tmp_path,
        [invocation(_instances([[0.0] * PIXELS]))],
        install=False,
    )
    [answer] = result["answers"]
    assert answer["status"] == 500
    assert answer["content_type"].startswith("text/html")
    assert "bad input" not in answer["body"]
