"""The SageMaker scikit-learn serving image of a region.

The model is plain numpy, and the scikit-learn container is AWS's maintained
Python serving image that runs a ``code/inference.py`` with ``model_fn`` and
``transform_fn`` (tests/sagemaker runs its serving toolkit). Its per-region registry
accounts come from ``sklearn_image_accounts.json`` (a subset of the
sagemaker-core wheel's ``image_uri_config/sklearn.json``; see its ``_source``),
limited to the commercial partition whose ARNs this program writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

_CONFIG: Final = json.loads((Path(__file__).parent / "sklearn_image_accounts.json").read_text())
_ACCOUNTS: Final[dict[str, str]] = _CONFIG["accounts"]

SUPPORTED_REGIONS: Final[frozenset[str]] = frozenset(_ACCOUNTS)


def sklearn_image_uri(region: str) -> str:
    """The ECR URI of the scikit-learn inference image in ``region``."""
    account = _ACCOUNTS[region]
    return f"{account}.dkr.ecr.{region}.amazonaws.com/{_CONFIG['repository']}:{_CONFIG['tag']}"


def sklearn_repository_arn(region: str) -> str:
    """The ECR repository ARN of that image, for the pull permissions."""
    return f"arn:aws:ecr:{region}:{_ACCOUNTS[region]}:repository/{_CONFIG['repository']}"
