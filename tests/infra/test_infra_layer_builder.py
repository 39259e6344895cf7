"""The Lambda layer really is numpy, Pillow and Powertools for arm64 CPython 3.12,
precompiled for 3.12 only and without numpy's tests; the function code carries
its 3.12 bytecode too.

NETWORK: the first run downloads the aarch64 wheels from PyPI (~40 MB) into
.cache/pulumi/layers/ (git-ignored; the Pulumi program uses the same cache),
later runs reuse that build.
"""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

from components.lambda_function import LAYER_PACKAGES
from components.layer_builder import (
    LAYER_ZIP,
    MAX_LAYER_ZIP_BYTES,
    PYTHON_VERSION,
    LayerBuildError,
    LayerSpec,
    build_function_code,
    build_layer,
    find_target_python,
    pinned_requirements,
)

ROOT = Path(__file__).resolve().parents[2]
LAYER_CACHE = ROOT / ".cache" / "pulumi" / "layers"
ELF_MACHINE_AARCH64 = 183  # e_machine of ELF files for ARM 64-bit
# PEP 552: bit 0 set = hash-based, bit 1 clear = not checked against the source.
UNCHECKED_HASH_FLAGS = 0b01


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF" and header[5] == 1, f"{path} is not a little-endian ELF file"
    return int.from_bytes(header[18:20], "little")


def _spec() -> LayerSpec:
    return LayerSpec(pinned_requirements(ROOT / "pyproject.toml", LAYER_PACKAGES))


@pytest.fixture(scope="module")
def layer_dir() -> Path:
    return build_layer(_spec(), LAYER_CACHE)


@pytest.fixture(scope="module")
def layer(layer_dir: Path) -> Path:
    return layer_dir / "python"


@pytest.fixture(scope="module")
def runtime_magic() -> bytes:
    """The bytecode magic number of the runtime's Python (the first 4 bytes of a .pyc)."""
    probe = "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"
    output = subprocess.run([find_target_python(), "-c", probe], capture_output=True, text=True, check=True).stdout
    return bytes.fromhex(output)


def _assert_only_runtime_bytecode(root: Path, magic: bytes) -> list[Path]:
    compiled = sorted(root.rglob("*.pyc"))
    foreign = [path for path in compiled if not path.name.endswith(".cpython-312.pyc")]
    assert not foreign, f"bytecode of another Python: {foreign[:5]}"
    for path in compiled:
        header = path.read_bytes()[:8]
        assert header[:4] == magic, path
        assert int.from_bytes(header[4:8], "little") == UNCHECKED_HASH_FLAGS, path
    return compiled


def test_given_the_project_pins_then_the_layer_holds_exactly_those_versions(layer: Path) -> None:
    assert (layer / "numpy" / "__init__.py").is_file() and (layer / "PIL" / "Image.py").is_file()
    installed = {p.name.removesuffix(".dist-info").lower() for p in layer.glob("*.dist-info")}
    for requirement in pinned_requirements(ROOT / "pyproject.toml", LAYER_PACKAGES):
        name, version = requirement.split("==")
        assert f"{name.replace('-', '_').lower()}-{version}" in installed


def test_given_the_layer_then_every_native_library_is_aarch64_for_cpython312(layer: Path) -> None:
    extensions = list(layer.rglob("*.so")) + list(layer.rglob("*.so.*"))
    assert len(extensions) > 10
    assert {_elf_machine(path) for path in extensions} == {ELF_MACHINE_AARCH64}
    modules = [p for p in extensions if ".cpython-" in p.name]
    assert modules and all("cpython-312-aarch64-linux-gnu" in p.name for p in modules)


def test_given_the_layer_then_its_only_bytecode_is_the_runtime_s_without_timestamp_checks(
    layer: Path, runtime_magic: bytes
) -> None:
    """pip installs with --no-compile: the deploy venv's interpreter (3.11)
    would add bytecode the runtime never reads."""
    compiled = _assert_only_runtime_bytecode(layer, runtime_magic)
    assert layer / "PIL" / "__pycache__" / "Image.cpython-312.pyc" in compiled
    sources = [p for p in layer.rglob("*.py") if "__pycache__" not in p.parts]
    assert len(compiled) == len(sources)


def test_given_the_layer_then_numpy_s_test_suites_are_left_out(layer: Path) -> None:
    numpy = layer / "numpy"
    assert (numpy / "_core" / "__init__.py").is_file()
    assert not [path for path in numpy.rglob("tests") if path.is_dir()]
    assert not list(numpy.rglob("test_*.py"))


def test_given_the_layer_then_its_zip_holds_exactly_its_files_within_the_upload_limit(layer_dir: Path) -> None:
    """Lambda accepts at most 50 MB zipped when a layer is uploaded directly
    ("Lambda quotas"); the build refuses more than 45 MB."""
    archive = layer_dir / LAYER_ZIP
    assert archive.stat().st_size <= MAX_LAYER_ZIP_BYTES
    with zipfile.ZipFile(archive) as opened:
        names = sorted(opened.namelist())
    on_disk = sorted(str(p.relative_to(layer_dir)) for p in (layer_dir / "python").rglob("*") if p.is_file())
    assert names == on_disk


def test_given_a_layer_over_the_size_limit_then_the_build_stops_with_a_clear_error(layer_dir: Path) -> None:
    limit = 1024 * 1024
    with pytest.raises(LayerBuildError, match=r"zips to [\d.]+ MB, over the 1 MB .* upload the layer through S3"):
        build_layer(_spec(), LAYER_CACHE, max_zip_bytes=limit)


def test_given_the_functions_package_then_its_archive_carries_runtime_bytecode_for_every_module(
    tmp_path: Path, runtime_magic: bytes
) -> None:
    built = build_function_code(ROOT / "functions", tmp_path)
    sources = sorted(p.relative_to(ROOT) for p in (ROOT / "functions").rglob("*.py") if "__pycache__" not in p.parts)
    assert sorted(p.relative_to(built) for p in built.rglob("*.py")) == sources
    compiled = _assert_only_runtime_bytecode(built, runtime_magic)
    assert len(compiled) == len(sources)
    assert build_function_code(ROOT / "functions", tmp_path) == built  # cached: built once per source change
    assert PYTHON_VERSION == "3.12"


def test_given_a_package_the_project_does_not_pin_then_the_build_refuses(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["numpy==2.4.6"]\n')
    assert pinned_requirements(pyproject, ("NumPy",)) == ("numpy==2.4.6",)
    with pytest.raises(LayerBuildError, match="pins no version of pillow"):
        pinned_requirements(pyproject, ("pillow",))
