"""Preflight, offline: real botocore clients answered by botocore's ``Stubber``
with the documented response shapes (STS ``GetCallerIdentity``, SageMaker
``ListEndpoints``, Service Quotas ``ListServiceQuotas`` /
``ListAWSDefaultServiceQuotas``, paginated with ``NextToken``), a command
runner standing in for the Pulumi CLI, and a stand-in interpreter for Python 3.12.

A passing run, then each failure and the fix its line names.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from tests.support.aws_env import use_no_aws_credentials
from tests.tools.stack_files import write_stack
from tools.preflight import (
    TOTAL_CONCURRENCY_CODE,
    TOTAL_CONCURRENCY_QUOTA,
    AwsClients,
    Check,
    CommandResult,
    Outcome,
    main,
    preflight,
)

REGION = "ap-southeast-1"
ACCOUNT = "123456789012"
CALLER = f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/me"
ALARM_EMAIL = "oncall@example.com"
# No code is documented for it; matched by name (its wording here is the test's).
PROVISIONED_QUOTA = "Maximum total provisioned concurrency that can be allocated across all serverless endpoints"
PROVISIONED_CODE = "L-PROVISION"
NO_PYTHON_312 = "put python3.12 on PATH or set LAYER_PYTHON"


def quota(name: str, code: str, value: float) -> dict[str, Any]:
    return {
        "ServiceCode": "sagemaker",
        "ServiceName": "Amazon SageMaker",
        "QuotaCode": code,
        "QuotaName": name,
        "QuotaArn": f"arn:aws:servicequotas:{REGION}:{ACCOUNT}:sagemaker/{code}",
        "Value": value,
        "Unit": "None",
        "Adjustable": True,
        "GlobalQuota": False,
    }


OTHER_QUOTA = quota("ml.m5.large for endpoint usage", "L-2F737F8D", 4)
TOTAL = quota(TOTAL_CONCURRENCY_QUOTA, TOTAL_CONCURRENCY_CODE, 50)
PROVISIONED = quota(PROVISIONED_QUOTA, PROVISIONED_CODE, 10)


class FakeAws:
    """Real boto3 clients whose answers are queued on Stubbers; nothing leaves the process."""

    def __init__(self) -> None:
        config = Config(retries={"max_attempts": 1, "mode": "standard"})
        credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        self.clients = AwsClients(
            sts=boto3.client("sts", region_name="us-east-1", config=config, **credentials),
            sagemaker=boto3.client("sagemaker", region_name=REGION, config=config, **credentials),
            service_quotas=boto3.client("service-quotas", region_name=REGION, config=config, **credentials),
        )
        self.sts, self.sagemaker, self.quotas = (
            Stubber(client) for client in (self.clients.sts, self.clients.sagemaker, self.clients.service_quotas)
        )
        self.regions: list[str] = []

    def clients_for(self, region: str) -> AwsClients:
        self.regions.append(region)
        return self.clients

    def identity(self) -> None:
        self.sts.add_response(
            "get_caller_identity", {"UserId": "AROAEXAMPLE:me", "Account": ACCOUNT, "Arn": CALLER}, {}
        )

    def region_answers(self) -> None:
        self.sagemaker.add_response("list_endpoints", {"Endpoints": []}, {"MaxResults": 1})

    def applied_quotas(self, *pages: list[dict[str, Any]]) -> None:
        self._pages("list_service_quotas", pages)

    def default_quotas(self, *pages: list[dict[str, Any]]) -> None:
        self._pages("list_aws_default_service_quotas", pages)

    def _pages(self, operation: str, pages: Sequence[list[dict[str, Any]]]) -> None:
        for number, quotas in enumerate(pages):
            expected: dict[str, Any] = {"ServiceCode": "sagemaker", "MaxResults": 100}
            if number:
                expected["NextToken"] = f"page-{number}"
            answer: dict[str, Any] = {"Quotas": quotas}
            if number + 1 < len(pages):
                answer["NextToken"] = f"page-{number + 1}"
            self.quotas.add_response(operation, answer, expected)

    def all_in_place(self) -> None:
        self.identity()
        self.region_answers()
        # The total quota on the second page: the listing follows NextToken.
        self.applied_quotas([OTHER_QUOTA], [TOTAL, PROVISIONED])

    def __enter__(self) -> FakeAws:
        for stubber in (self.sts, self.sagemaker, self.quotas):
            stubber.activate()
        return self

    def __exit__(self, *_: object) -> None:
        for stubber in (self.sts, self.sagemaker, self.quotas):
            stubber.deactivate()

    def assert_all_asked(self) -> None:
        for stubber in (self.sts, self.sagemaker, self.quotas):
            stubber.assert_no_pending_responses()


class FakePulumi:
    """Answers ``pulumi`` commands as the CLI would; records what it was asked."""

    def __init__(self, version: str = "v3.272.0", alarm_email: CommandResult | None = None) -> None:
        self.answers = {
            ("pulumi", "version"): CommandResult(0, f"{version}\n", ""),
            ("pulumi", "config", "get", "digit-recognition:alarmEmail", "--stack", "prod"): alarm_email
            or CommandResult(0, f"{ALARM_EMAIL}\n", ""),
        }
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, args: Sequence[str]) -> CommandResult:
        self.calls.append(tuple(args))
        return self.answers.get(tuple(args), CommandResult(127, "", f"{args[0]}: command not found"))


def not_installed(args: Sequence[str]) -> CommandResult:
    return CommandResult(127, "", f"{args[0]}: command not found")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The two stacks as committed: dev (max 2, provisioned 0), prod (max 20, provisioned 1, alarms)."""
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    write_stack(stacks, "dev", {"sagemakerServerlessMaxConcurrency": "2", "sagemakerProvisionedConcurrency": "0"})
    write_stack(
        stacks,
        "prod",
        {"sagemakerServerlessMaxConcurrency": "20", "sagemakerProvisionedConcurrency": "1", "alarmsEnabled": "true"},
    )
    return stacks


@pytest.fixture(autouse=True)
def python_312(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for a Python 3.12 interpreter: it answers the version probe."""
    interpreter = tmp_path / "python3.12-stand-in"
    interpreter.write_text("#!/bin/sh\necho 3.12\n")
    interpreter.chmod(0o755)
    monkeypatch.setenv("LAYER_PYTHON", str(interpreter))
    return interpreter


@pytest.fixture
def aws() -> Iterator[FakeAws]:
    with FakeAws() as fake:
        yield fake


def by_subject(checks: list[Check], start: str) -> Check:
    found = [check for check in checks if check.subject.startswith(start)]
    assert len(found) == 1, [check.line() for check in checks]
    return found[0]


def test_given_everything_in_place_then_every_check_passes_and_preflight_exits_0(
    root: Path,
    aws: FakeAws,
    capsys: pytest.CaptureFixture[str],
) -> None:
    aws.all_in_place()
    pulumi = FakePulumi()

    status = main(["--stack", "prod"], clients_for=aws.clients_for, run=pulumi, root=root)

    out = capsys.readouterr().out
    lines = out.splitlines()[1:-1]
    assert status == 0, out
    assert len(lines) == 8 and all(line.startswith("ok ") for line in lines), out
    assert f"account {ACCOUNT}, caller {CALLER}" in out
    assert f"dev 2 + prod 20 = 22 within 50 ('{TOTAL_CONCURRENCY_QUOTA}', {TOTAL_CONCURRENCY_CODE}" in out
    assert f"prod 1 within 10 ('{PROVISIONED_QUOTA}', {PROVISIONED_CODE}" in out
    assert "v3.272.0" in out and "set for prod (value not shown)" in out
    assert ALARM_EMAIL not in out
    assert aws.regions == [REGION]
    aws.assert_all_asked()


def test_given_no_credentials_then_the_line_says_how_to_log_in_and_aws_checks_are_skipped(
    root: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # A real client with nowhere to find credentials fails before any request.
    use_no_aws_credentials(monkeypatch, tmp_path)
    clients = AwsClients(
        *(boto3.client(service, region_name=REGION) for service in ("sts", "sagemaker", "service-quotas"))
    )

    checks = preflight("dev", lambda region: clients, FakePulumi(), root)

    credentials = by_subject(checks, "AWS credentials")
    assert credentials.outcome is Outcome.FAIL
    assert credentials.message.startswith("no AWS credentials found: run `aws sso login`, set AWS_PROFILE")
    for subject in ("region", "serverless concurrency quota", "provisioned concurrency quota"):
        assert by_subject(checks, subject).outcome is Outcome.SKIP


def test_given_expired_credentials_then_the_line_says_to_log_in_again(root: Path, aws: FakeAws) -> None:
    aws.sts.add_client_error(
        "get_caller_identity",
        "ExpiredToken",
        "The security token included in the request is expired",
        http_status_code=403,
    )

    checks = preflight("dev", aws.clients_for, FakePulumi(), root)

    credentials = by_subject(checks, "AWS credentials")
    assert (credentials.outcome, credentials.message) == (
        Outcome.FAIL,
        "they have expired: log in again (`aws sso login`) or refresh the keys",
    )


@pytest.mark.parametrize(
    "code, fix",
    [
        (
            "UnrecognizedClientException",
            "enable the region (AWS console > Account > AWS Regions) or choose another aws:region",
        ),
        ("AccessDeniedException", "deploy with credentials allowed to use SageMaker"),
    ],
)
def test_given_sagemaker_refuses_the_region_then_the_line_names_the_fix(
    root: Path, aws: FakeAws, code: str, fix: str
) -> None:
    aws.identity()
    aws.sagemaker.add_client_error("list_endpoints", code, "refused", http_status_code=400)

    checks = preflight("dev", aws.clients_for, FakePulumi(), root)

    region = by_subject(checks, f"region {REGION}")
    assert region.outcome is Outcome.FAIL and region.message.endswith(fix), region.line()
    assert by_subject(checks, "serverless concurrency quota").outcome is Outcome.SKIP


def test_given_sagemaker_unreachable_then_the_line_says_to_check_the_network(root: Path, aws: FakeAws) -> None:
    aws.identity()
    # Nothing listens on the discard port: a real connection failure, offline.
    unreachable = boto3.client(
        "sagemaker",
        region_name=REGION,
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2),
    )
    clients = AwsClients(aws.clients.sts, unreachable, aws.clients.service_quotas)

    checks = preflight("dev", lambda region: clients, FakePulumi(), root)

    region = by_subject(checks, f"region {REGION}")
    assert region.outcome is Outcome.FAIL
    assert region.message.startswith("SageMaker does not answer there") and region.message.endswith(
        "check the network and aws:region"
    )


def test_given_a_total_concurrency_quota_below_the_stacks_then_the_line_asks_for_an_increase(
    root: Path, aws: FakeAws
) -> None:
    aws.identity()
    aws.region_answers()
    aws.applied_quotas([{**TOTAL, "Value": 10.0}, PROVISIONED])

    checks = preflight("dev", aws.clients_for, FakePulumi(), root)

    total = by_subject(checks, "serverless concurrency quota")
    assert total.outcome is Outcome.FAIL
    assert total.message == (
        f"dev 2 + prod 20 = 22 exceeds the quota of 10 ('{TOTAL_CONCURRENCY_QUOTA}', {TOTAL_CONCURRENCY_CODE}) in "
        f"{REGION}: "
        f"request an increase to at least 22 in Service Quotas (sagemaker, {TOTAL_CONCURRENCY_CODE}) "
        "or lower digit-recognition:sagemakerServerlessMaxConcurrency"
    )
    assert by_subject(checks, "provisioned concurrency quota").outcome is Outcome.OK


def test_given_stacks_in_another_region_account_or_mode_then_only_the_sharing_ones_count(
    root: Path, aws: FakeAws
) -> None:
    write_stack(root, "staging", {"aws:region": "us-east-1", "sagemakerServerlessMaxConcurrency": "100"}, base="dev")
    write_stack(
        root,
        "elsewhere",
        {"aws:allowedAccountIds": ["999999999999"], "sagemakerServerlessMaxConcurrency": "100"},
        base="dev",
    )
    write_stack(
        root, "onprem", {"aws:allowedAccountIds": [ACCOUNT], "sagemakerServerlessMaxConcurrency": "3"}, base="dev"
    )
    write_stack(root, "instances", {"sagemakerMode": "instance", "sagemakerInstanceType": "ml.c6i.large"}, base="dev")
    aws.identity()
    aws.region_answers()
    aws.applied_quotas([{**TOTAL, "Value": 25.0}, PROVISIONED])

    checks = preflight("dev", aws.clients_for, FakePulumi(), root)

    total = by_subject(checks, "serverless concurrency quota")
    assert total.outcome is Outcome.OK
    assert total.message.startswith("dev 2 + onprem 3 + prod 20 = 25 within 25")


def test_given_no_applied_value_then_the_aws_default_is_used(root: Path, aws: FakeAws) -> None:
    aws.identity()
    aws.region_answers()
    aws.applied_quotas([OTHER_QUOTA])
    aws.default_quotas([{**TOTAL, "Value": 10.0}], [PROVISIONED])

    checks = preflight("dev", aws.clients_for, FakePulumi(), root)

    assert by_subject(checks, "serverless concurrency quota").message.startswith(
        "dev 2 + prod 20 = 22 exceeds the quota of 10"
    )
    assert by_subject(checks, "provisioned concurrency quota").message.startswith("prod 1 within 10")
    aws.assert_all_asked()


def test_given_no_serverless_quota_in_the_region_then_the_line_says_serverless_may_be_missing(
    root: Path, aws: FakeAws
) -> None:
    aws.identity()
    aws.region_answers()
    aws.applied_quotas([OTHER_QUOTA])
    aws.default_quotas([OTHER_QUOTA])

    checks = preflight("dev", aws.clients_for, FakePulumi(), root)

    total = by_subject(checks, "serverless concurrency quota")
    assert total.outcome is Outcome.FAIL
    assert f"Service Quotas lists no quota '{TOTAL_CONCURRENCY_QUOTA}' for sagemaker in {REGION}" in total.message
    assert "Serverless Inference may not be offered there" in total.message
    assert by_subject(checks, "provisioned concurrency quota").outcome is Outcome.FAIL


def test_given_a_provisioned_concurrency_quota_of_zero_then_the_line_asks_for_an_increase(
    root: Path, aws: FakeAws
) -> None:
    aws.identity()
    aws.region_answers()
    aws.applied_quotas([TOTAL, {**PROVISIONED, "Value": 0.0}])

    checks = preflight("prod", aws.clients_for, FakePulumi(), root)

    provisioned = by_subject(checks, "provisioned concurrency quota")
    assert provisioned.outcome is Outcome.FAIL
    assert provisioned.message.startswith(f"prod 1 exceeds the quota of 0 ('{PROVISIONED_QUOTA}', {PROVISIONED_CODE})")
    assert provisioned.message.endswith("or lower digit-recognition:sagemakerProvisionedConcurrency")


def test_given_no_stack_with_provisioned_concurrency_then_its_quota_is_not_needed(root: Path, aws: FakeAws) -> None:
    write_stack(root, "prod", {"sagemakerProvisionedConcurrency": "0"})
    aws.identity()
    aws.region_answers()
    aws.applied_quotas([TOTAL])

    checks = preflight("dev", aws.clients_for, FakePulumi(), root)

    provisioned = by_subject(checks, "provisioned concurrency quota")
    assert (provisioned.outcome, provisioned.message) == (Outcome.OK, f"no stack here asks for any in {REGION}")


def test_given_service_quotas_refused_then_the_line_says_what_to_allow(root: Path, aws: FakeAws) -> None:
    aws.identity()
    aws.region_answers()
    aws.quotas.add_client_error("list_service_quotas", "AccessDeniedException", "not authorized", http_status_code=400)

    checks = preflight("dev", aws.clients_for, FakePulumi(), root)

    total = by_subject(checks, "serverless concurrency quota")
    assert total.outcome is Outcome.FAIL
    assert total.message.startswith(
        "cannot read Service Quotas (AccessDeniedException: not authorized): allow servicequotas:List*"
    )


def test_given_a_bad_stack_file_then_its_line_names_the_key_and_credentials_are_still_checked(
    root: Path, aws: FakeAws
) -> None:
    write_stack(root, "dev", {"wafRateLimit": "5"})
    aws.identity()

    checks = preflight("dev", aws.clients_for, FakePulumi(), root)

    stack_file = by_subject(checks, "stack file Pulumi.dev.yaml")
    assert stack_file.outcome is Outcome.FAIL
    assert stack_file.message == (
        "digit-recognition:wafRateLimit must be between 10 and 2000000000, got 5: fix Pulumi.dev.yaml"
    )
    assert by_subject(checks, "AWS credentials").outcome is Outcome.OK
    assert by_subject(checks, "region").outcome is Outcome.SKIP


def test_given_another_stack_file_is_bad_then_the_quota_line_names_it(root: Path, aws: FakeAws) -> None:
    write_stack(root, "prod", {"logLevel": "LOUD"})
    aws.identity()
    aws.region_answers()

    checks = preflight("dev", aws.clients_for, FakePulumi(), root)

    total = by_subject(checks, "serverless concurrency quota")
    assert total.outcome is Outcome.FAIL and "digit-recognition:logLevel must be one of" in total.message


def test_given_no_python_312_then_the_line_says_where_to_put_one(
    root: Path,
    aws: FakeAws,
    python_312: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    python_312.write_text("#!/bin/sh\necho 3.11\n")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.pyenv either
    aws.all_in_place()

    checks = preflight("dev", aws.clients_for, FakePulumi(), root)

    layer = by_subject(checks, "Python 3.12 for the Lambda layer")
    assert layer.outcome is Outcome.FAIL and layer.message.endswith(NO_PYTHON_312)


@pytest.mark.parametrize(
    "run, message",
    [
        (not_installed, "not found on PATH: install it: https://www.pulumi.com/docs/iac/download-install/"),
        (
            FakePulumi(version="v2.25.2"),
            "version v2.25.2, the program needs 3.x: install it: https://www.pulumi.com/docs/iac/download-install/",
        ),
    ],
)
def test_given_no_pulumi_3_then_the_line_says_to_install_it_and_the_secret_is_not_read(
    root: Path,
    aws: FakeAws,
    run: Any,
    message: str,
) -> None:
    aws.all_in_place()

    checks = preflight("prod", aws.clients_for, run, root)

    assert by_subject(checks, "Pulumi CLI") == Check(Outcome.FAIL, "Pulumi CLI", message)
    assert by_subject(checks, "alarmEmail secret").outcome is Outcome.SKIP


SET_IT = "pulumi config set --secret digit-recognition:alarmEmail oncall@example.com --stack prod"


@pytest.mark.parametrize(
    "answer, message",
    [
        (
            CommandResult(
                255, "", "error: configuration key 'digit-recognition:alarmEmail' not found for stack 'prod'\n"
            ),
            f"not set for prod: {SET_IT}",
        ),
        (
            CommandResult(255, "", "error: no stack named 'prod' found\n"),
            "stack prod does not exist in the current Pulumi backend: `pulumi stack init prod` (after `pulumi "
            f"login`), then {SET_IT}",
        ),
        (CommandResult(0, "someone at example dot com\n", ""), f"set for prod but not an e-mail address: {SET_IT}"),
        (
            CommandResult(255, "", "error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE\n"),
            "cannot read it (error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE): "
            "check `pulumi login` and PULUMI_CONFIG_PASSPHRASE",
        ),
    ],
)
def test_given_prod_alarms_without_a_usable_secret_then_the_line_names_the_fix(
    root: Path,
    aws: FakeAws,
    answer: CommandResult,
    message: str,
) -> None:
    aws.all_in_place()

    checks = preflight("prod", aws.clients_for, FakePulumi(alarm_email=answer), root)

    assert by_subject(checks, "alarmEmail secret") == Check(Outcome.FAIL, "alarmEmail secret", message)
    assert "someone" not in message


def test_given_the_alarm_address_in_plain_text_in_the_stack_file_then_it_fails_without_showing_it(
    root: Path,
    aws: FakeAws,
) -> None:
    write_stack(root, "prod", {"alarmsEnabled": "true", "alarmEmail": ALARM_EMAIL})
    aws.all_in_place()

    checks = preflight("prod", aws.clients_for, FakePulumi(), root)

    alarm = by_subject(checks, "alarmEmail secret")
    assert alarm.outcome is Outcome.FAIL
    assert alarm.message == f"it is in Pulumi.prod.yaml in plain text: remove it from the file and {SET_IT}"


def test_given_an_encrypted_alarm_address_in_the_stack_file_then_the_stack_file_still_validates(
    root: Path,
    aws: FakeAws,
) -> None:
    write_stack(root, "prod", {"alarmsEnabled": "true", "alarmEmail": {"secure": "v1:c2VjcmV0:ZW5jcnlwdGVk"}})
    aws.all_in_place()

    checks = preflight("prod", aws.clients_for, FakePulumi(), root)

    assert by_subject(checks, "stack file").outcome is Outcome.OK
    assert by_subject(checks, "alarmEmail secret").outcome is Outcome.OK


def test_given_dev_without_alarms_then_no_secret_is_needed_or_read(root: Path, aws: FakeAws) -> None:
    aws.all_in_place()
    pulumi = FakePulumi()

    checks = preflight("dev", aws.clients_for, pulumi, root)

    assert by_subject(checks, "alarmEmail secret") == Check(
        Outcome.OK, "alarmEmail secret", "not needed: alarms are off in dev"
    )
    assert pulumi.calls == [("pulumi", "version")]


def test_given_an_unknown_stack_then_the_line_lists_the_stacks_and_preflight_exits_1(
    root: Path,
    aws: FakeAws,
    capsys: pytest.CaptureFixture[str],
) -> None:
    aws.identity()

    status = main(["--stack", "qa"], clients_for=aws.clients_for, run=FakePulumi(), root=root)

    out = capsys.readouterr().out
    assert status == 1
    assert (
        f"FAIL  stack file Pulumi.qa.yaml: there is no Pulumi.qa.yaml in {root} (stacks: dev, prod): pass one of "
        "those to --stack" in out
    )
    assert out.rstrip().endswith("checks failed.")
