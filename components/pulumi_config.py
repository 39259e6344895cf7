"""The one door to Pulumi's configuration internals.

``pulumi.Config`` reads one key at a time and cannot say what else is set, so
finding keys this program does not know needs the whole map: the CLI hands it
to the program in the environment (``PULUMI_CONFIG``), the unit-test mocks set
it in-process. ``tests/infra/test_infra_pulumi_config.py`` pins both.
"""

from __future__ import annotations

from pulumi.runtime.config import CONFIG, get_config_env


def all_config() -> dict[str, str]:
    """Every key set for the stack, namespaced (``project:key``), values as strings."""
    return {key: str(value) for key, value in {**get_config_env(), **CONFIG.get()}.items()}
