"""model.tar.gz: the SageMaker layout, built deterministically."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from components.model_artifact import build_model_artifact


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "model"
    (directory / "weights").mkdir(parents=True)
    (directory / "weights" / "digits-v1.npz").write_bytes(b"weights")
    (directory / "inference.py").write_text("def model_fn(model_dir): ...\n")
    (directory / "train.py").write_text("# not shipped\n")
    return directory


def test_given_a_model_dir_then_weights_sit_at_the_root_and_the_script_under_code(
    model_dir: Path, tmp_path: Path
) -> None:
    artifact = build_model_artifact(model_dir, tmp_path / "out" / "model.tar.gz")
    with tarfile.open(artifact) as tar:
        assert sorted(tar.getnames()) == ["code/inference.py", "digits-v1.npz"]
        assert tar.extractfile("code/inference.py").read() == (model_dir / "inference.py").read_bytes()  # type: ignore[union-attr]


def test_given_the_same_model_twice_then_the_archives_are_byte_identical(model_dir: Path, tmp_path: Path) -> None:
    first = build_model_artifact(model_dir, tmp_path / "a.tar.gz").read_bytes()
    (model_dir / "inference.py").touch()
    second = build_model_artifact(model_dir, tmp_path / "b.tar.gz").read_bytes()
    assert first == second


def test_given_no_weights_then_the_build_says_so(model_dir: Path, tmp_path: Path) -> None:
    (model_dir / "weights" / "digits-v1.npz").unlink()
    with pytest.raises(FileNotFoundError, match="digits-"):
        build_model_artifact(model_dir, tmp_path / "model.tar.gz")


def test_given_the_project_model_then_the_artifact_builds() -> None:
    root = Path(__file__).resolve().parents[2]
    artifact = build_model_artifact(root / "model", root / ".cache" / "pulumi" / "model" / "model.tar.gz")
    with tarfile.open(artifact) as tar:
        names = tar.getnames()
    assert "code/inference.py" in names and any(n.startswith("digits-") and n.endswith(".npz") for n in names)
