"""Stack files for the tools' tests: the repository's own, with the values a test needs changed."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from components.settings import PROJECT
from tools.stacks import ROOT


def write_stack(
    root: Path, stack: str, changes: Mapping[str, object] | None = None, *, base: str | None = None
) -> Path:
    """``root/Pulumi.<stack>.yaml``: the repository's ``Pulumi.<base>.yaml`` (default: the same stack)
    with ``changes`` applied; keys without a namespace are the project's, a None value removes the key."""
    document = yaml.safe_load((ROOT / f"Pulumi.{base or stack}.yaml").read_text())
    config = document["config"]
    for key, value in (changes or {}).items():
        full = key if ":" in key else f"{PROJECT}:{key}"
        if value is None:
            config.pop(full, None)
        else:
            config[full] = value
    path = root / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path
