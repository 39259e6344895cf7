"""What ``components.pulumi_config`` relies on in Pulumi's internals: the CLI's
configuration in ``PULUMI_CONFIG`` and the mocks' in-process configuration both
reach ``all_config``. A Pulumi upgrade that moves either fails here first."""

from __future__ import annotations

import contextvars
import json
from typing import Any

import pytest
from pulumi.runtime.config import CONFIG

from components.pulumi_config import all_config


def _with_in_process_config(config: dict[str, Any]) -> dict[str, str]:
    """``all_config()`` in a context of its own, with ``config`` set the way the mocks set it."""

    def read() -> dict[str, str]:
        CONFIG.set(config)
        return all_config()

    return contextvars.copy_context().run(read)


def test_given_the_cli_s_environment_then_every_key_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"digit-recognition:logLevel": "INFO", "aws:region": "x"}))

    assert _with_in_process_config({}) == {"digit-recognition:logLevel": "INFO", "aws:region": "x"}


def test_given_configuration_set_in_process_then_it_is_read_and_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"digit-recognition:logLevel": "INFO"}))

    read = _with_in_process_config({"digit-recognition:logLevel": "DEBUG", "digit-recognition:typo": 1})

    assert read == {"digit-recognition:logLevel": "DEBUG", "digit-recognition:typo": "1"}
