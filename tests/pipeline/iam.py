"""Just enough of IAM's policy evaluation to ask what a role may do with the
statements the bootstrap writes: Allow and Deny, ``*`` / ``?`` wildcards in
actions (case-insensitive) and resources (case-sensitive), and StringEquals /
StringLike conditions, a missing key failing them. An explicit Deny wins over
any Allow, and what no statement allows is denied (IAM User Guide, "Policy
evaluation logic" and "IAM JSON policy elements")."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

CONDITION_OPERATORS = ("StringEquals", "StringLike")


def as_list(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def matches(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    """IAM's wildcards: ``*`` any run of characters (``/`` and ``:`` included), ``?`` one."""
    regex = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.fullmatch(regex, value, 0 if case_sensitive else re.IGNORECASE) is not None


def _condition_holds(condition: Mapping[str, Mapping[str, Any]], context: Mapping[str, str]) -> bool:
    for operator, keys in condition.items():
        assert operator in CONDITION_OPERATORS, f"this evaluator does not know the {operator} operator"
        for key, expected in keys.items():
            actual = context.get(key)
            if actual is None:
                return False
            values = as_list(expected)
            if operator == "StringEquals" and actual not in values:
                return False
            if operator == "StringLike" and not any(matches(value, actual) for value in values):
                return False
    return True


def _applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]) -> bool:
    return (
        any(matches(pattern, action, case_sensitive=False) for pattern in as_list(statement["Action"]))
        and any(matches(pattern, resource) for pattern in as_list(statement["Resource"]))
        and _condition_holds(statement.get("Condition", {}), context)
    )


def allows(
    statements: Sequence[Mapping[str, Any]], action: str, resource: str, context: Mapping[str, str] | None = None
) -> bool:
    """Whether ``statements`` let the role do ``action`` on ``resource``."""
    applying = [s for s in statements if _applies(s, action, resource, context or {})]
    return not any(s["Effect"] == "Deny" for s in applying) and any(s["Effect"] == "Allow" for s in applying)
