"""Operator's tools for the deployed stacks: ``tools.preflight`` before a first
``pulumi up``, ``tools.executions`` to read the workflow's executions from its logs."""
