"""AsyncS3FileSystem over HTTP beyond the shared contract (test_storage_contract.py runs that on it)."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config

from epcloud.errors import (
    StorageBucketNotFoundError,
    StorageConnectionError,
    StoragePermissionError,
)
from epcloud.storage import AsyncS3FileSystem
from fixtures_s3 import AuthServer, count_requests

MiB = 1024 * 1024
TAGS = {"project": "epcloud", "stage": "async test"}


# ---------------------------------------------------------------- AsyncS3FileSystem


async def test_one_request_per_simple_operation(async_s3_fs: AsyncS3FileSystem) -> None:
    with count_requests(async_s3_fs) as counts:
        await async_s3_fs.write_bytes("a.txt", b"1")
        await async_s3_fs.read_bytes("a.txt")
        assert not await async_s3_fs.exists("b.txt")
        assert not await async_s3_fs.exists("c.txt")
    assert counts == {"PutObject": 1, "GetObject": 1, "HeadObject": 2, "HeadBucket": 1}


async def test_listing_pages_past_1000_keys(many_keys_bucket: str, s3_options: dict[str, str]) -> None:
    async with AsyncS3FileSystem(many_keys_bucket, "test", **s3_options) as fs:
        with count_requests(fs) as counts:
            listed = await fs.list_files("many")
        assert counts == {"ListObjectsV2": 2}
        assert len(listed) == 1100
        assert len(await fs.glob("many", "*7.txt")) == 110


async def test_multipart_upload_with_sse_class_and_tags(
    s3_bucket: str, s3_options: dict[str, str], s3_client: Any, tmp_path: Path
) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(20 * MiB))
    async with AsyncS3FileSystem(
        s3_bucket,
        "test",
        sse="AES256",
        storage_class="STANDARD_IA",
        tags=TAGS,
        multipart_threshold=5 * MiB,
        multipart_chunksize=5 * MiB,
        max_concurrency=3,
        **s3_options,
    ) as fs:
        with count_requests(fs) as counts:
            await fs.upload_file(source, "big.bin")
        assert counts == {"CreateMultipartUpload": 1, "UploadPart": 4, "CompleteMultipartUpload": 1}
        await fs.copy("big.bin", "big-copy.bin")
        await fs.write_bytes("small.txt", b"s")
        target = tmp_path / "down.bin"
        await fs.download_file("big-copy.bin", target)
    assert target.read_bytes() == source.read_bytes()
    for key in ["test/big.bin", "test/big-copy.bin", "test/small.txt"]:
        head = s3_client.head_object(Bucket=s3_bucket, Key=key)
        assert head["ServerSideEncryption"] == "AES256"
        assert head["StorageClass"] == "STANDARD_IA"
        tag_set = s3_client.get_object_tagging(Bucket=s3_bucket, Key=key)["TagSet"]
        assert {tag["Key"]: tag["Value"] for tag in tag_set} == TAGS


async def test_failed_multipart_upload_is_aborted(
    s3_bucket: str, s3_options: dict[str, str], s3_client: Any, tmp_path: Path
) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(12 * MiB))

    def break_third_part(params: dict[str, Any], **_: Any) -> None:
        if params.get("PartNumber") == 3:
            raise RuntimeError("network died")

    fs = AsyncS3FileSystem(
        s3_bucket, "test", multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, **s3_options
    )
    async with fs:
        fs.client.meta.events.register("provide-client-params.s3.UploadPart", break_third_part)
        with pytest.raises(RuntimeError, match="network died"):
            await fs.upload_file(source, "big.bin")
        assert not await fs.exists("big.bin")
    assert s3_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


async def test_exists_raises_on_403(s3_auth_server: AuthServer) -> None:
    options = {"endpoint_url": s3_auth_server.endpoint, "region_name": "us-east-1"}
    async with AsyncS3FileSystem(s3_auth_server.bucket, "test", **options, **s3_auth_server.denied) as fs:
        with pytest.raises(StoragePermissionError):
            await fs.exists("present.txt")
        with pytest.raises(StoragePermissionError):
            await fs.read_bytes("present.txt")
    async with AsyncS3FileSystem(s3_auth_server.bucket, "test", **options, **s3_auth_server.allowed) as fs:
        assert await fs.exists("present.txt")
        assert not await fs.exists("missing.txt")


async def test_missing_bucket_is_named(s3_options: dict[str, str]) -> None:
    async with AsyncS3FileSystem("epcloud-no-such-bucket", **s3_options) as fs:
        with pytest.raises(StorageBucketNotFoundError, match="epcloud-no-such-bucket"):
            await fs.read_bytes("a.txt")
        with pytest.raises(StorageBucketNotFoundError, match="epcloud-no-such-bucket"):
            await fs.exists("a.txt")


async def test_unreachable_endpoint_fails_fast(closed_port: int) -> None:
    async with AsyncS3FileSystem(
        "bucket",
        endpoint_url=f"http://127.0.0.1:{closed_port}",
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    ) as fs:
        started = time.monotonic()
        with pytest.raises(StorageConnectionError, match=f"127.0.0.1:{closed_port}"):
            await fs.read_bytes("a.txt")
        assert time.monotonic() - started < 15


async def test_must_be_opened_and_can_be_reopened(s3_bucket: str, s3_options: dict[str, str]) -> None:
    fs = AsyncS3FileSystem(s3_bucket, "test", config=Config(read_timeout=30), **s3_options)
    with pytest.raises(RuntimeError, match="async with"):
        await fs.read_bytes("a.txt")
    async with fs:
        await fs.write_text("a.txt", "1")
    async with fs:
        assert await fs.read_text("a.txt") == "1"


async def test_pickled_store_opens_again(s3_bucket: str, s3_options: dict[str, str]) -> None:
    async with AsyncS3FileSystem(s3_bucket, "test", **s3_options) as fs:
        await fs.write_text("p.txt", "x")
        clone = pickle.loads(pickle.dumps(fs))
    assert repr(clone) == repr(fs)
    async with clone:
        assert await clone.read_text("p.txt") == "x"
