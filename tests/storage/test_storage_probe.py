"""`check_writable()`: the store proves, once, before any compute, that it can be written (moto over HTTP)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from epcloud.errors import (
    StorageBucketNotFoundError,
    StorageConnectionError,
    StorageError,
    StoragePermissionError,
)
from epcloud.storage import AsyncS3FileSystem, LocalFileSystem, S3FileSystem
from faultproxy import FaultProxy, Rule
from fixtures_s3 import AuthServer, count_requests

REGION = "us-east-1"


def _check(fs: Any) -> None:
    """Run the probe of a sync or an async store (the async one opened for it)."""
    if isinstance(fs, AsyncS3FileSystem):

        async def probe() -> None:
            async with fs:
                await fs.check_writable()

        asyncio.run(probe())
    else:
        fs.check_writable()


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> type:
    return S3FileSystem if request.param == "sync" else AsyncS3FileSystem


def test_probe_is_two_requests_once_and_leaves_nothing(
    kind: type, s3_bucket: str, s3_options: dict[str, str], s3_client: Any
) -> None:
    fs = kind(s3_bucket, prefix="runs/", **s3_options)
    with count_requests(fs) as counts:
        _check(fs)
        _check(fs)  # answered from the instance
    assert counts == {"PutObject": 1, "DeleteObject": 1}
    assert s3_client.list_objects_v2(Bucket=s3_bucket).get("KeyCount", 0) == 0


def test_missing_bucket(kind: type, s3_options: dict[str, str]) -> None:
    fs = kind("epcloud-no-such-bucket-7", prefix="runs/", **s3_options)
    with pytest.raises(StorageBucketNotFoundError, match="epcloud-no-such-bucket-7"):
        _check(fs)
    assert not fs._writable_checked  # a failed probe is asked again next time


def test_denied_write(kind: type, s3_auth_server: AuthServer) -> None:
    fs = kind(
        s3_auth_server.bucket,
        "runs",
        endpoint_url=s3_auth_server.endpoint,
        region_name=REGION,
        **s3_auth_server.denied,
    )
    with pytest.raises(
        StoragePermissionError, match=r"access denied .*s3://epcloud-auth/runs/\.epcloud-write-probe-"
    ):
        _check(fs)


def test_bad_credentials(kind: type, s3_auth_server: AuthServer) -> None:
    fs = kind(
        s3_auth_server.bucket,
        "runs",
        endpoint_url=s3_auth_server.endpoint,
        region_name=REGION,
        aws_access_key_id="AKIANOSUCHKEY0000000",
        aws_secret_access_key="wrong-secret-value",
    )
    with pytest.raises(StoragePermissionError, match=r"InvalidAccessKeyId|credentials") as caught:
        _check(fs)
    assert "wrong-secret-value" not in str(caught.value)


def test_allowed_credentials_pass(kind: type, s3_auth_server: AuthServer) -> None:
    fs = kind(
        s3_auth_server.bucket,
        "runs",
        endpoint_url=s3_auth_server.endpoint,
        region_name=REGION,
        **s3_auth_server.allowed,
    )
    _check(fs)
    assert fs._writable_checked


def test_unreachable_endpoint_is_asked_twice_then_fails(kind: type, closed_port: int) -> None:
    fs = kind(
        "bucket",
        endpoint_url=f"http://127.0.0.1:{closed_port}",
        region_name=REGION,
        aws_access_key_id="k",
        aws_secret_access_key="s",
    )
    with (
        count_requests(fs) as counts,
        pytest.raises(StorageConnectionError, match=f"127.0.0.1:{closed_port}"),
    ):
        _check(fs)
    assert counts == {"PutObject": 2}  # one more try after a transient failure, no retry loop


def test_probe_client_is_short_and_single_attempt(s3_bucket: str, s3_options: dict[str, str]) -> None:
    options = S3FileSystem(s3_bucket, **s3_options)._probe_options()
    assert options["retries"]["total_max_attempts"] == 1
    assert options["read_timeout"] <= 1.0  # two tries of a silent endpoint stay within 3 s


def test_local_probe(tmp_path: Path) -> None:
    fs = LocalFileSystem(tmp_path / "new" / "folder")
    fs.check_writable()
    assert (tmp_path / "new" / "folder").is_dir() and list((tmp_path / "new" / "folder").iterdir()) == []
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    with pytest.raises(StorageError, match="file"):
        LocalFileSystem(blocker / "below").check_writable()


def test_silent_endpoint_fails_after_two_short_attempts(
    kind: type, fault_proxy: FaultProxy, s3_bucket: str, s3_options: dict[str, str]
) -> None:
    fault_proxy.add(Rule("delay", method="PUT", delay=4.0, times=10))
    fs = kind(s3_bucket, "runs", **{**s3_options, "endpoint_url": fault_proxy.endpoint})
    with pytest.raises(StorageConnectionError, match=r"timeout|timed out|Read"):
        _check(fs)
    assert fault_proxy.count("PUT") == 2  # two tries of at most the 1 s read timeout each


@pytest.mark.parametrize("fault", ["503", "reset"])
def test_one_transient_answer_does_not_fail_the_start(
    kind: type, fault: str, fault_proxy: FaultProxy, s3_bucket: str, s3_options: dict[str, str]
) -> None:
    fault_proxy.add(Rule(fault, method="PUT", times=1))
    fault_proxy.add(Rule(fault, method="DELETE", times=1))
    fs = kind(s3_bucket, "runs", **{**s3_options, "endpoint_url": fault_proxy.endpoint})
    _check(fs)  # each of the two requests met one fault and was asked again
    assert fault_proxy.count("PUT") == 2 and fault_proxy.count("DELETE") == 2
