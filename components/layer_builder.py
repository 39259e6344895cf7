"""Builds the Lambda layer of third-party packages (numpy, Pillow, ...) for arm64.

pip fetches the manylinux aarch64 wheels for CPython 3.12 whatever machine
deploys; the result is byte-compiled by a Python 3.12 interpreter (bytecode is
version specific) with hash-based, unchecked ``.pyc`` files so the Lambda
runtime never recompiles on a cold start, even though the zip's timestamps
differ from the build's. Builds are cached under ``cache_dir`` by a hash of
everything that shapes them, and land atomically (build aside, then rename),
so concurrent deployments share one result.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from itertools import chain
from dataclasses import dataclass
from pathlib import Path

PYTHON_VERSION = "3.12"
# Lambda's python3.12 runtime is Amazon Linux 2023 (glibc 2.34): both tags run there.
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
LAYER_PYTHON_ENV = "LAYER_PYTHON"


class LayerBuildError(RuntimeError):
    """The layer cannot be built on this machine; the message says why."""


@dataclass(frozen=True)
class LayerSpec:
    requirements: tuple[str, ...]
    python_version: str = PYTHON_VERSION
    platforms: tuple[str, ...] = PLATFORMS

    @property
    def digest(self) -> str:
        recipe = {
            "requirements": sorted(self.requirements),
            "python": self.python_version,
            "platforms": list(self.platforms),
            "pyc": "unchecked-hash",
        }
        return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def pinned_requirements(pyproject: Path, packages: tuple[str, ...]) -> tuple[str, ...]:
    """The project's own pins (``[project]`` dependencies or any extra) of ``packages``."""
    project = tomllib.loads(pyproject.read_text())["project"]
    declared = [*project.get("dependencies", []), *chain.from_iterable(project.get("optional-dependencies", {}).values())]
    pins = {_distribution(requirement): requirement for requirement in declared}
    missing = [package for package in packages if _distribution(package) not in pins]
    if missing:
        raise LayerBuildError(f"{pyproject} pins no version of {', '.join(missing)}")
    return tuple(pins[_distribution(package)] for package in packages)


def _distribution(requirement: str) -> str:
    """Normalised distribution name of a requirement (PEP 503)."""
    name = re.match(r"[A-Za-z0-9._-]+", requirement.strip())
    if name is None:
        raise LayerBuildError(f"cannot read requirement {requirement!r}")
    return re.sub(r"[-_.]+", "-", name.group(0)).lower()


def find_target_python(version: str = PYTHON_VERSION) -> str:
    """An interpreter of the Lambda runtime's version, for byte-compiling."""
    candidates = [
        os.environ.get(LAYER_PYTHON_ENV, ""),
        shutil.which(f"python{version}") or "",
        *sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}"))),
    ]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    raise LayerBuildError(
        f"byte-compiling the layer for the python{version} runtime needs a Python {version} "
        f"interpreter: put python{version} on PATH or set {LAYER_PYTHON_ENV}"
    )


def build_layer(spec: LayerSpec, cache_dir: Path) -> Path:
    """The layer directory (containing ``python/``), built if not cached."""
    final = cache_dir / spec.digest
    if (final / "python").is_dir():
        return final
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{spec.digest}-", dir=cache_dir))
    staging.chmod(0o755)  # mkdtemp makes it private; the layer must be world-readable
    try:
        _install(spec, staging / "python")
        try:
            staging.rename(final)
        except OSError:
            if not (final / "python").is_dir():  # lost a race only if the winner finished
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def _install(spec: LayerSpec, target: Path) -> None:
    platform_args = [arg for platform in spec.platforms for arg in ("--platform", platform)]
    _run([
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-warn-conflicts", *platform_args, "--implementation", "cp",
        "--python-version", spec.python_version, "--only-binary=:all:",
        "--target", str(target), *spec.requirements,
    ])
    # Console scripts are of no use in a layer.
    shutil.rmtree(target / "bin", ignore_errors=True)
    _run([
        find_target_python(spec.python_version), "-m", "compileall", "-q", "-j", "0",
        "--invalidation-mode", "unchecked-hash", str(target),
    ])


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LayerBuildError(f"{' '.join(command[:4])} ... failed:\n{result.stderr[-4000:]}")
