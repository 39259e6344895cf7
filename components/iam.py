"""Least-privilege IAM roles: one role per principal, one inline policy each.

Statements are plain data so the tests can read every one of them back from
the recorded resources and check them against the project's rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import pulumi
import pulumi_aws as aws


class Statement(TypedDict, total=False):
    Sid: str
    Effect: str
    Action: list[str]
    Resource: pulumi.Input[str] | Sequence[pulumi.Input[str]]
    Condition: dict[str, dict[str, Any]]


def allow(
    sid: str,
    actions: Sequence[str],
    resources: pulumi.Input[str] | Sequence[pulumi.Input[str]],
    condition: dict[str, dict[str, Any]] | None = None,
) -> Statement:
    statement = Statement(Sid=sid, Effect="Allow", Action=sorted(actions), Resource=resources)
    if condition is not None:
        statement["Condition"] = condition
    return statement


def assume_role_policy(service: str, source_account: pulumi.Input[str] | None = None) -> pulumi.Output[str]:
    """Trust policy letting one AWS service assume the role (from this account, if given)."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if source_account is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": [statement]})


@dataclass(frozen=True)
class GrantedRole:
    """A role and the inline policy that gives it its permissions."""

    role: aws.iam.Role
    policy: aws.iam.RolePolicy

    @property
    def arn(self) -> pulumi.Output[str]:
        """The role's ARN, known only once its policy exists too: whatever takes
        it (a Lambda with active tracing, a state machine delivering logs) is
        created after its permissions, not before them."""
        return pulumi.Output.all(self.role.arn, self.policy.id).apply(lambda values: str(values[0]))


def role_with_policy(
    name: str,
    service: str,
    statements: Sequence[Statement],
    parent: pulumi.Resource,
    source_account: pulumi.Input[str] | None = None,
    retain: bool = False,
) -> GrantedRole:
    """A role for ``service`` with exactly ``statements`` as its permissions."""
    options = pulumi.ResourceOptions(parent=parent, retain_on_delete=retain)
    role = aws.iam.Role(
        name,
        aws.iam.RoleArgs(assume_role_policy=assume_role_policy(service, source_account)),
        opts=options,
    )
    policy = aws.iam.RolePolicy(
        name,
        aws.iam.RolePolicyArgs(
            role=role.id,
            policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)}),
        ),
        opts=options,
    )
    return GrantedRole(role, policy)


def account_id() -> pulumi.Output[str]:
    """The deploying account's id."""
    return aws.get_caller_identity_output().account_id
