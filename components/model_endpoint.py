"""The model: ``model.tar.gz`` in a private bucket, served by a SageMaker
endpoint on the region's scikit-learn image (serverless in dev; serverless or
instances in prod, per ``sagemakerMode``).

A new model is a new archive key (named by its digest), hence a new model data
URL: Pulumi replaces the Model and the endpoint configuration, and updates the
endpoint (same name) to the new configuration with ``UpdateEndpoint``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.buckets import private_bucket
from components.iam import GrantedRole, account_id, allow, role_with_policy
from components.model_artifact import KEY_PREFIX, artifact_key, build_model_artifact
from components.sagemaker_image import sklearn_image_uri, sklearn_repository_arn
from components.settings import SageMakerSettings

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


@dataclass(frozen=True)
class ModelEndpointArgs:
    """What the model endpoint takes from the stack settings, and where the model is."""

    region: str
    name_prefix: str
    sagemaker: SageMakerSettings
    # A protected stack keeps the artifact bucket when it is destroyed with objects in it.
    deletion_protection: bool
    model_dir: Path
    build_dir: Path


class ModelEndpoint(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    endpoint: aws.sagemaker.Endpoint

    def __init__(self, name: str, args: ModelEndpointArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("digits:model:ModelEndpoint", name, None, opts)
        self.bucket = private_bucket("model-artifacts", self, force_destroy=not args.deletion_protection)
        artifact = self._build_artifact(args)
        model = self._build_model(args, artifact, self._build_role(args.region))
        self.endpoint = self._build_endpoint(args, model)
        self.register_outputs({"endpointName": self.endpoint.name, "artifactBucket": self.bucket.bucket})

    def _build_artifact(self, args: ModelEndpointArgs) -> aws.s3.BucketObjectv2:
        """``model.tar.gz``, under a key named by its digest."""
        artifact_path = build_model_artifact(args.model_dir, args.build_dir / "model.tar.gz")
        return aws.s3.BucketObjectv2(
            "model-tar-gz",
            aws.s3.BucketObjectv2Args(
                bucket=self.bucket.id,
                key=artifact_key(artifact_path),
                source=pulumi.FileAsset(str(artifact_path)),
                content_type="application/gzip",
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _build_role(self, region: str) -> GrantedRole:
        """The execution role: reads the artifact, pulls the serving image, writes its logs and metrics."""
        return role_with_policy(
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
                    sklearn_repository_arn(region),
                ),
                allow("EcrLogin", ["ecr:GetAuthorizationToken"], "*"),
                allow(
                    "ContainerLogs",
                    ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                    pulumi.Output.concat(
                        "arn:aws:logs:", region, ":", account_id(), ":log-group:/aws/sagemaker/Endpoints/*"
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

    def _build_model(
        self, args: ModelEndpointArgs, artifact: aws.s3.BucketObjectv2, role: GrantedRole
    ) -> aws.sagemaker.Model:
        return aws.sagemaker.Model(
            "digit-model",
            aws.sagemaker.ModelArgs(
                execution_role_arn=role.arn,
                primary_container=aws.sagemaker.ModelPrimaryContainerArgs(
                    image=sklearn_image_uri(args.region),
                    mode="SingleModel",
                    model_data_url=pulumi.Output.concat("s3://", self.bucket.bucket, "/", artifact.key),
                    environment=container_environment(args.sagemaker),
                ),
                enable_network_isolation=network_isolation(args.sagemaker),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[artifact]),
        )

    def _build_endpoint(self, args: ModelEndpointArgs, model: aws.sagemaker.Model) -> aws.sagemaker.Endpoint:
        endpoint_config = aws.sagemaker.EndpointConfiguration(
            "digit-endpoint-config",
            aws.sagemaker.EndpointConfigurationArgs(production_variants=[_variant(args.sagemaker, model.name)]),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return aws.sagemaker.Endpoint(
            "digit-endpoint",
            aws.sagemaker.EndpointArgs(name=f"{args.name_prefix}-digits", endpoint_config_name=endpoint_config.name),
            opts=pulumi.ResourceOptions(parent=self),
        )


def _variant(
    sagemaker: SageMakerSettings, model_name: pulumi.Input[str]
) -> aws.sagemaker.EndpointConfigurationProductionVariantArgs:
    if sagemaker.mode == "serverless":
        return aws.sagemaker.EndpointConfigurationProductionVariantArgs(
            variant_name=VARIANT_NAME,
            model_name=model_name,
            serverless_config=aws.sagemaker.EndpointConfigurationProductionVariantServerlessConfigArgs(
                memory_size_in_mb=sagemaker.serverless_memory_mb,
                max_concurrency=sagemaker.serverless_max_concurrency,
                provisioned_concurrency=sagemaker.provisioned_concurrency or None,
            ),
        )
    return aws.sagemaker.EndpointConfigurationProductionVariantArgs(
        variant_name=VARIANT_NAME,
        model_name=model_name,
        instance_type=sagemaker.instance_type,
        initial_instance_count=sagemaker.instance_count,
        initial_variant_weight=1,
    )
