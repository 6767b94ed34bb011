"""Any array size works: fewer workers than shards take several shards, more split a shard's jobs."""

from __future__ import annotations

import subprocess
import sys

import pytest
from study_helpers import shoebox_jobs, sweep

from epcloud import Study
from epcloud.errors import ShardIndexError
from epcloud.storage import S3FileSystem
from epcloud.study import layout
from epcloud.study.worker import WorkerSlice, resolve_slice


@pytest.mark.parametrize(
    ("index", "count", "shards", "expected"),
    [
        (1, 2, 5, WorkerSlice((1, 3))),  # fewer workers than shards
        (1, 2, 1, WorkerSlice((0,), part=1, parts=2)),  # AWS Batch's smallest array on a 1-shard study
        (4, 5, 2, WorkerSlice((0,), part=2, parts=3)),  # shard 0 shared by workers 0, 2, 4
        (3, 5, 2, WorkerSlice((1,), part=1, parts=2)),  # shard 1 shared by workers 1, 3
    ],
)
def test_any_array_size_gives_a_slice(index: int, count: int, shards: int, expected: WorkerSlice) -> None:
    assert resolve_slice(index, count, shards, {}) == expected


@pytest.mark.parametrize(
    "env",
    [
        {"AWS_BATCH_JOB_ARRAY_INDEX": "3"},
        {"JOB_COMPLETION_INDEX": "3"},
        {"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "1"},
    ],
)
def test_array_variables_give_the_same_slice_as_index(env: dict[str, str]) -> None:
    assert resolve_slice(None, 4, 1, env) == resolve_slice(3, 4, 1, {}) == WorkerSlice((0,), 3, 4)


def test_slurm_array_size_is_read_from_its_environment() -> None:
    env = {"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "3"}
    assert resolve_slice(None, None, 1, env) == WorkerSlice((0,), part=2, parts=3)


def test_the_slices_of_an_array_split_every_job_once_and_the_same_way_every_time(
    study_fs: S3FileSystem,
) -> None:
    study = Study.create(study_fs, shoebox_jobs(sweep(7), None), shard_count=2)
    entries = study.entries()
    for count in (1, 2, 3, 5, 9):
        picked = [[e.id for e in resolve_slice(i, count, 2, {}).select(entries)] for i in range(count)]
        assert sorted(job for part in picked for job in part) == [e.id for e in entries], count
        again = [[e.id for e in resolve_slice(i, count, 2, {}).select(entries)] for i in range(count)]
        assert again == picked


def test_bad_array_sizes_are_refused_with_what_to_give() -> None:
    with pytest.raises(ShardIndexError, match=r"--count\) must be at least 1, got 0"):
        resolve_slice(0, 0, 2, {})
    with pytest.raises(ShardIndexError, match=r"from 0 to 1; an array of more workers needs --count"):
        resolve_slice(None, None, 2, {"AWS_BATCH_JOB_ARRAY_INDEX": "2"})


def test_more_workers_than_jobs_run_each_job_once_and_the_rest_exit_cleanly(
    study_fs: S3FileSystem, worker_env: dict[str, str]
) -> None:
    study = Study.create(study_fs, shoebox_jobs(sweep(3), None))  # one shard of 3 jobs
    ids = [e.id for e in study.entries()]

    def done() -> set[str]:
        return {p[1] for i in study_fs.list_files(layout.DONE) if (p := layout.split_done_path(i.path))}

    first = study.run_shard(0, 2)
    assert (first.succeeded, first.failed) == (2, 0) and done() == {ids[0], ids[2]}
    second = study.run_shard(1, 2)
    assert (second.succeeded, second.skipped) == (1, 0) and done() == set(ids)

    def worker(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "epcloud", "worker", study.url, *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)

    empty = worker({**worker_env, "AWS_BATCH_JOB_ARRAY_INDEX": "3"}, "--count", "4")
    assert empty.returncode == 0, empty.stderr
    assert empty.stderr.count("nothing to do") == 1 and "Traceback" not in empty.stderr
    again = worker({**worker_env, "JOB_COMPLETION_INDEX": "1"}, "--count", "2", "--json")
    assert again.returncode == 0, again.stderr
    assert '"skipped": 1' in again.stdout and '"succeeded": 0' in again.stdout
    assert study.status().count("succeeded") == 3
