"""The prediction history: DynamoDB ``PredictionHistory`` (docs/INTERFACES.md)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.settings import StackSettings
from functions.core.history.table import INDEX_BY_CLIENT, LISTED_ATTRIBUTES, ORDER_KEY, TTL_ATTRIBUTE

# The table's names are its adapter's (functions/core/history/table.py).
CLIENT_INDEX = INDEX_BY_CLIENT


class Storage(pulumi.ComponentResource):
    table: aws.dynamodb.Table

    def __init__(self, name: str, settings: StackSettings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("digits:storage:Storage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.table = aws.dynamodb.Table(
            "prediction-history",
            aws.dynamodb.TableArgs(
                name=f"{settings.name_prefix}-PredictionHistory",
                billing_mode="PAY_PER_REQUEST",
                hash_key="id",
                attributes=[
                    aws.dynamodb.TableAttributeArgs(name="id", type="S"),
                    aws.dynamodb.TableAttributeArgs(name="clientId", type="S"),
                    aws.dynamodb.TableAttributeArgs(name=ORDER_KEY, type="S"),
                ],
                global_secondary_indexes=[
                    aws.dynamodb.TableGlobalSecondaryIndexArgs(
                        name=CLIENT_INDEX,
                        key_schemas=[
                            aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                                attribute_name="clientId", key_type="HASH"
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
