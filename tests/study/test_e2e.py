"""The whole workflow with the real engine and the S3 test server: create, two worker processes (one
killed mid-job, its shard re-run), collect; the same study on a Dask LocalCluster gives the same table."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from study_helpers import VARIABLES, shoebox_jobs, start_worker, sweep

from epcloud import Study
from epcloud.batch import simulate_batch
from epcloud.rundir.run_status import STATUS_FILENAME
from epcloud.storage import S3FileSystem
from epcloud.study import layout
from epcloud.study.manifest import VariableRequest
from epcloud.study.summary import summarize

JOBS = 24


def _env(s3_options: dict[str, str], cache: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL_S3=s3_options["endpoint_url"],
        AWS_ACCESS_KEY_ID=s3_options["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=s3_options["aws_secret_access_key"],
        AWS_DEFAULT_REGION=s3_options["region_name"],
        EPCLOUD_CACHE_DIR=str(cache),
    )
    return env


def _no_half_result_is_done(fs: S3FileSystem) -> set[str]:
    """Every job with a done-marker has its summary and SQL output; returns the done jobs."""
    # The index is listed first: a key seen there was written after its marker, so the marker listing
    # taken afterwards must show it, even while workers are still running.
    indexed = {
        parts[1] for info in fs.list_files(layout.DONE) if (parts := layout.split_done_path(info.path))
    }
    files: dict[str, set[str]] = {}
    for info in fs.list_files(layout.RESULTS):
        parts = layout.split_result_path(info.path)
        assert parts is not None
        files.setdefault(parts[1], set()).add(parts[2])
    done = {job for job, names in files.items() if STATUS_FILENAME in names}
    for job in done:
        assert {layout.SUMMARY_FILE, "eplusout.sql", "eplusout.err"} <= files[job], job
    assert indexed <= done  # the index never runs ahead of the done-markers
    return done


def _study(s3_client: Any, s3_options: dict[str, str], prefix: str, weather: Path) -> Study:
    bucket = f"epcloud-e2e-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=bucket)
    fs = S3FileSystem(bucket, prefix, **s3_options)
    params = sweep(JOBS)
    return Study.create(
        fs, shoebox_jobs(params, weather), parameters=params, shard_count=2, variables=VARIABLES
    )


@pytest.fixture(scope="module")
def worker_study(
    s3_client: Any, s3_options: dict[str, str], chicago_epw: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Study, pd.DataFrame, pd.DataFrame]]:
    """A 24-job study run by two worker processes, one SIGKILLed mid-job and its shard re-run; collected."""
    study = _study(s3_client, s3_options, "study-001", chicago_epw)
    fs = study.fs
    logs = tmp_path_factory.mktemp("worker-logs")
    env = _env(s3_options, logs / "cache")
    workers = [
        start_worker(study.url, env, "--index", str(i), "--count", "2", "-j", "1", log=logs / f"w{i}.log")
        for i in range(2)
    ]
    try:
        shard1 = {e.id for e in study.entries(1)}
        deadline = time.monotonic() + 120
        while True:  # kill worker 1 once it has finished some jobs and is running another
            done = _no_half_result_is_done(fs) & shard1
            leased = {Path(i.path).stem for i in fs.list_files(layout.LEASES)} & shard1
            if len(done) >= 2 and leased - done:
                break
            assert workers[1].poll() is None and time.monotonic() < deadline, (logs / "w1.log").read_text()
            time.sleep(0.05)
        workers[1].send_signal(signal.SIGKILL)
        workers[1].wait(timeout=10)
        assert workers[0].wait(timeout=180) == 0, (logs / "w0.log").read_text()
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    killed_done = _no_half_result_is_done(fs) & shard1
    assert len(killed_done) < len(shard1)  # the kill left work undone...
    assert study.status().count("succeeded") == len(killed_done) + JOBS // 2

    rerun = subprocess.run(
        [sys.executable, "-m", "epcloud", "worker", study.url, "--index", "1", "--count", "2", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["skipped"] == len(killed_done) and report["succeeded"] == JOBS // 2 - len(killed_done)

    status = subprocess.run(
        [sys.executable, "-m", "epcloud", "status", study.url, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(status.stdout) == {
        "total": JOBS,
        "succeeded": JOBS,
        "failed": 0,
        "running": 0,
        "pending": 0,
    }
    collect = subprocess.run(
        [sys.executable, "-m", "epcloud", "collect", study.url, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(collect.stdout)["jobs"] == JOBS
    _no_half_result_is_done(fs)
    tables = study.collect()
    assert tables.read == 0  # the CLI's collect already read them all
    assert tables.timeseries is not None
    yield study, tables.jobs, tables.timeseries


def test_workers_killed_and_rerun_give_every_job_once(
    worker_study: Any, chicago_epw: Path, tmp_path: Path
) -> None:
    study, jobs, series = worker_study
    assert len(jobs) == JOBS and jobs["job_id"].is_unique
    assert (jobs["status"] == "succeeded").all()
    assert list(jobs["wall_r"]) == [p["wall_r"] for p in sweep(JOBS)]

    # every value equals a direct local run of the same job
    entries = study.entries()
    local_jobs = [
        job.__class__(**{**job.__dict__, "output_dir": tmp_path / entry.id})
        for job, entry in zip(shoebox_jobs(sweep(JOBS), chicago_epw), entries, strict=True)
    ]
    requests = [VariableRequest(v) for v in VARIABLES]
    with simulate_batch(local_jobs, max_workers=2) as batch:
        for entry, result in zip(entries, batch, strict=True):
            expected = summarize(entry, result, requests)
            row = jobs.set_index("job_id").loc[entry.id]
            assert expected["values"], entry.id
            for column, value in expected["values"].items():
                if value is None:  # no run period: the energy is null in the table too
                    assert pd.isna(row[column]), (entry.id, column)
                else:
                    assert row[column] == value, (entry.id, column)
            assert (row["warnings"], row["severe"]) == (expected["warnings"], expected["severe"])
            mine = series[series.job_id == entry.id]
            for block in expected["series"]:
                for key, values in block["data"].items():
                    got = mine[(mine.variable == block["variable"]) & (mine.key == key)]
                    assert list(got["value"]) == values
                    assert [int(t.timestamp()) for t in got["timestamp"]] == block["timestamps"]


def test_a_dask_cluster_gives_the_same_table(
    worker_study: Any, s3_client: Any, s3_options: dict[str, str], chicago_epw: Path
) -> None:
    from distributed import Client, LocalCluster

    _, by_workers, series_by_workers = worker_study
    study = _study(s3_client, s3_options, "study-dask", chicago_epw)
    with (
        LocalCluster(processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        report = study.run(executor=client)
    assert (report.succeeded, report.failed) == (JOBS, 0)
    jobs, series = study.collect()
    ignore = ["runtime_seconds"]
    pd.testing.assert_frame_equal(jobs.drop(columns=ignore), by_workers.drop(columns=ignore))
    pd.testing.assert_frame_equal(series, series_by_workers)
