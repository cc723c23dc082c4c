"""An image in an ECR repository, the smallest moto accepts (PutImage needs the mediaType)."""

from __future__ import annotations

import json
from typing import Any

MANIFEST = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {
        "mediaType": "application/vnd.docker.container.image.v1+json",
        "size": 1,
        "digest": "sha256:" + "0" * 64,
    },
    "layers": [],
}


def push_image(ecr: Any, repository: str, tag: str = "abc123") -> None:
    """Push one image to `repository` with a boto3 ECR client."""
    ecr.put_image(repositoryName=repository, imageManifest=json.dumps(MANIFEST), imageTag=tag)
