"""S3FileSystem against a real S3-protocol server: requests, paging, transfers, SSE, tags, versions."""

from __future__ import annotations

import multiprocessing
import os
import pickle
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config

from epcloud.errors import StorageBucketNotFoundError, StoragePathError
from epcloud.storage import S3FileSystem
from fixtures_s3 import count_requests

MiB = 1024 * 1024
MANY_KEYS = 1100  # as written by the many_keys_bucket fixture
TAGS = {"project": "epcloud", "run id": "a/b c"}


def _tags(client: Any, bucket: str, key: str) -> dict[str, str]:
    tag_set = client.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    return {tag["Key"]: tag["Value"] for tag in tag_set}


def _assert_put_arguments(client: Any, bucket: str, key: str, sse: str = "AES256") -> None:
    head = client.head_object(Bucket=bucket, Key=key)
    assert head["ServerSideEncryption"] == sse, key
    assert head["StorageClass"] == "STANDARD_IA", key
    assert _tags(client, bucket, key) == TAGS, key


def test_one_request_per_simple_operation(s3_fs: S3FileSystem) -> None:
    with count_requests(s3_fs) as counts:
        s3_fs.write_text("a.txt", "x")
    assert counts == {"PutObject": 1}
    with count_requests(s3_fs) as counts:
        s3_fs.read_text("a.txt")
        s3_fs.stat("a.txt")
        s3_fs.remove("a.txt")
    assert counts == {"GetObject": 1, "HeadObject": 1, "DeleteObject": 1}


def test_keys_are_below_the_prefix(s3_fs: S3FileSystem, s3_client: Any, s3_bucket: str) -> None:
    s3_fs.write_bytes("run 1/ünï.txt", b"1")
    keys = [obj["Key"] for obj in s3_client.list_objects_v2(Bucket=s3_bucket)["Contents"]]
    assert keys == ["test/run 1/ünï.txt"]
    assert s3_fs.url("run 1/ünï.txt") == f"s3://{s3_bucket}/test/run 1/ünï.txt"
    assert s3_fs.url() == f"s3://{s3_bucket}/test"


def test_store_without_prefix(s3_bucket: str, s3_options: dict[str, str], s3_client: Any) -> None:
    fs = S3FileSystem(s3_bucket, **s3_options)
    fs.write_bytes("top.txt", b"1")
    assert s3_client.get_object(Bucket=s3_bucket, Key="top.txt")["Body"].read() == b"1"
    assert [info.path for info in fs.list_files()] == ["top.txt"]
    assert fs.url("top.txt") == f"s3://{s3_bucket}/top.txt"


def test_listing_pages_past_1000_keys(many_keys_bucket: str, s3_options: dict[str, str]) -> None:
    fs = S3FileSystem(many_keys_bucket, "test", **s3_options)
    with count_requests(fs) as counts:
        listed = fs.list_files("many")
    assert counts == {"ListObjectsV2": 2}
    assert len(listed) == MANY_KEYS
    assert listed[0].path == "many/00000.txt" and listed[-1].path == f"many/{MANY_KEYS - 1:05d}.txt"
    assert all(info.size == 1 and info.etag for info in listed)
    with count_requests(fs) as counts:
        assert len(fs.glob("many", "*1.txt")) == MANY_KEYS // 10
    assert counts == {"ListObjectsV2": 2}


def test_exists_checks_the_bucket_once(s3_fs: S3FileSystem) -> None:
    s3_fs.write_bytes("here.txt", b"1")
    with count_requests(s3_fs) as counts:
        assert s3_fs.exists("here.txt")
        assert not s3_fs.exists("missing-1.txt")
        assert not s3_fs.exists("missing-2.txt")
    assert counts == {"HeadObject": 3, "HeadBucket": 1}


def test_copy_is_server_side(s3_fs: S3FileSystem) -> None:
    s3_fs.write_bytes("src.bin", b"x" * 1000)
    with count_requests(s3_fs) as counts:
        s3_fs.copy("src.bin", "dst.bin")
    assert counts["CopyObject"] == 1
    assert counts["GetObject"] == counts["PutObject"] == 0
    assert s3_fs.read_bytes("dst.bin") == b"x" * 1000


def test_large_transfer_is_multipart_with_sse_class_and_tags_on_every_object(
    s3_bucket: str, s3_options: dict[str, str], s3_client: Any, tmp_path: Path
) -> None:
    fs = S3FileSystem(
        s3_bucket,
        "test",
        sse="AES256",
        storage_class="STANDARD_IA",
        tags=TAGS,
        multipart_threshold=5 * MiB,
        multipart_chunksize=5 * MiB,
        **s3_options,
    )
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(20 * MiB))

    with count_requests(fs) as counts:
        fs.upload_file(source, "big/upload.bin")
    assert counts["CreateMultipartUpload"] == 1
    assert counts["UploadPart"] == 4
    assert counts["CompleteMultipartUpload"] == 1
    assert counts["PutObject"] == 0

    with count_requests(fs) as counts:
        fs.copy("big/upload.bin", "big/copy.bin")
    assert counts["UploadPartCopy"] == 4 and counts["GetObject"] == 0

    fs.write_bytes("small/put.bin", b"small")
    fs.copy("small/put.bin", "small/copy.bin")
    small = tmp_path / "small.bin"
    small.write_bytes(b"small upload")
    fs.upload_file(small, "small/upload.bin")

    for key in ["big/upload.bin", "big/copy.bin", "small/put.bin", "small/copy.bin", "small/upload.bin"]:
        _assert_put_arguments(s3_client, s3_bucket, f"test/{key}")

    target = tmp_path / "down" / "big.bin"
    with count_requests(fs) as counts:
        fs.download_file("big/copy.bin", target)
    assert counts["GetObject"] >= 2  # ranged, parallel GETs
    assert target.read_bytes() == source.read_bytes()
    assert fs.stat("big/copy.bin").size == 20 * MiB


def test_sse_kms_with_key_id(s3_bucket: str, s3_options: dict[str, str], s3_client: Any) -> None:
    fs = S3FileSystem(s3_bucket, "test", sse="aws:kms", sse_kms_key_id="alias/epcloud-key", **s3_options)
    fs.write_bytes("secret.txt", b"1")
    fs.copy("secret.txt", "secret-copy.txt")
    for key in ["test/secret.txt", "test/secret-copy.txt"]:
        head = s3_client.head_object(Bucket=s3_bucket, Key=key)
        assert head["ServerSideEncryption"] == "aws:kms"
        assert head["SSEKMSKeyId"].endswith("alias/epcloud-key")


def test_versioned_bucket(s3_fs: S3FileSystem, s3_client: Any, s3_bucket: str) -> None:
    s3_client.put_bucket_versioning(Bucket=s3_bucket, VersioningConfiguration={"Status": "Enabled"})
    s3_fs.write_text("v.txt", "one")
    s3_fs.write_text("v.txt", "two")
    assert s3_fs.read_text("v.txt") == "two"
    assert [info.path for info in s3_fs.list_files()] == ["v.txt"]
    s3_fs.copy("v.txt", "w.txt")
    s3_fs.remove("v.txt")
    assert not s3_fs.exists("v.txt")
    assert [info.path for info in s3_fs.list_files()] == ["w.txt"]
    versions = s3_client.list_object_versions(Bucket=s3_bucket, Prefix="test/v.txt")
    assert len(versions["Versions"]) == 2 and len(versions["DeleteMarkers"]) == 1


def test_shared_between_threads(s3_fs: S3FileSystem) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda n: s3_fs.write_text(f"t/{n}.txt", str(n)), range(40)))
        texts = list(pool.map(lambda n: s3_fs.read_text(f"t/{n}.txt"), range(40)))
    assert texts == [str(n) for n in range(40)]


def test_pickling_drops_the_client_and_rebuilds_it(s3_fs: S3FileSystem) -> None:
    s3_fs.write_text("p.txt", "x")
    assert s3_fs._client is not None
    clone = pickle.loads(pickle.dumps(s3_fs))
    assert clone._client is None
    assert repr(clone) == repr(s3_fs)
    assert clone.read_text("p.txt") == "x"


def test_a_worker_process_uses_an_unpickled_store(s3_fs: S3FileSystem) -> None:
    s3_fs.write_text("w/in.txt", "from the parent")
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        assert pool.submit(s3_fs.read_text, "w/in.txt").result(timeout=60) == "from the parent"
        pool.submit(s3_fs.write_text, "w/out.txt", "from the worker").result(timeout=60)
    assert s3_fs.read_text("w/out.txt") == "from the worker"


def test_client_configuration_is_bounded_and_merges_user_config(
    s3_bucket: str, s3_options: dict[str, str]
) -> None:
    config = S3FileSystem(s3_bucket, max_concurrency=32, **s3_options).client.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert config.connect_timeout <= 5 and config.read_timeout == 20
    assert config.max_pool_connections == 32
    tuned = S3FileSystem(
        s3_bucket, connect_timeout=0.5, read_timeout=2, max_attempts=5, **s3_options
    ).client.meta.config
    assert (tuned.connect_timeout, tuned.read_timeout) == (0.5, 2.0)
    assert tuned.retries == {"mode": "standard", "total_max_attempts": 5}

    mine = Config(retries={"mode": "adaptive", "max_attempts": 5}, read_timeout=7)
    merged = S3FileSystem(s3_bucket, config=mine, **s3_options).client.meta.config
    assert merged.retries["mode"] == "adaptive" and merged.retries["total_max_attempts"] == 6
    assert merged.read_timeout == 7
    assert merged.connect_timeout == config.connect_timeout


def test_bad_paths_send_no_request(s3_fs: S3FileSystem) -> None:
    s3_fs.client  # noqa: B018 - build the client so requests could be counted
    with count_requests(s3_fs) as counts:
        for bad in ["../x", "a/../../x", "/abs", "a//b", "a\\b", ".", "..", "a/./b", "nul\x00byte"]:
            with pytest.raises(StoragePathError):
                s3_fs.read_bytes(bad)
            with pytest.raises(StoragePathError):
                s3_fs.exists(bad)
        with pytest.raises(StoragePathError):
            s3_fs.list_files("../other-prefix")
    assert counts == {}


def test_missing_bucket_is_named(s3_options: dict[str, str]) -> None:
    fs = S3FileSystem("epcloud-no-such-bucket", "test", **s3_options)
    for operation in (lambda: fs.read_bytes("a"), lambda: fs.write_bytes("a", b"1"), fs.list_files):
        with pytest.raises(StorageBucketNotFoundError, match="epcloud-no-such-bucket"):
            operation()
    with pytest.raises(StorageBucketNotFoundError, match="epcloud-no-such-bucket"):
        fs.exists("a")
