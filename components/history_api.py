"""The API's history function: the reads, feedback and deletes behind API
Gateway's ``/api/predictions`` routes, outside the workflow. Built like the
workflow's functions (``build_lambda``), from the same layer and code archive."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.iam import Statement, allow
from components.lambda_function import (
    FunctionPackage,
    LambdaCommon,
    LambdaSpec,
    build_lambda,
    history_store_environment,
)
from functions.core.history.table import INDEX_BY_CLIENT
from functions.core.tasks import HISTORY


@dataclass(frozen=True)
class HistoryFunctionArgs:
    """What the history function takes from the stack settings."""

    common: LambdaCommon
    memory_mb: int


class HistoryFunction(pulumi.ComponentResource):
    function: aws.lambda_.Function

    def __init__(
        self,
        name: str,
        args: HistoryFunctionArgs,
        package: FunctionPackage,
        table: aws.dynamodb.Table,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("digits:history:HistoryFunction", name, None, opts)
        spec = LambdaSpec(HISTORY, args.memory_mb, history_store_environment(table), _permissions(table))
        self.function = build_lambda(spec, args.common, package, parent=self)
        self.register_outputs({"functionName": self.function.name})


def _permissions(table: aws.dynamodb.Table) -> list[Statement]:
    table_index = pulumi.Output.concat(table.arn, "/index/", INDEX_BY_CLIENT)
    return [
        allow("ReadHistory", ["dynamodb:GetItem", "dynamodb:Query"], [table.arn, table_index]),
        allow("RecordFeedback", ["dynamodb:UpdateItem"], table.arn),
        # A person deletes one item or clears their history; only this function may.
        allow("DeleteHistory", ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem"], table.arn),
    ]
