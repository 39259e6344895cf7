"""The bootstrap program run under Pulumi's mocks, once per configuration (one
process each, all at once; tests/support/bootstrap_runs.py); the main program's
stacks to hold it against come from tests/support/pulumi_stacks.py."""

from __future__ import annotations

import json

import pytest

from tests.support.bootstrap_runs import CONFIGS, BootstrapRecord, start_bootstrap


@pytest.fixture(scope="session")
def bootstraps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, BootstrapRecord]:
    directory = tmp_path_factory.mktemp("bootstrap-mocks")
    runs = {
        name: (start_bootstrap(config, directory / f"{name}.json"), directory / f"{name}.json")
        for name, config in CONFIGS.items()
    }
    records = {}
    for name, (process, out) in runs.items():
        log, _ = process.communicate(timeout=120)
        assert process.returncode == 0, f"the bootstrap failed under mocks ({name}):\n{log[-6000:]}"
        data = json.loads(out.read_text())
        records[name] = BootstrapRecord(data["account"], data["resources"], data["outputs"])
    return records


@pytest.fixture(scope="session")
def bootstrap(bootstraps: dict[str, BootstrapRecord]) -> BootstrapRecord:
    """The plain configuration: state in Pulumi Cloud, the provider created here."""
    return bootstraps["pulumi-cloud"]
