"""The resources a stack's program registered under mocks, and ways to query them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from components.settings import SageMakerSettings, StackSettings, parse_settings, project_values
from tests.infra.mock_program import stack_config


@dataclass(frozen=True)
class StackRecord:
    """What one stack's program registered."""

    stack: str
    resources: list[dict[str, Any]]
    urns: list[str]
    outputs: dict[str, Any]

    def of_type(self, resource_type: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == resource_type]

    def one(self, resource_type: str, name: str | None = None) -> dict[str, Any]:
        matches = [r for r in self.of_type(resource_type) if name is None or r["name"] == name]
        assert len(matches) == 1, f"{self.stack}: expected one {resource_type} {name or ''}, got {len(matches)}"
        return matches[0]

    def waits_for(self, resource: dict[str, Any]) -> set[str]:
        """URNs of everything ``resource`` is created after, directly or through its dependencies."""
        by_urn = {r["urn"]: r for r in self.resources}
        seen: set[str] = set()
        pending = list(resource["dependsOn"])
        while pending:
            urn = pending.pop()
            if urn not in seen:
                seen.add(urn)
                pending.extend(by_urn[urn]["dependsOn"] if urn in by_urn else [])
        return seen

    def inputs(self, resource_type: str, name: str | None = None) -> dict[str, Any]:
        inputs: dict[str, Any] = self.one(resource_type, name)["inputs"]
        return inputs


def policy_statements(record: StackRecord) -> list[tuple[str, dict[str, Any]]]:
    """(role policy resource name, statement) for every inline policy of the stack."""
    found = []
    for policy in record.of_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in json.loads(policy["inputs"]["policy"])["Statement"]:
            found.append((policy["name"], statement))
    return found


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def raw_settings(stack: str) -> dict[str, str]:
    """The project's settings of a stack file (plus its test secrets), as raw strings."""
    return project_values(stack_config(stack))


def settings_of(stack: str) -> StackSettings:
    """The validated settings of a stack."""
    return parse_settings(stack, stack_config(stack)["aws:region"], raw_settings(stack))


def instance_sagemaker() -> SageMakerSettings:
    """The model on two instances instead of serverless (neither stack file does this)."""
    return SageMakerSettings(
        mode="instance",
        serverless_memory_mb=2048,
        serverless_max_concurrency=5,
        provisioned_concurrency=0,
        instance_type="ml.c6i.large",
        instance_count=2,
    )
