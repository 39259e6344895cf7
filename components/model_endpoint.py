"""The model: ``model.tar.gz`` in a private bucket, served by a SageMaker
endpoint on the region's scikit-learn image (serverless in dev; serverless or
instances in prod, per ``sagemakerMode``).

A new model is a new archive key (named by its digest), hence a new model data
URL: Pulumi replaces the Model and the endpoint configuration, and updates the
endpoint (same name) to the new configuration with ``UpdateEndpoint``."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.buckets import private_bucket
from components.iam import account_id, allow, role_with_policy
from components.model_artifact import KEY_PREFIX, artifact_key, build_model_artifact
from components.sagemaker_image import sklearn_image_uri, sklearn_repository_arn
from components.settings import SageMakerSettings, StackSettings

VARIANT_NAME = "AllTraffic"


def container_environment(sagemaker: SageMakerSettings) -> dict[str, str]:
    """The serving container's environment (the scikit-learn image's toolkit reads it)."""
    environment = {
        # The container runs code/inference.py from the extracted archive.
        "SAGEMAKER_PROGRAM": "inference.py",
        "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
        "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
        # At every start the toolkit runs `pip install .` on the code; pip 26 would
        # fetch setuptools from PyPI for an isolated build. pip reads this variable
        # inverted: "false" turns isolation off, so the image's setuptools builds it
        # offline (an isolated container, or one without internet, would die).
        "PIP_NO_BUILD_ISOLATION": "false",
        # No look-up of a newer pip at every start.
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        # One image per call: OpenBLAS's thread pool only adds overhead (0.8 ms vs 16 ms measured).
        "OPENBLAS_NUM_THREADS": "1",
    }
    if sagemaker.mode == "serverless":
        # Gunicorn defaults to one ~97 MB worker per CPU; AWS recommends one for serverless.
        environment["SAGEMAKER_MODEL_SERVER_WORKERS"] = "1"
    return environment


def network_isolation(sagemaker: SageMakerSettings) -> bool:
    """The model needs no network. Serverless endpoints refuse isolation
    ("feature exclusions"); on instances it holds, as the container starts
    offline (PIP_NO_BUILD_ISOLATION above)."""
    return sagemaker.mode == "instance"


class ModelEndpoint(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    endpoint: aws.sagemaker.Endpoint

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        model_dir: Path,
        build_dir: Path,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("digits:model:ModelEndpoint", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.bucket = private_bucket("model-artifacts", self, force_destroy=not settings.deletion_protection)
        artifact_path = build_model_artifact(model_dir, build_dir / "model.tar.gz")
        artifact = aws.s3.BucketObjectv2(
            "model-tar-gz",
            aws.s3.BucketObjectv2Args(
                bucket=self.bucket.id,
                key=artifact_key(artifact_path),
                source=pulumi.FileAsset(str(artifact_path)),
                content_type="application/gzip",
            ),
            opts=child,
        )

        role = role_with_policy(
            "sagemaker-execution",
            "sagemaker.amazonaws.com",
            [
                allow(
                    "ReadModelArtifact", ["s3:GetObject"], pulumi.Output.concat(self.bucket.arn, "/", KEY_PREFIX, "*")
                ),
                # Pulling the AWS-owned serving image; GetAuthorizationToken has no resource-level permissions.
                allow(
                    "PullServingImage",
                    ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    sklearn_repository_arn(settings.region),
                ),
                allow("EcrLogin", ["ecr:GetAuthorizationToken"], "*"),
                allow(
                    "ContainerLogs",
                    ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                    pulumi.Output.concat(
                        "arn:aws:logs:", settings.region, ":", account_id(), ":log-group:/aws/sagemaker/Endpoints/*"
                    ),
                ),
                allow(
                    "EndpointMetrics",
                    ["cloudwatch:PutMetricData"],
                    "*",
                    {"StringEquals": {"cloudwatch:namespace": ["AWS/SageMaker", "/aws/sagemaker/Endpoints"]}},
                ),
            ],
            parent=self,
        )

        model = aws.sagemaker.Model(
            "digit-model",
            aws.sagemaker.ModelArgs(
                execution_role_arn=role.arn,
                primary_container=aws.sagemaker.ModelPrimaryContainerArgs(
                    image=sklearn_image_uri(settings.region),
                    mode="SingleModel",
                    model_data_url=pulumi.Output.concat("s3://", self.bucket.bucket, "/", artifact.key),
                    environment=container_environment(settings.sagemaker),
                ),
                enable_network_isolation=network_isolation(settings.sagemaker),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[artifact]),
        )

        endpoint_config = aws.sagemaker.EndpointConfiguration(
            "digit-endpoint-config",
            aws.sagemaker.EndpointConfigurationArgs(production_variants=[_variant(settings, model.name)]),
            opts=child,
        )
        self.endpoint = aws.sagemaker.Endpoint(
            "digit-endpoint",
            aws.sagemaker.EndpointArgs(
                name=f"{settings.name_prefix}-digits", endpoint_config_name=endpoint_config.name
            ),
            opts=child,
        )
        self.register_outputs({"endpointName": self.endpoint.name, "artifactBucket": self.bucket.bucket})


def _variant(
    settings: StackSettings, model_name: pulumi.Input[str]
) -> aws.sagemaker.EndpointConfigurationProductionVariantArgs:
    config = settings.sagemaker
    if config.mode == "serverless":
        return aws.sagemaker.EndpointConfigurationProductionVariantArgs(
            variant_name=VARIANT_NAME,
            model_name=model_name,
            serverless_config=aws.sagemaker.EndpointConfigurationProductionVariantServerlessConfigArgs(
                memory_size_in_mb=config.serverless_memory_mb,
                max_concurrency=config.serverless_max_concurrency,
                provisioned_concurrency=config.provisioned_concurrency or None,
            ),
        )
    return aws.sagemaker.EndpointConfigurationProductionVariantArgs(
        variant_name=VARIANT_NAME,
        model_name=model_name,
        instance_type=config.instance_type,
        initial_instance_count=config.instance_count,
        initial_variant_weight=1,
    )
