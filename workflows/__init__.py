"""The prediction workflow's state machine definition (one source for AWS and local)."""

from workflows.definition import build_definition

__all__ = ["build_definition"]
