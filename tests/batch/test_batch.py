"""simulate_batch with the real engine: order, failures, progress, thread limits, Ctrl-C, the S3 store."""

from __future__ import annotations

import logging
import os
import pickle
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
from batch_helpers import BROKEN_INDEX, sweep_jobs

from epcloud.batch import BatchResult, JobFailure, SimulationJob, simulate_batch
from epcloud.batch.runner import usable_cpus
from epcloud.model import Shoebox, load_idf
from epcloud.progress import ProgressEvent
from epcloud.results.simulation_result import SimulationResult
from epcloud.run.prepare import prepare_run
from epcloud.storage import S3FileSystem
from procs import engine_processes


def _check_sweep(batch: BatchResult) -> None:
    assert len(batch) == 12
    assert len(batch.succeeded) == 11 and len(batch.failed) == 1 and not batch.all_succeeded
    broken = batch[BROKEN_INDEX]
    assert broken is batch["broken"] and not broken.success
    assert isinstance(broken, SimulationResult) and broken.errors.fatal
    assert [job.label for job in batch.jobs] == [
        f"wall-r-{i}" if i != BROKEN_INDEX else "broken" for i in range(12)
    ]


def test_sweep_of_twelve_with_a_broken_model(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    calls: list[ProgressEvent] = []

    def clumsy(event: ProgressEvent) -> None:
        calls.append(event)
        raise RuntimeError("progress display fell over")

    with caplog.at_level(logging.ERROR, logger="epcloud.progress"):
        batch = simulate_batch(sweep_jobs(tmp_path), max_workers=2, on_progress=clumsy)
    _check_sweep(batch)
    for job, result in zip(batch.jobs, batch.results, strict=True):
        assert result.run_dir == tmp_path / job.label  # results in job order
        assert result.status is not None
        assert result.status.model_sha256 == prepare_run(job.model, None, options=job.options()).model_sha256
    # the callback raised every time, was logged once, and never stopped the batch
    assert len(calls) > 12
    assert len([r for r in caplog.records if "progress callback" in r.getMessage()]) == 1
    assert {e.phase for e in calls} >= {"starting", "warmup", "simulating", "done"}
    assert {e.job_index for e in calls} == set(range(12))
    table = batch.to_dataframe()
    assert list(table["label"]) == [job.label for job in batch.jobs]
    assert table["success"].sum() == 11 and not table.loc[BROKEN_INDEX, "success"]
    assert table.loc[BROKEN_INDEX, "severe"] >= 1 and table.loc[BROKEN_INDEX, "fatal"]
    assert table.loc[0, "location"] == str(tmp_path / "wall-r-0")
    assert (table["runtime_seconds"] > 0).all()


def test_a_raising_job_becomes_a_failure(tmp_path: Path) -> None:
    jobs = [
        SimulationJob(tmp_path / "missing.idf", None, label="missing", design_day=True),
        SimulationJob(Shoebox().to_idf(), None, label="fine", design_day=True),
    ]
    with simulate_batch(jobs) as batch:
        failure = batch["missing"]
        assert isinstance(failure, JobFailure) and not failure.success
        assert failure.error_type == "epcloud.errors.ModelFileNotFoundError"
        assert "missing.idf" in failure.message and failure.error.startswith("ModelFileNotFoundError: ")
        assert "Traceback" in failure.traceback
        assert batch["fine"].success and batch.failed == [failure]
        assert batch.to_dataframe().loc[0, "error"] == failure.error
    with pytest.raises(KeyError, match="no job labelled"):
        batch["nope"]


def test_each_engine_runs_on_one_thread(tmp_path: Path) -> None:
    seen: dict[str, str] = {}

    def peek(event: ProgressEvent) -> None:
        if seen:
            return
        for proc in engine_processes(tmp_path):
            seen.update(proc.environ())

    job = SimulationJob(Shoebox().to_idf(), None, output_dir=tmp_path / "one", design_day=True)
    assert simulate_batch([job], on_progress=peek).all_succeeded
    assert seen.get("OMP_NUM_THREADS") == "1"
    assert usable_cpus() == len(os.sched_getaffinity(0))


def test_jobs_pickle_models_as_text() -> None:
    doc = load_idf(Shoebox().to_idf())
    job = SimulationJob(doc, None, label="doc", design_day=True, extra_args=["--convert"])
    copy = pickle.loads(pickle.dumps(job))
    assert isinstance(copy.model, str) and load_idf(copy.model) == doc
    assert copy.extra_args == ("--convert",) and copy.label == "doc"
    with pytest.raises(ValueError, match="exclude each other"):
        SimulationJob(doc, None, annual=True, design_day=True)


def test_ctrl_c_kills_running_engines(tmp_path: Path, chicago_epw: Path) -> None:
    model = Shoebox(timesteps_per_hour=60).to_idf()
    jobs = [SimulationJob(model, chicago_epw, output_dir=tmp_path / f"j{i}", annual=True) for i in range(4)]
    fired = threading.Event()

    def interrupt(event: ProgressEvent) -> None:
        if event.phase == "simulating" and not fired.is_set():
            fired.set()
            os.kill(os.getpid(), signal.SIGINT)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            simulate_batch(jobs, max_workers=2, on_progress=interrupt)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert fired.is_set()
    assert engine_processes(tmp_path) == []
    assert not (tmp_path / "j3" / "eplusout.sql").exists()  # never started


def test_sweep_to_the_s3_store(s3_fs: S3FileSystem, s3_client: Any, s3_bucket: str) -> None:
    batch = simulate_batch(sweep_jobs("sweep"), fs=s3_fs)
    _check_sweep(batch)
    assert batch["wall-r-0"].location == s3_fs.url("sweep/wall-r-0")
    listing = s3_client.list_objects_v2(Bucket=s3_bucket, Prefix="test/sweep/")
    folders = {obj["Key"].split("/")[2] for obj in listing["Contents"]}
    assert folders == {job.label for job in batch.jobs}
    reopened = SimulationResult.from_directory("sweep/broken", fs=s3_fs)
    assert not reopened.success and reopened.errors.fatal
    assert batch[0].sql.list_variables()


def test_store_batches_need_output_dirs(s3_fs: S3FileSystem) -> None:
    with pytest.raises(ValueError, match="needs an output_dir in the store"):
        simulate_batch(sweep_jobs(None, count=2), fs=s3_fs)
