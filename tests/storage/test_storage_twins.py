"""The sync and async twins behave alike: managed copies, copies between stores, batch concurrency,
and a cache hit landing in a store (simulate and async_simulate share one test)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from storage_helpers import Blocking

from epcloud.batch import SimulationJob, async_simulate_batch, simulate_batch
from epcloud.model import Shoebox
from epcloud.run.cache import SimulationCache
from epcloud.run.simulate import async_simulate, simulate
from epcloud.storage import AsyncS3FileSystem, S3FileSystem
from fixtures_s3 import count_requests, empty_and_delete_bucket

MiB = 1024 * 1024


@pytest.fixture
def engine_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> list[list[str]]:
    """Records every EnergyPlus (and ExpandObjects) command simulate or async_simulate start; they run."""
    import epcloud.run.expand as core  # where runs are launched

    monkeypatch.setenv("EPCLOUD_CACHE_DIR", str(tmp_path / "epcloud-cache"))
    launched: list[list[str]] = []
    sync_run, async_run = core.run_process, core.async_run_process

    def counting(cmd: list[str], **kwargs: Any) -> Any:
        launched.append(list(cmd))
        return sync_run(cmd, **kwargs)

    async def async_counting(cmd: list[str], **kwargs: Any) -> Any:
        launched.append(list(cmd))
        return await async_run(cmd, **kwargs)

    monkeypatch.setattr(core, "run_process", counting)
    monkeypatch.setattr(core, "async_run_process", async_counting)
    return launched


@pytest.fixture
def other_bucket(s3_client: Any) -> Iterator[str]:
    bucket = f"epcloud-other-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=bucket)
    yield bucket
    empty_and_delete_bucket(s3_client, bucket)


@pytest.fixture(params=["sync", "async"])
def twin(request: pytest.FixtureRequest, s3_bucket: str, s3_options: dict[str, str]) -> Iterator[Any]:
    """An S3 store of each twin on a fresh bucket (prefix "test/"), multipart from 5 MiB."""
    settings = {"multipart_threshold": 5 * MiB, "multipart_chunksize": 5 * MiB, **s3_options}
    if request.param == "sync":
        yield S3FileSystem(s3_bucket, prefix="test/", **settings)
        return
    loop = asyncio.new_event_loop()
    inner = AsyncS3FileSystem(s3_bucket, prefix="test/", **settings)
    loop.run_until_complete(inner.__aenter__())
    try:
        yield Blocking(inner, loop)
    finally:
        loop.run_until_complete(inner.__aexit__(None, None, None))
        loop.close()


def test_copy_is_multipart_for_large_objects(twin: Any) -> None:
    data = os.urandom(11 * MiB)
    twin.write_bytes("big.bin", data)
    with count_requests(twin) as counts:
        twin.copy("big.bin", "copy/big.bin")
    assert twin.read_bytes("copy/big.bin") == data
    assert counts["UploadPartCopy"] == 3 and counts["CopyObject"] == 0
    assert counts["CreateMultipartUpload"] == 1 and counts["CompleteMultipartUpload"] == 1


def test_small_copy_is_one_copy_object(twin: Any) -> None:
    twin.write_bytes("small.txt", b"small")
    with count_requests(twin) as counts:
        twin.copy("small.txt", "copy/small.txt")
    assert twin.read_bytes("copy/small.txt") == b"small"
    assert counts["CopyObject"] == 1 and counts["GetObject"] == 0 and counts["PutObject"] == 0


def test_copy_from_another_bucket_of_the_service_is_server_side(
    twin: Any, other_bucket: str, s3_options: dict[str, str]
) -> None:
    source = S3FileSystem(other_bucket, prefix="cache/", **s3_options)
    source.write_bytes("entry/out.sql", b"sql" * 1000)
    assert twin.shares_service_with(source)
    with count_requests(twin) as counts:
        twin.copy_from(source, "entry/out.sql", "runs/1/out.sql")
    assert twin.read_bytes("runs/1/out.sql") == b"sql" * 1000
    assert counts["CopyObject"] == 1 and counts["GetObject"] == 0 and counts["PutObject"] == 0


def test_copy_from_another_endpoint_moves_the_bytes(
    twin: Any, tmp_path: Any, s3_options: dict[str, str]
) -> None:
    from epcloud.storage import LocalFileSystem

    local = LocalFileSystem(tmp_path / "disk")
    local.write_bytes("a.txt", b"from disk")
    assert not twin.shares_service_with(local)
    elsewhere = S3FileSystem("some-bucket", **{**s3_options, "endpoint_url": "http://127.0.0.1:9"})
    assert not twin.shares_service_with(elsewhere)
    with count_requests(twin) as counts:
        twin.copy_from(local, "a.txt", "b.txt")
    assert twin.read_bytes("b.txt") == b"from disk" and counts["CopyObject"] == 0


def test_zero_workers_means_the_same_in_both_batch_runners() -> None:
    jobs = [SimulationJob(Shoebox().to_idf(), None, design_day=True)]
    with pytest.raises(ValueError, match="max_workers must be at least 1"):
        simulate_batch(jobs, max_workers=0)
    with pytest.raises(ValueError, match="max_concurrent must be at least 1"):
        asyncio.run(async_simulate_batch(jobs, max_concurrent=0))


@pytest.mark.parametrize("flavour", ["simulate", "async_simulate"])
def test_cache_hit_into_the_same_service_is_a_server_side_copy(
    flavour: str, s3_bucket: str, s3_options: dict[str, str], engine_runs: list[list[str]]
) -> None:
    cache = SimulationCache("simulations", fs=S3FileSystem(s3_bucket, prefix="cache/", **s3_options))
    model = Shoebox().to_idf()
    assert simulate(
        model,
        None,
        output_dir="first",
        fs=S3FileSystem(s3_bucket, "out/", **s3_options),
        design_day=True,
        cache=cache,
    ).success
    assert len(engine_runs) == 1

    if flavour == "simulate":
        store = S3FileSystem(s3_bucket, prefix="out/", **s3_options)
        with count_requests(store) as counts:
            again = simulate(model, None, output_dir="hit", fs=store, design_day=True, cache=cache)
        listed = store.list_files("hit")
    else:

        async def hit() -> tuple[Any, Any, list[Any]]:
            async with AsyncS3FileSystem(s3_bucket, prefix="out/", **s3_options) as store:
                with count_requests(store) as counts:
                    result = await async_simulate(
                        model, None, output_dir="hit", fs=store, design_day=True, cache=cache
                    )
                return result, counts, await store.list_files("hit")

        again, counts, listed = asyncio.run(hit())
    assert len(engine_runs) == 1, "the hit ran no engine"
    assert again.success and again.cached
    # One PUT and one DELETE: the store's write probe before the run; every output is a server-side copy.
    assert counts["PutObject"] == 1 and counts["DeleteObject"] == 1 and counts["CopyObject"] >= 4
    names = {info.path.rsplit("/", 1)[-1] for info in listed}
    assert {"eplusout.sql", "run-status.json"} <= names
