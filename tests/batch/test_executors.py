"""simulate_batch on other executors: a real Dask LocalCluster and a process pool give the thread results."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from batch_helpers import BROKEN_INDEX, TEMP, sweep_jobs

from epcloud.batch import BatchResult, JobFailure, SimulationJob, simulate_batch
from epcloud.model import Shoebox
from epcloud.run.cache import SimulationCache
from epcloud.storage import S3FileSystem


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def thread_batch(tmp_path_factory: pytest.TempPathFactory) -> BatchResult:
    return simulate_batch(sweep_jobs(tmp_path_factory.mktemp("threads"), count=6))


def _same_values(batch: BatchResult, reference: BatchResult) -> None:
    assert [r.success for r in batch] == [r.success for r in reference]
    for result, expected in zip(batch, reference, strict=True):
        assert result.status is not None and expected.status is not None
        assert result.status.model_sha256 == expected.status.model_sha256
        if expected.success:
            assert result.sql.get_timeseries(TEMP).values == expected.sql.get_timeseries(TEMP).values
    assert batch[BROKEN_INDEX].errors.fatal


def test_dask_cluster_matches_threads(dask_client: Any, tmp_path: Path, thread_batch: BatchResult) -> None:
    batch = simulate_batch(sweep_jobs(tmp_path, count=6), executor=dask_client)
    _same_values(batch, thread_batch)
    assert [r.run_dir for r in batch] == [tmp_path / job.label for job in batch.jobs]


def test_dask_cluster_to_s3_with_a_shared_cache(
    dask_client: Any,
    s3_fs: S3FileSystem,
    s3_bucket: str,
    s3_options: dict[str, str],
    thread_batch: BatchResult,
) -> None:
    cache = SimulationCache("c", fs=S3FileSystem(s3_bucket, prefix="cache/", **s3_options))
    first = simulate_batch(sweep_jobs("dask", count=6), executor=dask_client, fs=s3_fs, cache=cache)
    _same_values(first, thread_batch)
    assert first[0].location == s3_fs.url("dask/wall-r-0")
    again = simulate_batch(sweep_jobs("again", count=6), executor=dask_client, fs=s3_fs, cache=cache)
    assert [r.cached for r in again] == [i != BROKEN_INDEX for i in range(6)]


def test_process_pool_matches_threads(tmp_path: Path, thread_batch: BatchResult) -> None:
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        batch = simulate_batch(sweep_jobs(tmp_path, count=6), executor=pool)
    _same_values(batch, thread_batch)


def test_a_given_thread_pool_runs_in_process(tmp_path: Path) -> None:
    jobs = [SimulationJob(Shoebox().to_idf(), None, label="t", design_day=True)]
    with ThreadPoolExecutor(1) as pool:
        batch = simulate_batch(jobs, executor=pool)
    assert batch["t"].success and batch["t"].stdout


def test_remote_executors_need_reachable_output_dirs() -> None:
    with ProcessPoolExecutor(1) as pool, pytest.raises(ValueError, match="shared with the executor"):
        simulate_batch(sweep_jobs(None, count=1), executor=pool)
    with pytest.raises(TypeError, match=r"concurrent\.futures\.Executor or a distributed\.Client"):
        simulate_batch(sweep_jobs(None, count=1), executor=object())


def test_a_lost_job_becomes_a_failure(tmp_path: Path) -> None:
    unpicklable = SimulationJob(
        Shoebox().to_idf(), None, output_dir=tmp_path / "x", design_day=True, label="lost"
    )
    object.__setattr__(unpicklable, "output_dir", lambda: None)  # cannot cross to another process
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        batch = simulate_batch([unpicklable], executor=pool)
    assert isinstance(batch["lost"], JobFailure) and "pickle" in batch["lost"].message.lower()
