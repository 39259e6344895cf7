"""The workflow's tasks and the API's function, each named once.

Every place that names a task takes the spelling it needs from here: the
definition its state names, the Pulumi program its function names and the keys
of its settings, items their ``timingsMs`` keys, metrics their ``Stage``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Function:
    """A Lambda of the stack."""

    key: str  # its handler module (functions/handlers/<key>.py) and its key in settings

    @property
    def name(self) -> str:
        """Its name in the Pulumi program and on AWS (after the stack's prefix)."""
        return self.key.replace("_", "-")

    @property
    def handler(self) -> str:
        """Its Lambda handler setting."""
        return f"functions.handlers.{self.key}.handler"


@dataclass(frozen=True)
class Task(Function):
    """A Lambda the workflow calls, as one of its states."""

    state: str  # the state's name, as the Step Functions console shows it
    stage: str  # its key in an item's ``timingsMs`` and its ``Stage`` metric dimension


VALIDATE = Task("validate", state="Validate", stage="validate")
PREPROCESS = Task("preprocess", state="Preprocess", stage="preprocess")
INVOKE_MODEL = Task("invoke_model", state="InvokeModel", stage="invokeModel")
PERSIST = Task("persist", state="Persist", stage="persist")
# In the order the workflow runs them.
WORKFLOW_TASKS: tuple[Task, ...] = (VALIDATE, PREPROCESS, INVOKE_MODEL, PERSIST)
# The API's reads, feedback and deletes: behind API Gateway, outside the workflow.
HISTORY = Function("history")
FUNCTIONS: tuple[Function, ...] = (*WORKFLOW_TASKS, HISTORY)
