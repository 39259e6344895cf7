"""The four workflow handlers wired in one process: the local stack, the workflow
tests and the benchmarks all build them here, so they run the same code the same way."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from functions.core.config import (
    HistoryLocation,
    InvokeModelSettings,
    PersistSettings,
    PreprocessSettings,
    ValidateSettings,
    load_settings,
)
from functions.core.tasks import INVOKE_MODEL, PERSIST, PREPROCESS, VALIDATE

if TYPE_CHECKING:
    from functions.core.history.port import HistoryStore

Handler = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class WorkflowSettings:
    """Each task's own settings, as its Lambda would read them."""

    validate: ValidateSettings
    preprocess: PreprocessSettings
    invoke_model: InvokeModelSettings
    persist: PersistSettings

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> WorkflowSettings:
        """What the four Lambdas read from this environment (the local stack sets it as AWS would)."""
        return cls(
            load_settings(ValidateSettings, environ),
            load_settings(PreprocessSettings, environ),
            load_settings(InvokeModelSettings, environ),
            load_settings(PersistSettings, environ),
        )

    @classmethod
    def with_defaults(cls, endpoint_name: str, history: HistoryLocation, log_level: str) -> WorkflowSettings:
        """The deployed defaults, at one log level: for tests and benchmarks."""
        return cls(
            ValidateSettings(log_level=log_level),
            PreprocessSettings(log_level=log_level),
            InvokeModelSettings(log_level=log_level, sagemaker_endpoint_name=endpoint_name),
            PersistSettings(log_level=log_level, history=history),
        )


def workflow_handlers(settings: WorkflowSettings, persist_store: HistoryStore | None = None) -> dict[str, Handler]:
    """``{task key: handler}`` in the workflow's order; ``persist_store`` replaces the
    store Persist would open from its settings."""
    from functions.handlers import invoke_model, persist, preprocess, validate

    return {
        VALIDATE.key: validate.build(settings.validate),
        PREPROCESS.key: preprocess.build(settings.preprocess),
        INVOKE_MODEL.key: invoke_model.build(settings.invoke_model),
        PERSIST.key: persist.build(settings.persist, store=persist_store),
    }
