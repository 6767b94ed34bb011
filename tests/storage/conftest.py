"""Storage test fixtures: one store of each backend (local, S3 on the test server, fsspec memory),
a bucket of 1,100 keys, a refused port."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from epcloud.storage import (
    AsyncLocalFileSystem,
    AsyncS3FileSystem,
    FileSystem,
    FsspecFileSystem,
    LocalFileSystem,
    ThreadedAsyncFileSystem,
)
from fixtures_s3 import empty_and_delete_bucket

BACKENDS = ["local", "s3", "memory"]


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on (connections are refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _memory_store() -> FsspecFileSystem:
    return FsspecFileSystem(f"memory://epcloud-{uuid.uuid4().hex[:12]}")


def _forget(memory: FsspecFileSystem) -> None:
    """Drop what a test left in fsspec's process-wide memory store."""
    if memory.fs.exists(memory.root):
        _forget(memory)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FileSystem]:
    """One store of each kind, empty."""
    if request.param == "local":
        yield LocalFileSystem(tmp_path / "store")
    elif request.param == "s3":
        yield request.getfixturevalue("s3_fs")
    else:
        memory = _memory_store()
        yield memory
        _forget(memory)


@pytest.fixture(params=BACKENDS)
async def async_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    """One async store of each kind, open and empty."""
    if request.param == "local":
        yield AsyncLocalFileSystem(tmp_path / "store")
    elif request.param == "s3":
        bucket, options = request.getfixturevalue("s3_bucket"), request.getfixturevalue("s3_options")
        async with AsyncS3FileSystem(bucket, prefix="test/", **options) as fs:
            yield fs
    else:
        memory = _memory_store()
        async with ThreadedAsyncFileSystem(memory) as fs:
            yield fs
        _forget(memory)


MANY_KEYS = 1100  # more than one ListObjectsV2 page of 1,000


@pytest.fixture(scope="session")
def many_keys_bucket(s3_client: Any) -> Iterator[str]:
    """A bucket holding MANY_KEYS small objects below "test/many/" (written once: it takes seconds)."""
    bucket = f"epcloud-many-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=bucket)

    def put(number: int) -> None:
        s3_client.put_object(Bucket=bucket, Key=f"test/many/{number:05d}.txt", Body=b"x")

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(put, range(MANY_KEYS)))
    yield bucket
    empty_and_delete_bucket(s3_client, bucket)
