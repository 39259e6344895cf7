"""The Lambda layer really is numpy, Pillow and Powertools for arm64 CPython 3.12, precompiled.

NETWORK: the first run downloads the aarch64 wheels from PyPI (~40 MB) into
.cache/pulumi/layers/ (git-ignored; the Pulumi program uses the same cache),
later runs reuse that build.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from components.layer_builder import (
    LayerBuildError,
    LayerSpec,
    build_layer,
    pinned_requirements,
)
from components.workflow import LAYER_PACKAGES

ROOT = Path(__file__).resolve().parents[2]
ELF_MACHINE_AARCH64 = 183  # e_machine of ELF files for ARM 64-bit


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF" and header[5] == 1, f"{path} is not a little-endian ELF file"
    return int.from_bytes(header[18:20], "little")


@pytest.fixture(scope="module")
def layer() -> Path:
    spec = LayerSpec(pinned_requirements(ROOT / "pyproject.toml", LAYER_PACKAGES))
    return build_layer(spec, ROOT / ".cache" / "pulumi" / "layers") / "python"


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


def test_given_the_layer_then_sources_are_precompiled_for_312_without_timestamp_checks(layer: Path) -> None:
    source = layer / "PIL" / "Image.py"
    compiled = source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc"
    header = compiled.read_bytes()[:16]
    flags = int.from_bytes(header[4:8], "little")
    assert flags == 0b01, "expected an unchecked hash-based .pyc (PEP 552)"


def test_given_a_package_the_project_does_not_pin_then_the_build_refuses(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["numpy==2.4.6"]\n')
    assert pinned_requirements(pyproject, ("NumPy",)) == ("numpy==2.4.6",)
    with pytest.raises(LayerBuildError, match="pins no version of pillow"):
        pinned_requirements(pyproject, ("pillow",))
