"""Fixtures of the study tests: study stores on the S3 test server, worker environments."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from epcloud.storage import S3FileSystem


@pytest.fixture
def study_fs(s3_bucket: str, s3_options: dict[str, str]) -> S3FileSystem:
    """An empty store for a study: prefix "study-001/" of a fresh bucket."""
    return S3FileSystem(s3_bucket, prefix="study-001/", **s3_options)


@pytest.fixture
def worker_env(s3_options: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The environment of a worker process: AWS_* pointing at the test server, its own input cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL_S3=s3_options["endpoint_url"],
        AWS_ENDPOINT_URL=s3_options["endpoint_url"],
        AWS_ACCESS_KEY_ID=s3_options["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=s3_options["aws_secret_access_key"],
        AWS_DEFAULT_REGION=s3_options["region_name"],
        EPCLOUD_CACHE_DIR=str(tmp_path / "worker-cache"),
    )
    return env
