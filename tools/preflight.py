"""Before a first ``pulumi up``: can this machine deploy the stack to this AWS account?

    python -m tools.preflight --stack dev      (make preflight STACK=dev)

One line per check, ``ok`` or ``FAIL`` with the fix (``skip`` when an earlier
failure leaves nothing to check); exit status 1 if anything failed:

- the stack file validates (the Pulumi program's own settings rules);
- AWS credentials work (STS ``GetCallerIdentity``: account and caller ARN);
- the stack's region has the SageMaker scikit-learn image and answers SageMaker calls;
- the account's Serverless Inference quotas in that region cover every stack
  file here that deploys to that account and region: the total maximum
  concurrency, and the total provisioned concurrency;
- a Python 3.12 interpreter for the Lambda layer, and the Pulumi CLI 3.x;
- the alarm address secret is set when the stack has alarms (its value is never printed).

AWS clients and the command runner are parameters, so tests stub them.

Service Quotas (service code ``sagemaker``) documents no quota codes for
Serverless Inference, so quotas are matched by name. The total-concurrency
quota, "Maximum total concurrency that can be allocated across all serverless
endpoints", is also matched by the code public deployments quote for it,
``L-96300102``. ``ListServiceQuotas`` omits quotas without an applied value
("If the applied quota value is not available for a quota, the quota is not
retrieved", Service Quotas API reference), so the AWS defaults
(``ListAWSDefaultServiceQuotas``) are read when the applied list lacks one.
"""

from __future__ import annotations

import argparse
import enum
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

from components.layer_builder import PYTHON_VERSION, LayerBuildError, find_target_python
from components.settings import EMAIL, PROJECT, SettingsError, StackSettings
from tools.aws_errors import NO_CREDENTIALS, error_code, error_message
from tools.stacks import ROOT, StackFileError, allowed_account_ids, stack_config, stack_names, stack_settings

QUOTA_SERVICE = "sagemaker"
TOTAL_CONCURRENCY_QUOTA = "Maximum total concurrency that can be allocated across all serverless endpoints"
TOTAL_CONCURRENCY_CODE = "L-96300102"
ALARM_EMAIL_KEY = f"{PROJECT}:alarmEmail"
PULUMI_MAJOR = 3
# STS in us-east-1 is always enabled: a region the account has not enabled
# shows in the region check, not as bad credentials.
STS_REGION = "us-east-1"
# A region the account has not enabled rejects its credentials.
REGION_NOT_ENABLED = frozenset({"UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure"})
COMMAND_TIMEOUT_SECONDS = 60


class Outcome(enum.Enum):
    OK = "ok"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True)
class Check:
    outcome: Outcome
    subject: str
    message: str

    def line(self) -> str:
        return f"{self.outcome.value:<5} {self.subject}: {self.message}"


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: str
    stderr: str


Runner = Callable[[Sequence[str]], CommandResult]


@dataclass(frozen=True)
class AwsClients:
    """boto3 clients: ``sts``, and ``sagemaker`` and ``service-quotas`` in the stack's region."""

    sts: Any
    sagemaker: Any
    service_quotas: Any


def aws_clients(region: str) -> AwsClients:
    config = Config(connect_timeout=5, read_timeout=15, retries={"max_attempts": 3, "mode": "standard"})
    return AwsClients(
        sts=boto3.client("sts", region_name=STS_REGION, config=config),
        sagemaker=boto3.client("sagemaker", region_name=region, config=config),
        service_quotas=boto3.client("service-quotas", region_name=region, config=config),
    )


def run_command(args: Sequence[str]) -> CommandResult:
    """Runs a command in the project's root; a missing program is exit status 127, as in a shell."""
    try:
        done = subprocess.run(
            list(args),
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
            timeout=COMMAND_TIMEOUT_SECONDS,
        )
    except FileNotFoundError:
        return CommandResult(127, "", f"{args[0]}: command not found")
    except subprocess.TimeoutExpired:
        return CommandResult(124, "", f"{' '.join(args)} did not finish within {COMMAND_TIMEOUT_SECONDS} s")
    return CommandResult(done.returncode, done.stdout, done.stderr)


@dataclass(frozen=True)
class Quota:
    name: str
    code: str
    value: float


class _Quotas:
    """SageMaker's quotas in one region, read once: applied values first, AWS defaults for the rest."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._applied: list[Quota] | None = None
        self._defaults: list[Quota] | None = None

    def find(self, matches: Callable[[Quota], bool]) -> Quota | None:
        if self._applied is None:
            self._applied = list(self._pages("list_service_quotas"))
        found = next((quota for quota in self._applied if matches(quota)), None)
        if found is None:
            if self._defaults is None:
                self._defaults = list(self._pages("list_aws_default_service_quotas"))
            found = next((quota for quota in self._defaults if matches(quota)), None)
        return found

    def _pages(self, operation: str) -> Iterator[Quota]:
        for page in self._client.get_paginator(operation).paginate(ServiceCode=QUOTA_SERVICE, MaxResults=100):
            for quota in page.get("Quotas", []):
                if "Value" in quota:
                    yield Quota(str(quota.get("QuotaName", "")), str(quota.get("QuotaCode", "")), float(quota["Value"]))


def _normalised(name: str) -> str:
    return " ".join(name.casefold().split())


def is_total_concurrency_quota(quota: Quota) -> bool:
    return quota.code == TOTAL_CONCURRENCY_CODE or _normalised(quota.name) == _normalised(TOTAL_CONCURRENCY_QUOTA)


def is_provisioned_concurrency_quota(quota: Quota) -> bool:
    name = _normalised(quota.name)
    return "provisioned concurrency" in name and "across all serverless endpoints" in name


@dataclass(frozen=True)
class _Target:
    """What the AWS checks need: the stack's settings and the caller's account."""

    settings: StackSettings
    account: str


def preflight(
    stack: str,
    clients_for: Callable[[str], AwsClients],
    run: Runner,
    root: Path = ROOT,
) -> list[Check]:
    """Every check, in order; later checks are skipped when what they need failed."""
    checks: list[Check] = []
    settings = _check_stack_file(stack, root, checks)
    # Credentials are checked even without the stack's region.
    clients = clients_for(settings.region if settings is not None else STS_REGION)
    account = _check_credentials(clients, checks)
    target = _Target(settings, account) if settings is not None and account is not None else None
    region_ok = _check_region(target, clients, checks)
    _check_quotas(target if region_ok else None, clients, root, checks)
    checks.append(_check_layer_python())
    pulumi_ok = _check_pulumi(run, checks)
    checks.append(_check_alarm_email(stack, settings, root, run, pulumi_ok))
    return checks


def _check_stack_file(stack: str, root: Path, checks: list[Check]) -> StackSettings | None:
    subject = f"stack file Pulumi.{stack}.yaml"
    try:
        settings = stack_settings(stack, root)
    except StackFileError as error:
        checks.append(Check(Outcome.FAIL, subject, f"{error}: pass one of those to --stack"))
        return None
    except SettingsError as error:
        checks.append(Check(Outcome.FAIL, subject, f"{error}: fix Pulumi.{stack}.yaml"))
        return None
    sagemaker = settings.sagemaker
    endpoint = (
        f"serverless, max concurrency {sagemaker.serverless_max_concurrency}, "
        f"provisioned {sagemaker.provisioned_concurrency}"
        if sagemaker.mode == "serverless"
        else f"{sagemaker.instance_count} x {sagemaker.instance_type}"
    )
    checks.append(Check(Outcome.OK, subject, f"valid; region {settings.region}; SageMaker {endpoint}"))
    return settings


def _check_credentials(clients: AwsClients, checks: list[Check]) -> str | None:
    subject = "AWS credentials"
    try:
        identity = clients.sts.get_caller_identity()
    except NoCredentialsError:
        checks.append(Check(Outcome.FAIL, subject, NO_CREDENTIALS))
        return None
    except ClientError as error:
        code = error_code(error)
        if code in ("ExpiredToken", "ExpiredTokenException", "RequestExpired"):
            fix = "they have expired: log in again (`aws sso login`) or refresh the keys"
        else:
            fix = f"rejected by STS ({code}: {error_message(error)}): check AWS_PROFILE or the access keys"
        checks.append(Check(Outcome.FAIL, subject, fix))
        return None
    except BotoCoreError as error:
        checks.append(
            Check(Outcome.FAIL, subject, f"cannot get them or reach STS ({error}): log in again and check the network")
        )
        return None
    account = str(identity["Account"])
    checks.append(Check(Outcome.OK, subject, f"account {account}, caller {identity['Arn']}"))
    return account


def _check_region(target: _Target | None, clients: AwsClients, checks: list[Check]) -> bool:
    if target is None:
        checks.append(Check(Outcome.SKIP, "region", "needs a valid stack file and working AWS credentials"))
        return False
    subject = f"region {target.settings.region}"
    try:
        clients.sagemaker.list_endpoints(MaxResults=1)
    except EndpointConnectionError as error:
        checks.append(
            Check(Outcome.FAIL, subject, f"SageMaker does not answer there ({error}): check the network and aws:region")
        )
        return False
    except ClientError as error:
        code = error_code(error)
        if code in REGION_NOT_ENABLED:
            fix = (
                f"account {target.account} cannot use it ({code}): enable the region "
                "(AWS console > Account > AWS Regions) or choose another aws:region"
            )
        elif code == "AccessDeniedException":
            fix = (
                f"SageMaker refused sagemaker:ListEndpoints ({error_message(error)}): "
                "deploy with credentials allowed to use SageMaker"
            )
        else:
            fix = f"SageMaker answered {code}: {error_message(error)}"
        checks.append(Check(Outcome.FAIL, subject, fix))
        return False
    # The stack file only validates with a region of components.sagemaker_image.SUPPORTED_REGIONS.
    checks.append(Check(Outcome.OK, subject, "has the SageMaker scikit-learn image; SageMaker answers"))
    return True


@dataclass(frozen=True)
class _QuotaDemand:
    """What the stacks sharing an account and region ask of one quota."""

    subject: str
    described: str  # the quota, for a person
    matches: Callable[[Quota], bool]
    setting: str  # the stack setting that asks for it
    needed: dict[str, int]  # stack: amount


def _check_quotas(target: _Target | None, clients: AwsClients, root: Path, checks: list[Check]) -> None:
    subjects = ("serverless concurrency quota", "provisioned concurrency quota")
    if target is None:
        checks.extend(Check(Outcome.SKIP, subject, "needs the region check to pass") for subject in subjects)
        return
    try:
        sharing = _serverless_stacks_sharing(target, root)
    except (StackFileError, SettingsError) as error:
        checks.extend(
            Check(Outcome.FAIL, subject, f"cannot read every stack file ({error}): fix it") for subject in subjects
        )
        return
    demands = (
        _QuotaDemand(
            subjects[0],
            f"'{TOTAL_CONCURRENCY_QUOTA}'",
            is_total_concurrency_quota,
            f"{PROJECT}:sagemakerServerlessMaxConcurrency",
            {name: s.sagemaker.serverless_max_concurrency for name, s in sharing.items()},
        ),
        _QuotaDemand(
            subjects[1],
            "one on provisioned concurrency across all serverless endpoints",
            is_provisioned_concurrency_quota,
            f"{PROJECT}:sagemakerProvisionedConcurrency",
            {
                name: s.sagemaker.provisioned_concurrency
                for name, s in sharing.items()
                if s.sagemaker.provisioned_concurrency
            },
        ),
    )
    quotas = _Quotas(clients.service_quotas)
    unreadable: str | None = None  # once Service Quotas refuses, it is not asked again
    for demand in demands:
        if not demand.needed:
            checks.append(Check(Outcome.OK, demand.subject, f"no stack here asks for any in {target.settings.region}"))
            continue
        if unreadable is None:
            try:
                checks.append(_quota_check(demand, quotas.find(demand.matches), target.settings.region))
                continue
            except ClientError as error:
                unreadable = (
                    f"cannot read Service Quotas ({error_code(error)}: {error_message(error)}): allow "
                    "servicequotas:List* or check the quota in the Service Quotas console"
                )
        checks.append(Check(Outcome.FAIL, demand.subject, unreadable))


def _quota_check(demand: _QuotaDemand, quota: Quota | None, region: str) -> Check:
    total = sum(demand.needed.values())
    asked = " + ".join(f"{name} {value}" for name, value in demand.needed.items())
    asked = f"{asked} = {total}" if len(demand.needed) > 1 else asked
    if quota is None:
        return Check(
            Outcome.FAIL,
            demand.subject,
            f"Service Quotas lists no quota {demand.described} for {QUOTA_SERVICE} in "
            f"{region} (Serverless Inference may not be offered there): check it "
            f"in the Service Quotas console before deploying ({asked})",
        )
    if total > quota.value:
        return Check(
            Outcome.FAIL,
            demand.subject,
            f"{asked} exceeds the quota of {quota.value:g} ('{quota.name}', "
            f"{quota.code}) in {region}: request an increase to at least {total} "
            f"in Service Quotas ({QUOTA_SERVICE}, {quota.code}) or lower {demand.setting}",
        )
    return Check(
        Outcome.OK,
        demand.subject,
        f"{asked} within {quota.value:g} ('{quota.name}', {quota.code}; "
        "shared with any other serverless endpoint in the account)",
    )


def _serverless_stacks_sharing(target: _Target, root: Path) -> dict[str, StackSettings]:
    """Every stack file here whose serverless endpoint lands in the same account and region."""
    sharing: dict[str, StackSettings] = {}
    for name in stack_names(root):
        settings = target.settings if name == target.settings.stack else stack_settings(name, root)
        allowed = allowed_account_ids(stack_config(name, root))
        if (
            settings.region == target.settings.region
            and settings.sagemaker.mode == "serverless"
            and (allowed is None or target.account in allowed)
        ):
            sharing[name] = settings
    return sharing


def _check_layer_python() -> Check:
    subject = f"Python {PYTHON_VERSION} for the Lambda layer"
    try:
        return Check(Outcome.OK, subject, find_target_python())
    except LayerBuildError as error:
        return Check(Outcome.FAIL, subject, str(error))


def _check_pulumi(run: Runner, checks: list[Check]) -> bool:
    subject = "Pulumi CLI"
    result = run(["pulumi", "version"])
    install = "install it: https://www.pulumi.com/docs/iac/download-install/"
    if result.returncode == 127:
        checks.append(Check(Outcome.FAIL, subject, f"not found on PATH: {install}"))
        return False
    version = re.search(r"v?(\d+)\.(\d+)\.(\d+)", result.stdout)
    if result.returncode != 0 or version is None:
        checks.append(
            Check(
                Outcome.FAIL,
                subject,
                f"`pulumi version` failed ({_first_line(result.stderr or result.stdout)}): re{install}",
            )
        )
        return False
    if int(version.group(1)) != PULUMI_MAJOR:
        checks.append(
            Check(Outcome.FAIL, subject, f"version {version.group(0)}, the program needs {PULUMI_MAJOR}.x: {install}")
        )
        return False
    checks.append(Check(Outcome.OK, subject, version.group(0)))
    return True


def _check_alarm_email(stack: str, settings: StackSettings | None, root: Path, run: Runner, pulumi_ok: bool) -> Check:
    subject = "alarmEmail secret"
    set_it = f"pulumi config set --secret {ALARM_EMAIL_KEY} oncall@example.com --stack {stack}"
    if settings is None:
        return Check(Outcome.SKIP, subject, "needs a valid stack file")
    if not settings.alarms_enabled:
        return Check(Outcome.OK, subject, f"not needed: alarms are off in {stack}")
    in_file = stack_config(stack, root).get(ALARM_EMAIL_KEY)
    if in_file is not None and not _is_encrypted(in_file):
        return Check(
            Outcome.FAIL, subject, f"it is in Pulumi.{stack}.yaml in plain text: remove it from the file and {set_it}"
        )
    if not pulumi_ok:
        return Check(Outcome.SKIP, subject, "needs the Pulumi CLI")
    result = run(["pulumi", "config", "get", ALARM_EMAIL_KEY, "--stack", stack])
    if result.returncode == 0:
        if EMAIL.match(result.stdout.strip()):
            return Check(Outcome.OK, subject, f"set for {stack} (value not shown)")
        return Check(Outcome.FAIL, subject, f"set for {stack} but not an e-mail address: {set_it}")
    if "no stack named" in result.stderr:
        return Check(
            Outcome.FAIL,
            subject,
            f"stack {stack} does not exist in the current Pulumi backend: "
            f"`pulumi stack init {stack}` (after `pulumi login`), then {set_it}",
        )
    if "not found" in result.stderr:
        return Check(Outcome.FAIL, subject, f"not set for {stack}: {set_it}")
    return Check(
        Outcome.FAIL,
        subject,
        f"cannot read it ({_first_line(result.stderr)}): check `pulumi login` and PULUMI_CONFIG_PASSPHRASE",
    )


def _is_encrypted(raw: str) -> bool:
    try:
        value = json.loads(raw)
    except ValueError:
        return False
    return isinstance(value, dict) and "secure" in value


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "no output"


def main(
    argv: Sequence[str] | None = None,
    *,
    clients_for: Callable[[str], AwsClients] = aws_clients,
    run: Runner = run_command,
    root: Path = ROOT,
) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.preflight",
        description="Checks, before a first `pulumi up`, that this machine can deploy the stack.",
    )
    parser.add_argument("--stack", required=True, help="the stack to check (a Pulumi.<stack>.yaml here)")
    args = parser.parse_args(argv)
    print(f"Preflight of stack {args.stack}")
    checks = preflight(args.stack, clients_for, run, root)
    for check in checks:
        print(check.line())
    failed = sum(check.outcome is Outcome.FAIL for check in checks)
    print(f"{failed} of {len(checks)} checks failed." if failed else f"All {len(checks)} checks passed.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
