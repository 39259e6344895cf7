"""Runs the Pulumi program of one stack against Pulumi's unit-test mocks and
writes every registered resource and the stack outputs as JSON.

Each stack runs in its own process (``python tests/infra/mock_program.py dev
out.json``) because the Pulumi runtime's settings and config are process
globals; the mocks stand in for the engine and AWS, nothing else: the real
``__main__.py`` runs with the real ``Pulumi.<stack>.yaml``.
"""

from __future__ import annotations

import json
import runpy
import secrets
import string
import sys
import threading
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs

from components.settings import read_stack_file

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "digit-recognition"
ACCOUNT = "123456789012"
# The alarm e-mail is a secret set per stack with `pulumi config set --secret`.
SECRETS = {"prod": {f"{PROJECT}:alarmEmail": "oncall@example.com"}}


def stack_config(stack: str) -> dict[str, str]:
    """The stack file's config plus the stack's secrets, as the engine hands them over."""
    return {**read_stack_file(ROOT / f"Pulumi.{stack}.yaml"), **SECRETS.get(stack, {})}


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers like AWS would (ids, ARNs, names) and records every resource."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.resources: list[dict[str, Any]] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        kind = args.typ.split(":")[-1]
        service = args.typ.split(":")[1].split("/")[0]
        physical = args.inputs.get("name") or f"{args.name}-{len(self.resources):04d}"
        state: dict[str, Any] = {
            **args.inputs,
            "name": physical,
            "arn": f"arn:aws:{service}:{self.region}:{ACCOUNT}:{kind.lower()}/{physical}",
        }
        extra: dict[str, dict[str, Any]] = {
            "aws:lambda/function:Function": {
                "arn": f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:{physical}",
                "invokeArn": f"arn:aws:apigateway:{self.region}:lambda:path/2015-03-31/functions/"
                f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:{physical}/invocations",
            },
            "aws:sfn/stateMachine:StateMachine": {
                "arn": f"arn:aws:states:{self.region}:{ACCOUNT}:stateMachine:{physical}",
            },
            "aws:s3/bucket:Bucket": {
                "bucket": physical,
                "arn": f"arn:aws:s3:::{physical}",
                "bucketRegionalDomainName": f"{physical}.s3.{self.region}.amazonaws.com",
            },
            "aws:apigateway/restApi:RestApi": {
                "rootResourceId": "rootid",
                "executionArn": f"arn:aws:execute-api:{self.region}:{ACCOUNT}:{physical}",
            },
            "aws:apigateway/stage:Stage": {
                "invokeUrl": f"https://restapiid.execute-api.{self.region}.amazonaws.com/{args.inputs.get('stageName')}",
                "arn": f"arn:aws:apigateway:{self.region}::/restapis/restapiid/stages/{args.inputs.get('stageName')}",
            },
            "aws:cloudfront/distribution:Distribution": {"domainName": "d111111abcdef8.cloudfront.net"},
            "aws:cloudwatch/logGroup:LogGroup": {
                "arn": f"arn:aws:logs:{self.region}:{ACCOUNT}:log-group:{physical}",
            },
            "aws:dynamodb/table:Table": {"arn": f"arn:aws:dynamodb:{self.region}:{ACCOUNT}:table/{physical}"},
            "aws:sagemaker/endpoint:Endpoint": {
                "arn": f"arn:aws:sagemaker:{self.region}:{ACCOUNT}:endpoint/{physical.lower()}",
            },
            # In the region of its explicit provider (CLOUDFRONT scope: us-east-1), else the stack's.
            "aws:wafv2/webAcl:WebAcl": {
                "arn": "arn:aws:wafv2:{}:{}:{}/webacl/{}/{}".format(
                    next(
                        (
                            r["inputs"]["region"]
                            for r in self.resources
                            if args.provider and r.get("urn") == args.provider.rsplit("::", 1)[0]
                        ),
                        self.region,
                    ),
                    ACCOUNT,
                    "global" if args.inputs.get("scope") == "CLOUDFRONT" else "regional",
                    physical,
                    f"{len(self.resources):08d}-0000-4000-8000-000000000000",
                ),
            },
            # A fresh value each run, as the provider generates it: never one written in a file.
            "random:index/randomPassword:RandomPassword": {
                "result": "".join(
                    secrets.choice(string.ascii_letters + string.digits)
                    for _ in range(int(args.inputs.get("length", 0)))
                ),
            },
        }
        state.update(extra.get(args.typ, {}))
        self.resources.append(
            {
                "type": args.typ,
                "name": args.name,
                "custom": args.custom,
                "inputs": args.inputs,
                "arn": state["arn"],
                "id": f"{physical}-id",
            }
        )
        return self.resources[-1]["id"], state

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/ci", "id": ACCOUNT, "userId": "ci"}, []
        raise NotImplementedError(f"the program made an unexpected call: {args.token}")


class RecordingMonitor(MockMonitor):
    """The mock engine, also recording what each resource waits for: its
    explicit ``depends_on`` and every resource behind an input ``Output``,
    exactly what the real engine orders creation by."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self._recording_mocks = mocks
        self._lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method's name
        dependencies = set(request.dependencies)
        for urns in request.propertyDependencies.values():
            dependencies.update(urns.urns)
        # One registration at a time, so the record just appended is this one's.
        with self._lock:
            response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
            if request.type != "pulumi:pulumi:Stack":
                record = self._recording_mocks.resources[-1]
                record["urn"] = response.urn
                record["dependsOn"] = sorted(dependencies)
        return response


def _plain(value: Any) -> Any:
    """Assets and archives as their paths, so the record is JSON."""
    if isinstance(value, pulumi.FileAsset | pulumi.FileArchive):
        return {"path": str(value.path)}
    if isinstance(value, pulumi.AssetArchive):
        return {"assets": sorted(value.assets)}
    raise TypeError(f"cannot record {type(value).__name__}")


def run(stack: str) -> dict[str, Any]:
    config = stack_config(stack)
    mocks = RecordingMocks(config["aws:region"])
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(config, secret_keys=list(SECRETS.get(stack, {})))
    outputs: dict[str, Any] = {}

    def program() -> pulumi.Output[Any]:
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
        root = pulumi.runtime.get_root_resource()
        assert isinstance(root, pulumi.runtime.stack.Stack)
        return pulumi.Output.from_input(root.outputs).apply(outputs.update)

    # Runs the program and waits for every registration and output to resolve.
    pulumi.runtime.test(program)()  # type: ignore[no-untyped-call]  # pulumi.runtime.test is untyped
    return {
        "stack": stack,
        "resources": mocks.resources,
        "urns": sorted(monitor.resources),
        "outputs": outputs,
    }


if __name__ == "__main__":
    stack_name, destination = sys.argv[1], sys.argv[2]
    Path(destination).write_text(json.dumps(run(stack_name), default=_plain, indent=1))
