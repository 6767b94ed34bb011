"""Endpoints from the environment or a profile are endpoints (resolved as botocore resolves them), and
a store's connection pool follows the concurrency in use (no "Connection pool is full" warnings)."""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from epcloud.errors import StorageBucketNotFoundError
from epcloud.storage import AsyncS3FileSystem, S3FileSystem

ENDPOINT_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_PROFILE",
)
CREDS = {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No endpoint in the environment and an empty AWS config file, for each test to set its own."""
    for name in ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "aws-config"
    config.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    import epcloud.storage.s3 as s3_module

    monkeypatch.setattr(s3_module, "_session", None)  # the process's session read the old config files
    return monkeypatch


def _assert_uses(fs: S3FileSystem, endpoint: str, s3_bucket: str) -> None:
    assert fs.endpoint_url == endpoint
    assert endpoint in repr(fs)
    fs.write_bytes("env.txt", b"via the environment")
    assert fs.read_bytes("env.txt") == b"via the environment"
    from botocore.config import Config

    config = fs.client.meta.config
    if "request_checksum_calculation" in Config.OPTION_DEFAULTS:  # botocore >= 1.36 adds CRC checksums
        assert config.request_checksum_calculation == "when_required"  # the S3-compatible setting
    assert fs.shares_service_with(S3FileSystem(s3_bucket, endpoint_url=endpoint, **CREDS))


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"])
def test_endpoint_from_an_environment_variable(
    clean_env: pytest.MonkeyPatch, variable: str, s3_server: str, s3_bucket: str
) -> None:
    clean_env.setenv(variable, s3_server)
    _assert_uses(S3FileSystem(s3_bucket, "test", **CREDS), s3_server, s3_bucket)
    assert AsyncS3FileSystem(s3_bucket, "test", **CREDS).endpoint_url == s3_server


def test_service_variable_wins_over_the_global_one(clean_env: pytest.MonkeyPatch, s3_server: str) -> None:
    clean_env.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    clean_env.setenv("AWS_ENDPOINT_URL_S3", s3_server)
    assert S3FileSystem("b", **CREDS).endpoint_url == s3_server


def test_endpoint_from_a_profile(clean_env: pytest.MonkeyPatch, s3_server: str, s3_bucket: str) -> None:
    Path(os.environ["AWS_CONFIG_FILE"]).write_text(f"[profile local]\nendpoint_url = {s3_server}\n")
    clean_env.setenv("AWS_PROFILE", "local")
    _assert_uses(S3FileSystem(s3_bucket, "test", **CREDS), s3_server, s3_bucket)


def test_endpoint_from_a_profile_services_section(clean_env: pytest.MonkeyPatch, s3_server: str) -> None:
    Path(os.environ["AWS_CONFIG_FILE"]).write_text(
        f"[profile local]\nservices = here\n\n[services here]\ns3 =\n  endpoint_url = {s3_server}\n"
    )
    clean_env.setenv("AWS_PROFILE", "local")
    assert S3FileSystem("b", **CREDS).endpoint_url == s3_server


def test_configured_endpoints_can_be_ignored(clean_env: pytest.MonkeyPatch, s3_server: str) -> None:
    clean_env.setenv("AWS_ENDPOINT_URL", s3_server)
    clean_env.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    fs = S3FileSystem("b", **CREDS)
    assert fs.endpoint_url is None
    assert not fs.shares_service_with(S3FileSystem("b", endpoint_url=s3_server, **CREDS))


def test_explicit_endpoint_wins(clean_env: pytest.MonkeyPatch, s3_server: str) -> None:
    clean_env.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    assert S3FileSystem("b", endpoint_url=s3_server, **CREDS).endpoint_url == s3_server


def test_messages_name_the_environment_endpoint(clean_env: pytest.MonkeyPatch, s3_server: str) -> None:
    clean_env.setenv("AWS_ENDPOINT_URL_S3", s3_server)
    fs = S3FileSystem("epcloud-missing-bucket-env", **CREDS)
    with pytest.raises(StorageBucketNotFoundError, match=f"at {s3_server}"):
        fs.check_writable()


def test_an_unknown_profile_is_a_clear_error(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("AWS_PROFILE", "no-such-profile")
    with pytest.raises(PermissionError, match="no-such-profile"):
        S3FileSystem("b", **CREDS)


# ---------------------------------------------------------------- connection pool


def test_pool_widens_to_the_calls_in_flight(s3_fs: S3FileSystem) -> None:
    assert s3_fs.client.meta.config.max_pool_connections == 10
    with ExitStack() as stack:
        for _ in range(25):
            stack.enter_context(s3_fs._in_flight())
        assert s3_fs.client.meta.config.max_pool_connections >= 25
    s3_fs.write_bytes("still.txt", b"works")
    assert s3_fs.read_bytes("still.txt") == b"works"


def test_no_pool_full_warnings_in_a_concurrent_batch_of_uploads(
    s3_fs: S3FileSystem, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    files = []
    for number in range(120):
        path = tmp_path / f"out-{number}.txt"
        path.write_bytes(b"x" * 2000)
        files.append(path)
    caplog.set_level(logging.WARNING, logger="urllib3")

    def upload(path: Path) -> Any:
        s3_fs.upload_file(path, f"batch/{path.name}")
        return s3_fs.stat(f"batch/{path.name}").size

    with ThreadPoolExecutor(max_workers=40) as pool:
        sizes = list(pool.map(upload, files))
    assert sizes == [2000] * len(files)
    full = [record for record in caplog.records if "pool is full" in record.getMessage()]
    assert full == []
