"""Builds ``model.tar.gz`` for SageMaker from ``model/``, deterministically.

Layout SageMaker's framework containers expect: the weights at the archive's
root (extracted to ``/opt/ml/model``) and the inference script as
``code/inference.py``. Same inputs give byte-identical archives (sorted
entries, zeroed times and owners, no gzip timestamp), so the upload only
changes when the model does.

The archive's S3 key is its content's digest (``model/<sha256 prefix>.tar.gz``):
SageMaker only picks up a new model through a new endpoint configuration,
which needs a new model data URL; an archive overwritten at a fixed key would
never reach the endpoint.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path

WEIGHTS_PATTERN = "digits-*.npz"
KEY_PREFIX = "model/"
# 64 bits of the digest: collisions between two builds of this project are not a concern.
DIGEST_CHARS = 16


def artifact_members(model_dir: Path) -> dict[str, Path]:
    """Archive name -> source file, for the weights and the inference script."""
    weights = sorted((model_dir / "weights").glob(WEIGHTS_PATTERN))
    if not weights:
        raise FileNotFoundError(f"no {WEIGHTS_PATTERN} in {model_dir / 'weights'}: train or fetch the model first")
    if len(weights) > 1:
        # model_fn loads exactly one: an archive with two would fail at the container's start.
        names = ", ".join(path.name for path in weights)
        raise ValueError(
            f"expected exactly one {WEIGHTS_PATTERN} in {model_dir / 'weights'}, found {names}: "
            "keep only the version to deploy"
        )
    script = model_dir / "inference.py"
    if not script.is_file():
        raise FileNotFoundError(f"{script} is missing")
    members = {path.name: path for path in weights}
    members["code/inference.py"] = script
    return members


def build_model_artifact(model_dir: Path, output: Path) -> Path:
    """Write ``output`` (a .tar.gz) from ``model_dir`` and return its path."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, source in sorted(artifact_members(model_dir).items()):
            data = source.read_bytes()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(gzip.compress(buffer.getvalue(), compresslevel=9, mtime=0))
    return output


def artifact_key(artifact: Path) -> str:
    """The S3 key of a built archive: named by its content, so a new model is a new key."""
    digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
    return f"{KEY_PREFIX}{digest[:DIGEST_CHARS]}.tar.gz"
