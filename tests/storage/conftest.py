"""Storage test fixtures: one store of each backend (local, S3 on the test server, fsspec memory, and
the async local and async S3 stores behind a blocking facade), a bucket of 1,100 keys, a refused port."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from storage_helpers import Blocking, MinimalAsyncFileSystem, MinimalFileSystem

from epcloud.storage import (
    AsyncLocalFileSystem,
    AsyncS3FileSystem,
    FileSystem,
    FsspecFileSystem,
    LocalFileSystem,
    S3FileSystem,
)
from faultproxy import FaultProxy
from fixtures_s3 import empty_and_delete_bucket

BACKENDS = ["local", "s3", "memory"]
CONTRACT_BACKENDS = [*BACKENDS, "async-local", "async-s3", "minimal", "async-minimal"]


@contextmanager
def _blocking(make: Callable[[], Any]) -> Iterator[Blocking]:
    loop = asyncio.new_event_loop()
    inner = make()
    opened = isinstance(inner, AsyncS3FileSystem)
    facade = Blocking(inner, loop)
    try:
        if opened:
            loop.run_until_complete(inner.__aenter__())
        yield facade
    finally:
        for store in [inner] * opened + facade.clones:
            loop.run_until_complete(store.__aexit__(None, None, None))
        loop.close()


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


@pytest.fixture(params=CONTRACT_BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FileSystem]:
    """One store of each kind, empty: the async ones behind `Blocking`, so one contract covers all;
    "minimal" stores implement only the primitives, so the base classes' defaults meet the contract."""
    if request.param == "local":
        yield LocalFileSystem(tmp_path / "store")
    elif request.param == "s3":
        yield request.getfixturevalue("s3_fs")
    elif request.param == "async-local":
        with _blocking(lambda: AsyncLocalFileSystem(tmp_path / "store")) as facade:
            yield facade  # type: ignore[misc]
    elif request.param == "minimal":
        yield MinimalFileSystem(uuid.uuid4().hex)  # type: ignore[misc]
    elif request.param == "async-minimal":
        with _blocking(lambda: MinimalAsyncFileSystem(uuid.uuid4().hex)) as facade:
            yield facade  # type: ignore[misc]
    elif request.param == "async-s3":
        bucket, options = request.getfixturevalue("s3_bucket"), request.getfixturevalue("s3_options")
        with _blocking(lambda: AsyncS3FileSystem(bucket, prefix="test/", **options)) as facade:
            yield facade  # type: ignore[misc]
    else:
        memory = _memory_store()
        yield memory
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


@pytest.fixture
def fault_proxy(s3_server: str) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of the test S3 server (arm faults with `proxy.add(Rule(...))`)."""
    proxy = FaultProxy(s3_server)
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture(params=["sync", "async"])
def proxied(
    request: pytest.FixtureRequest, fault_proxy: FaultProxy, s3_bucket: str, s3_options: dict[str, str]
) -> Iterator[Any]:
    """An S3 store of each twin (the async one behind `Blocking`) talking through `fault_proxy`."""
    options = {**s3_options, "endpoint_url": fault_proxy.endpoint}
    if request.param == "sync":
        yield S3FileSystem(s3_bucket, prefix="test/", **options)
        return
    with _blocking(lambda: AsyncS3FileSystem(s3_bucket, prefix="test/", **options)) as facade:
        yield facade
