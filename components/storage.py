"""The prediction history: DynamoDB ``PredictionHistory`` (docs/INTERFACES.md)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from functions.core.history.table import (
    CLIENT_KEY,
    HASH_KEY,
    INDEX_BY_CLIENT,
    KEY_ATTRIBUTES,
    LISTED_ATTRIBUTES,
    ORDER_KEY,
    STRING,
    TABLE_NAME,
    TTL_ATTRIBUTE,
)


@dataclass(frozen=True)
class StorageArgs:
    name_prefix: str
    point_in_time_recovery: bool
    deletion_protection: bool


class Storage(pulumi.ComponentResource):
    """The table; its key, index and attribute names are its adapter's (functions/core/history/table.py)."""

    table: aws.dynamodb.Table

    def __init__(self, name: str, settings: StorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("digits:storage:Storage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.table = aws.dynamodb.Table(
            "prediction-history",
            aws.dynamodb.TableArgs(
                name=f"{settings.name_prefix}-{TABLE_NAME}",
                billing_mode="PAY_PER_REQUEST",
                hash_key=HASH_KEY,
                attributes=[aws.dynamodb.TableAttributeArgs(name=name, type=STRING) for name in KEY_ATTRIBUTES],
                global_secondary_indexes=[
                    aws.dynamodb.TableGlobalSecondaryIndexArgs(
                        name=INDEX_BY_CLIENT,
                        key_schemas=[
                            aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                                attribute_name=CLIENT_KEY, key_type="HASH"
                            ),
                            aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                                attribute_name=ORDER_KEY, key_type="RANGE"
                            ),
                        ],
                        # A history page returns whole items: the index holds all
                        # but the TTL attribute. Any projection costs one write unit
                        # per item of at most 1 KB (the store keeps them that small).
                        projection_type="INCLUDE",
                        non_key_attributes=list(LISTED_ATTRIBUTES),
                    )
                ],
                ttl=aws.dynamodb.TableTtlArgs(attribute_name=TTL_ATTRIBUTE, enabled=True),
                server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
                point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(
                    enabled=settings.point_in_time_recovery
                ),
                deletion_protection_enabled=settings.deletion_protection,
            ),
            opts=child,
        )
        self.register_outputs({"tableName": self.table.name, "tableArn": self.table.arn})
