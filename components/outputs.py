"""Console links exported by the stack: where to look at executions (Express
workflows keep no history: their executions are in the log group) and the dashboard."""

from __future__ import annotations

import pulumi


def _console(region: str, path: str) -> str:
    return f"https://{region}.console.aws.amazon.com/{path}"


def _log_group(region: str, name: str) -> str:
    # The console escapes "/" in log group names as "$252F".
    return _console(region, f"cloudwatch/home?region={region}#logsV2:log-groups/log-group/{name.replace('/', '$252F')}")


def console_links(
    region: str,
    state_machine_arn: pulumi.Output[str],
    workflow_log_group: pulumi.Output[str],
    dashboard_name: pulumi.Output[str],
) -> pulumi.Output[dict[str, str]]:
    return pulumi.Output.all(state_machine_arn, workflow_log_group, dashboard_name).apply(
        lambda values: {
            "stateMachine": _console(region, f"states/home?region={region}#/statemachines/view/{values[0]}"),
            "executionLogs": _log_group(region, values[1]),
            "dashboard": _console(region, f"cloudwatch/home?region={region}#dashboards/dashboard/{values[2]}"),
        }
    )
