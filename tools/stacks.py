"""The stacks as their ``Pulumi.<stack>.yaml`` files describe them, read through
the Pulumi program's own settings validation, without Pulumi or AWS."""

from __future__ import annotations

import json
from pathlib import Path

from components.settings import StackSettings, parse_settings, project_values, read_stack_file

ROOT = Path(__file__).resolve().parent.parent
# The alarm address is a secret (in the file only encrypted, if at all) and
# nothing read here depends on it; the validation still wants an address.
_ALARM_EMAIL_STAND_IN = "stand-in@example.com"


class StackFileError(ValueError):
    """No such stack file; the message names the stacks there are."""


def stack_names(root: Path = ROOT) -> list[str]:
    """The stacks that have a ``Pulumi.<stack>.yaml`` in ``root``."""
    return sorted(path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in root.glob("Pulumi.*.yaml"))


def stack_config(stack: str, root: Path = ROOT) -> dict[str, str]:
    """A stack file's whole config map (``aws:region``, ``digit-recognition:...``)."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise StackFileError(f"there is no {path.name} in {root} (stacks: {', '.join(stack_names(root)) or 'none'})")
    return read_stack_file(path)


def stack_settings(stack: str, root: Path = ROOT) -> StackSettings:
    """The stack's validated settings, as the Pulumi program would read them."""
    config = stack_config(stack, root)
    values = {**project_values(config), "alarmEmail": _ALARM_EMAIL_STAND_IN}
    return parse_settings(stack, config.get("aws:region"), values)


def allowed_account_ids(config: dict[str, str]) -> frozenset[str] | None:
    """The accounts a stack may deploy to (the AWS provider's ``allowedAccountIds``), None if unrestricted."""
    raw = config.get("aws:allowedAccountIds")
    if raw is None:
        return None
    try:
        ids = json.loads(raw)
    except ValueError:
        ids = raw
    return frozenset(str(each) for each in (ids if isinstance(ids, list) else [ids]))


def workflow_log_group(settings: StackSettings) -> str:
    """The Express workflow's log group, named as the Pulumi program names it."""
    from components.workflow import workflow_log_group_name

    return workflow_log_group_name(settings.name_prefix)
