"""The SageMaker endpoint as AWS will take it: serverless without network
isolation, a container that starts offline with one worker, a model archive
named by its content (so a new model reaches the endpoint), provisioned
concurrency where the stack asks for it, and an invoker with room for a cold
start (AWS_FACTS.md, SageMaker)."""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Any

import pytest

from components.model_artifact import artifact_key, build_model_artifact
from components.model_endpoint import container_environment, network_isolation
from tests.infra.records import StackRecord, instance_sagemaker, policy_statements, settings_of

ROOT = Path(__file__).resolve().parents[2]


def _container(stack: StackRecord) -> dict[str, Any]:
    container: dict[str, Any] = stack.inputs("aws:sagemaker/model:Model")["primaryContainer"]
    return container


def test_given_a_serverless_stack_then_the_model_is_not_network_isolated(stack: StackRecord) -> None:
    """Serverless Inference refuses network isolation: CreateEndpoint would fail ("Feature exclusions")."""
    assert settings_of(stack.stack).sagemaker.mode == "serverless"
    assert not stack.inputs("aws:sagemaker/model:Model").get("enableNetworkIsolation")


def test_given_instance_mode_then_the_model_is_isolated_and_keeps_the_default_workers() -> None:
    assert network_isolation(instance_sagemaker()) is True
    environment = container_environment(instance_sagemaker())
    assert "SAGEMAKER_MODEL_SERVER_WORKERS" not in environment
    assert environment["PIP_NO_BUILD_ISOLATION"] == "false"


def test_given_each_stack_then_the_container_installs_its_code_offline_with_one_serverless_worker(
    stack: StackRecord,
) -> None:
    """The toolkit's start-up `pip install .` needs no index only without
    build isolation (pip reads PIP_NO_BUILD_ISOLATION inverted); gunicorn
    would start one ~97 MB worker per CPU, AWS recommends one for serverless.
    tests/infra/test_infra_sagemaker_container.py runs that install offline
    with this very environment."""
    environment = _container(stack)["environment"]
    assert environment["PIP_NO_BUILD_ISOLATION"] == "false"
    assert environment["OPENBLAS_NUM_THREADS"] == "1"
    assert environment["SAGEMAKER_MODEL_SERVER_WORKERS"] == "1"
    assert (environment["SAGEMAKER_PROGRAM"], environment["SAGEMAKER_SUBMIT_DIRECTORY"]) == (
        "inference.py",
        "/opt/ml/model/code",
    )


def test_given_each_stack_then_the_model_data_url_names_the_archive_by_its_content(stack: StackRecord) -> None:
    built = build_model_artifact(ROOT / "model", ROOT / ".cache" / "pulumi" / "model" / "model.tar.gz")
    obj = stack.inputs("aws:s3/bucketObjectv2:BucketObjectv2", "model-tar-gz")
    bucket_arn = stack.one("aws:s3/bucket:Bucket", "model-artifacts")["arn"]
    assert obj["key"] == artifact_key(built) and obj["key"].startswith("model/") and obj["key"].endswith(".tar.gz")
    assert _container(stack)["modelDataUrl"] == f"s3://{bucket_arn.removeprefix('arn:aws:s3:::')}/{obj['key']}"
    assert obj["source"]["path"] == str(built)
    (read,) = [s for p, s in policy_statements(stack) if p == "sagemaker-execution" and s["Sid"] == "ReadModelArtifact"]
    assert read["Action"] == ["s3:GetObject"] and read["Resource"] == f"{bucket_arn}/model/*"


def _model_dir(tmp_path: Path, weights: bytes) -> Path:
    directory = tmp_path / weights.hex()
    (directory / "weights").mkdir(parents=True)
    (directory / "weights" / "digits-v9.npz").write_bytes(weights)
    (directory / "inference.py").write_text("def model_fn(model_dir): ...\n")
    return directory


def test_given_new_weights_then_the_archive_key_and_so_the_model_data_url_change(tmp_path: Path) -> None:
    """A changed model data URL replaces the Model and the endpoint
    configuration, and the endpoint (same name) is updated to the new one; at a
    fixed key, SageMaker would go on serving the old model."""
    first = artifact_key(build_model_artifact(_model_dir(tmp_path, b"one"), tmp_path / "1.tar.gz"))
    same = artifact_key(build_model_artifact(_model_dir(tmp_path / "again", b"one"), tmp_path / "2.tar.gz"))
    changed = artifact_key(build_model_artifact(_model_dir(tmp_path, b"two"), tmp_path / "3.tar.gz"))
    assert first == same != changed


def test_given_each_stack_then_the_endpoint_keeps_its_name_across_model_updates(stack: StackRecord) -> None:
    """The Model and its configuration are named by Pulumi (new names on
    replacement); the endpoint's name is fixed, so it is updated in place."""
    assert "name" not in stack.inputs("aws:sagemaker/model:Model")
    assert "name" not in stack.inputs("aws:sagemaker/endpointConfiguration:EndpointConfiguration")
    settings = settings_of(stack.stack)
    assert stack.inputs("aws:sagemaker/endpoint:Endpoint")["name"] == f"{settings.name_prefix}-digits"


def test_given_each_stack_then_provisioned_concurrency_follows_its_setting(stack: StackRecord) -> None:
    settings = settings_of(stack.stack).sagemaker
    (variant,) = stack.inputs("aws:sagemaker/endpointConfiguration:EndpointConfiguration")["productionVariants"]
    assert variant["serverlessConfig"].get("provisionedConcurrency", 0) == settings.provisioned_concurrency
    assert {"dev": 0, "prod": 1}[stack.stack] == settings.provisioned_concurrency


def test_given_each_stack_then_the_model_invoker_has_at_least_512_mb(stack: StackRecord) -> None:
    """Its cold start (boto3 + numpy imports) costs ~1.7-2.4 s at 256 MB, a third of its task's time."""
    assert stack.inputs("aws:lambda/function:Function", "invoke-model")["memorySize"] >= 512


def test_given_the_archive_then_it_holds_exactly_the_one_weights_file_model_fn_loads() -> None:
    built = build_model_artifact(ROOT / "model", ROOT / ".cache" / "pulumi" / "model" / "model.tar.gz")
    with tarfile.open(built) as tar:
        weights = [name for name in tar.getnames() if name.endswith(".npz")]
    assert len(weights) == 1


@pytest.mark.parametrize("weights", [["digits-v1.npz", "digits-v2.npz"]])
def test_given_two_weights_files_then_the_builder_refuses_naming_them(tmp_path: Path, weights: list[str]) -> None:
    (tmp_path / "weights").mkdir()
    for name in weights:
        (tmp_path / "weights" / name).write_bytes(b"w")
    (tmp_path / "inference.py").write_text("")
    with pytest.raises(ValueError, match="exactly one digits-\\*.npz.*digits-v1.npz, digits-v2.npz"):
        build_model_artifact(tmp_path, tmp_path / "model.tar.gz")
