"""A private S3 bucket: all public access blocked, owner-enforced objects,
encrypted at rest. Shared by the model artifacts and the static site."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


def private_bucket(name: str, parent: pulumi.Resource, force_destroy: bool) -> aws.s3.Bucket:
    child = pulumi.ResourceOptions(parent=parent)
    bucket = aws.s3.Bucket(name, aws.s3.BucketArgs(force_destroy=force_destroy), opts=child)
    aws.s3.BucketPublicAccessBlock(
        name,
        aws.s3.BucketPublicAccessBlockArgs(
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        ),
        opts=child,
    )
    aws.s3.BucketOwnershipControls(
        name,
        aws.s3.BucketOwnershipControlsArgs(
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        ),
        opts=child,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        name,
        aws.s3.BucketServerSideEncryptionConfigurationInitArgs(
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    ),
                    bucket_key_enabled=True,
                )
            ],
        ),
        opts=child,
    )
    return bucket
