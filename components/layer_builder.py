"""Builds what Lambda runs: the layer of third-party packages (numpy, Pillow,
...) for arm64, and the function code, both byte-compiled for the runtime.

pip fetches the manylinux aarch64 wheels for CPython 3.12 whatever machine
deploys, with ``--no-compile``: the deploy venv's pip would otherwise add its
own interpreter's bytecode (3.11 here, useless to the runtime, ~6 MB zipped).
numpy's own test suites (~25 MB unzipped) are left out. Everything is then
byte-compiled by a Python 3.12 interpreter (bytecode is version specific) with
hash-based, unchecked ``.pyc`` files so the Lambda runtime never recompiles on
a cold start, even though the zip's timestamps differ from the build's (the
function code's directory is read-only on Lambda: without shipped bytecode,
every cold start compiles every module it imports).

The layer is zipped here, deterministically, and refused over
``MAX_LAYER_ZIP_BYTES``: Lambda takes at most 50 MB zipped when a layer is
uploaded directly ("Lambda quotas", deployment package size), and the margin
covers the provider re-packing the archive.

Builds are cached under ``cache_dir`` by a hash of everything that shapes them,
and land atomically (build aside, then rename), so concurrent deployments share
one result.
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
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

PYTHON_VERSION = "3.12"
# Lambda's python3.12 runtime is Amazon Linux 2023 (glibc 2.34): both tags run there.
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
LAYER_PYTHON_ENV = "LAYER_PYTHON"
# What the runtime never imports: numpy's test suites.
STRIPPED_DIRECTORIES = ("numpy/**/tests",)
LAYER_ZIP = "layer.zip"
MAX_LAYER_ZIP_BYTES = 45 * 1024 * 1024
# Fixed zip entry times, so the same files always make the same archive.
_ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


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
            "pyc": "unchecked-hash, target interpreter only",
            "stripped": list(STRIPPED_DIRECTORIES),
            "zip": LAYER_ZIP,
        }
        return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def pinned_requirements(pyproject: Path, packages: tuple[str, ...]) -> tuple[str, ...]:
    """The project's own pins (``[project]`` dependencies or any extra) of ``packages``."""
    project = tomllib.loads(pyproject.read_text())["project"]
    declared = [
        *project.get("dependencies", []),
        *chain.from_iterable(project.get("optional-dependencies", {}).values()),
    ]
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
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    raise LayerBuildError(
        f"byte-compiling the layer for the python{version} runtime needs a Python {version} "
        f"interpreter: put python{version} on PATH or set {LAYER_PYTHON_ENV}"
    )


def build_layer(spec: LayerSpec, cache_dir: Path, max_zip_bytes: int = MAX_LAYER_ZIP_BYTES) -> Path:
    """The layer directory (containing ``python/`` and its zip, ``layer.zip``),
    built if not cached; ``LayerBuildError`` if the zip is over ``max_zip_bytes``."""
    final = _cached(cache_dir, spec.digest, lambda staging: _build_layer(spec, staging))
    size = (final / LAYER_ZIP).stat().st_size
    if size > max_zip_bytes:
        raise LayerBuildError(
            f"the Lambda layer zips to {size / 2**20:.1f} MB, over the {max_zip_bytes / 2**20:.0f} MB this project "
            f"allows (Lambda accepts at most 50 MB uploaded directly): drop a dependency from LAYER_PACKAGES, "
            f"strip more in STRIPPED_DIRECTORIES, or upload the layer through S3 ({final / LAYER_ZIP})"
        )
    return final


def build_function_code(functions_dir: Path, cache_dir: Path, python_version: str = PYTHON_VERSION) -> Path:
    """A directory holding the ``functions`` package's sources and their
    bytecode for the runtime's Python, built if not cached."""
    sources = sorted(path for path in functions_dir.rglob("*.py") if "__pycache__" not in path.parts)
    recipe = hashlib.sha256(f"python {python_version}, unchecked-hash".encode())
    for path in sources:
        recipe.update(str(path.relative_to(functions_dir)).encode() + b"\0" + path.read_bytes() + b"\0")

    def build(staging: Path) -> None:
        for path in sources:
            copy = staging / functions_dir.name / path.relative_to(functions_dir)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, copy)
        _compile(staging, python_version)

    return _cached(cache_dir, f"{functions_dir.name}-{recipe.hexdigest()[:16]}", build)


def _cached(cache_dir: Path, key: str, build: Callable[[Path], None]) -> Path:
    """``cache_dir/key``, made by ``build(staging)`` if it is not there yet."""
    final = cache_dir / key
    if final.is_dir():
        return final
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=cache_dir))
    staging.chmod(0o755)  # mkdtemp makes it private; Lambda's files must be world-readable
    try:
        build(staging)
        try:
            staging.rename(final)
        except OSError:
            if not final.is_dir():  # lost a race only if the winner finished
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def _build_layer(spec: LayerSpec, staging: Path) -> None:
    target = staging / "python"
    platform_args = [arg for platform in spec.platforms for arg in ("--platform", platform)]
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-warn-conflicts",
            "--no-compile",
            *platform_args,
            "--implementation",
            "cp",
            "--python-version",
            spec.python_version,
            "--only-binary=:all:",
            "--target",
            str(target),
            *spec.requirements,
        ]
    )
    # Console scripts are of no use in a layer.
    shutil.rmtree(target / "bin", ignore_errors=True)
    for pattern in STRIPPED_DIRECTORIES:
        for directory in sorted(target.glob(pattern), reverse=True):  # the deepest first
            if directory.is_dir():
                shutil.rmtree(directory)
    _compile(target, spec.python_version)
    _write_zip(target, staging / LAYER_ZIP)


def _compile(directory: Path, python_version: str) -> None:
    _run(
        [
            find_target_python(python_version),
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            str(directory),
        ]
    )


def _write_zip(directory: Path, destination: Path) -> None:
    """``directory`` (as its own top-level folder) zipped, the same bytes for the same files."""
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                entry = zipfile.ZipInfo(str(path.relative_to(directory.parent)), _ZIP_TIMESTAMP)
                entry.external_attr = ((path.stat().st_mode & 0o777) | 0o444) << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, path.read_bytes(), compresslevel=9)


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LayerBuildError(f"{' '.join(command[:4])} ... failed:\n{result.stderr[-4000:]}")
