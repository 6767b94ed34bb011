"""Step 2: workers run their shard, skip done jobs, write the done-marker last, stop cleanly on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from study_helpers import VARIABLES, shoebox_jobs, start_worker, sweep

from epcloud import Study
from epcloud.batch import SimulationJob
from epcloud.errors import (
    ShardIndexError,
    StoragePermissionError,
    StudyFormatError,
    StudyInputError,
)
from epcloud.model import Shoebox
from epcloud.storage import S3FileSystem
from epcloud.study import layout
from epcloud.study.manifest import STUDY_FORMAT
from epcloud.study.worker import resolve_shards
from fixtures_s3 import count_requests

BROKEN = Shoebox().to_idf().replace("Exterior Wall, Brick 100mm", "Exterior Wall, No Such Layer")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"AWS_BATCH_JOB_ARRAY_INDEX": "2"}, (2,)),
        ({"JOB_COMPLETION_INDEX": "0"}, (0,)),
        ({"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "1"}, (3,)),
    ],
)
def test_shard_index_from_array_job_environment(env: dict[str, str], expected: tuple[int, ...]) -> None:
    assert resolve_shards(None, None, 4, env) == expected


def test_shard_index_and_array_size_are_checked() -> None:
    assert resolve_shards(1, 2, 5, {}) == (1, 3)  # 2 workers share 5 shards
    assert resolve_shards(None, None, 1, {}) == (0,)
    with pytest.raises(ShardIndexError, match=r"index 4 is out of range.*from 0 to 3"):
        resolve_shards(4, None, 4, {})
    assert resolve_shards(5, 8, 4, {}) == (1,)  # 8 workers share 4 shards: two on each
    with pytest.raises(ShardIndexError, match="give --index"):
        resolve_shards(None, None, 4, {})
    with pytest.raises(ShardIndexError, match="not a whole number"):
        resolve_shards(None, None, 4, {"AWS_BATCH_JOB_ARRAY_INDEX": "x"})


def _put_order(fs: S3FileSystem) -> Any:
    """Record the keys of every PUT the store sends, in order."""
    keys: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        keys.append(params["Key"].removeprefix(fs.prefix + "/"))

    fs.client.meta.events.register("before-parameter-build.s3.PutObject", record)
    return keys


def test_worker_writes_summary_then_marker_and_skips_done_jobs(study_fs: S3FileSystem) -> None:
    jobs = [*shoebox_jobs(sweep(3), None), SimulationJob(BROKEN, None, label="broken", design_day=True)]
    study = Study.create(study_fs, jobs, shard_count=2, variables=VARIABLES)
    order = _put_order(study_fs)
    report = study.run_shard(1, 2, max_workers=2)
    assert (report.succeeded, report.failed, report.skipped) == (1, 1, 0)
    for entry in study.entries(1):
        mine = [k for k in order if k.startswith(entry.result_dir + "/") or f"/{entry.id}." in k]
        attempt = json.loads(study_fs.read_text(layout.done_marker(1, entry.id)))["attempt"]
        folder = layout.attempt_dir(1, entry.id, attempt)
        assert mine[0] == layout.lease_path(entry.id) or mine[0].startswith(folder)
        # Heartbeats may renew the lease at any moment: the order of the job's own writes is what counts.
        writes = [k for k in mine if k != layout.lease_path(entry.id) and not k.startswith(layout.NOTES)]
        assert writes[-3] == f"{folder}/run-status.json"  # the attempt's status is the last of its outputs,
        assert writes[-2] == layout.done_marker(1, entry.id)  # then the done-marker naming the attempt,
        assert writes[-1].startswith(f"done/shard-00001/{entry.id}.")  # then its done-index key
        assert f"{folder}/summary.json" in mine
    summary = json.loads(study_fs.read_text(f"{study.result(study.entries(1)[0].id).run_dir}/summary.json"))
    assert summary["status"] == "succeeded" and summary["run_period"] == "design days"
    assert summary["values"]["site/Total Site Energy [GJ]"] is None  # no run period: no annual energy
    assert {s["variable"] for s in summary["series"]} == set(VARIABLES)
    broken = study.entries(1)[1]
    done_keys = [info.path for info in study_fs.list_files(layout.DONE)]
    assert next(k for k in done_keys if f"/{broken.id}." in k).split(".")[1] == "failed"
    assert len(study_fs.list_files(layout.DIGESTS)) == 1  # the run's summaries in one object
    assert not study_fs.list_files(layout.LEASES)

    with count_requests(study_fs) as counts:
        status = study.status()
    assert status.to_dict() == {"total": 4, "succeeded": 1, "failed": 1, "running": 0, "pending": 2}
    assert list(status.states) == [entry.id for entry in study.entries()]  # in job order
    # The done index, the leases and the notes are listed; no manifest is read (the ids come from
    # the study file), and no lease either (there are none).
    assert counts == {"ListObjectsV2": 3}, counts

    with count_requests(study_fs) as counts:
        again = study.run_shard(1, 2)
    assert (again.ran, again.skipped) == (0, 2)
    assert counts["PutObject"] == 0 and counts["ListObjectsV2"] == 2  # its results, its done index

    good = study.entries(1)[0]
    (lost,) = [k for k in done_keys if f"/{good.id}." in k]
    study_fs.remove(lost)  # a worker killed between a job's done-marker and its index key
    assert study.run_shard(1, 2).ran == 0
    assert study_fs.exists(lost)  # restored from the summary, nothing re-run

    rerun = study.rerun(failed=True)
    assert rerun.cleared == [broken.id]
    assert not study_fs.list_files(broken.result_dir)
    assert study.status().count("pending") == 3


def test_missing_input_is_a_clear_error_and_nothing_is_written(
    study_fs: S3FileSystem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EPCLOUD_CACHE_DIR", str(tmp_path))
    study = Study.create(study_fs, shoebox_jobs(sweep(2), None))
    study_fs.remove(study.entries()[1].model_path)
    with pytest.raises(StudyInputError, match=r"inputs/models/.*\.idf is missing from the study"):
        study.run_shard()
    assert not study_fs.list_files(layout.RESULTS)


def test_manifest_from_a_newer_epcloud_is_refused(study_fs: S3FileSystem) -> None:
    study = Study.create(study_fs, shoebox_jobs(sweep(2), None))
    shard = json.loads(study_fs.read_text(layout.manifest_path(0)))
    shard["format"] = STUDY_FORMAT + 1
    study_fs.write_text(layout.manifest_path(0), json.dumps(shard))
    with pytest.raises(StudyFormatError, match="newer epcloud"):
        study.run_shard()
    assert not study_fs.list_files(layout.RESULTS)


def test_shard_out_of_range_writes_nothing(study_fs: S3FileSystem) -> None:
    study = Study.create(study_fs, shoebox_jobs(sweep(4), None), shard_count=2)
    before = study_fs.list_files("")
    with pytest.raises(ShardIndexError, match="out of range"):
        study.run_shard(2)
    assert study_fs.list_files("") == before


def test_store_without_permission(s3_auth_server: Any) -> None:
    denied = S3FileSystem(
        s3_auth_server.bucket,
        "study/",
        endpoint_url=s3_auth_server.endpoint,
        region_name="us-east-1",
        **s3_auth_server.denied,
    )
    with pytest.raises(StoragePermissionError, match="access denied"):
        Study.open(denied)
    with pytest.raises(StoragePermissionError, match="access denied"):
        Study.create(denied, shoebox_jobs(sweep(1), None))


def test_sigterm_stops_the_worker_and_leaves_the_job_pending(
    study_fs: S3FileSystem, worker_env: dict[str, str], tmp_path: Path
) -> None:
    study = Study.create(study_fs, shoebox_jobs(sweep(6), None))
    worker = start_worker(study.url, worker_env, "-j", "1", log=tmp_path / "worker.log")
    try:
        _wait_for(lambda: study_fs.list_files(layout.LEASES), worker, tmp_path / "worker.log")
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    log = (tmp_path / "worker.log").read_text()
    assert code == 143, log
    assert "unfinished jobs stay pending" in log and "left pending for the next run" in log
    status = study.status()
    assert status.count("pending") >= 1 and status.count("running") == 0, status
    assert not study_fs.list_files(layout.LEASES)
    for job in status.jobs("succeeded"):  # whatever is done is complete
        assert study_fs.exists(f"{study.result(job).run_dir}/summary.json")

    report = study.run_shard()
    assert report.ran == status.count("pending")
    assert study.status().count("succeeded") == 6


def _wait_for(condition: Any, worker: subprocess.Popen[Any], log: Path, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if worker.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"worker never reached the expected state:\n{log.read_text()}")
        time.sleep(0.05)
