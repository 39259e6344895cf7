"""Each stack's SageMaker Model starts on the scikit-learn 1.9-0 image with no
package index reachable: its own archive and container environment (read from
the recorded ``aws:sagemaker/model:Model``, not copied), through the toolkit's
real start-up (tests/support/sagemaker_toolkit.py).

At every start the toolkit copies the code to ``/opt/ml/code``, writes a
``setup.py`` and runs ``python -m pip install .`` (sagemaker_containers
``_modules.import_module``); pip 26 builds it in an isolated environment and
so fetches setuptools from an index, which a network-isolated endpoint, or
one without internet, cannot reach: the container exits and the endpoint never
passes its health check. ``PIP_NO_BUILD_ISOLATION=false`` (pip reads the
variable inverted) builds with the image's own setuptools.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from functions.core.model_wire import model_request_body
from tests.infra.records import StackRecord, settings_of
from tests.support.pulumi_stacks import STACKS
from tests.support.sagemaker_toolkit import PING, invocation, require_venv, run_container

MODEL = "aws:sagemaker/model:Model"
BUCKET_OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
SERVERLESS_STACKS = [stack for stack in STACKS if settings_of(stack).sagemaker.mode == "serverless"]


def container_environment(record: StackRecord) -> dict[str, str]:
    environment: dict[str, str] = record.inputs(MODEL)["primaryContainer"]["environment"]
    return environment


def model_archive(record: StackRecord, work: Path) -> Path:
    """A copy of the file the stack uploads to the Model's ``modelDataUrl``."""
    url = record.inputs(MODEL)["primaryContainer"]["modelDataUrl"]
    [uploaded] = [o for o in record.of_type(BUCKET_OBJECT) if url.endswith("/" + o["inputs"]["key"])]
    return Path(shutil.copy(uploaded["inputs"]["source"]["path"], work / "model.tar.gz"))


def start(record: StackRecord, environment: dict[str, str], work: Path) -> tuple[dict[str, Any], str]:
    valid = model_request_body(np.zeros((28, 28))).decode()
    return run_container(
        require_venv(), model_archive(record, work), environment, work, [PING, invocation(valid)], install=True
    )


@pytest.fixture(scope="module")
def started(
    stacks: dict[str, StackRecord], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[dict[str, Any], str]]:
    """Each stack's container, started once: its result and its log."""
    return {
        name: start(record, container_environment(record), tmp_path_factory.mktemp(f"container-{name}"))
        for name, record in stacks.items()
    }


def test_given_each_stacks_model_then_the_container_installs_its_code_offline_and_serves(
    stack: StackRecord, started: dict[str, tuple[dict[str, Any], str]]
) -> None:
    result, log = started[stack.stack]
    assert result["install_error"] is None, f"{stack.stack}: {result['install_error']}\n{log[-3000:]}"
    assert [answer["status"] for answer in result["answers"]] == [200, 200]


@pytest.mark.parametrize("stack_name", SERVERLESS_STACKS)
def test_given_a_serverless_stack_then_the_toolkit_starts_one_worker(
    stack_name: str, started: dict[str, tuple[dict[str, Any], str]]
) -> None:
    """Gunicorn's default is one ~97 MB worker per CPU; AWS recommends one for serverless."""
    result, _ = started[stack_name]
    assert result["workers"] == 1


def test_given_build_isolation_then_the_same_start_up_fails_offline(
    stacks: dict[str, StackRecord], tmp_path: Path
) -> None:
    """The control: without PIP_NO_BUILD_ISOLATION=false the container dies at its install."""
    record = stacks[STACKS[0]]
    environment = {
        name: value for name, value in container_environment(record).items() if name != "PIP_NO_BUILD_ISOLATION"
    }

    result, log = start(record, environment, tmp_path)

    assert result["install_error"] is not None and "answers" not in result
    assert "No matching distribution found for setuptools" in log
