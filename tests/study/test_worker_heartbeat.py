"""Leases carry a heartbeat: renewed while the job runs, stale after a few missed beats or at once when
their worker is gone from this machine; `status` says so and stealers take the job."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from study_helpers import shoebox_jobs, start_worker, sweep

from epcloud import Study
from epcloud.storage import S3FileSystem
from epcloud.study import layout
from epcloud.study.leases import STALE_BEATS, Lease, LeaseKeeper, lease_is_stale
from epcloud.study.study_status import study_status


def _until(condition: Any, what: str, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.02)


def test_the_heartbeat_renews_a_held_lease_and_notices_a_takeover(study_fs: S3FileSystem) -> None:
    study = Study.create(study_fs, shoebox_jobs(sweep(1), None))
    entry = study.entries()[0]
    path = layout.lease_path(entry.id)
    with LeaseKeeper(study_fs, beat=0.1) as keeper:
        assert keeper.claim(entry, "me")
        first = Lease.parse(study_fs.read_bytes(path))
        assert first is not None and first.expires_at - first.renewed_at == timedelta(
            seconds=0.1 * STALE_BEATS
        )

        def renewed() -> bool:
            lease = Lease.parse(study_fs.read_bytes(path))
            return lease is not None and lease.renewed_at > first.renewed_at and lease.token == first.token

        _until(renewed, "the lease renewed by its heartbeat")
        assert keeper.holds(entry.id)
        other = {"job": entry.id, "worker": "other", "token": "x", "expires_at": "2999-01-01T00:00:00+00:00"}
        study_fs.write_text(path, json.dumps(other))  # another worker took it over (we were taken for dead)
        _until(lambda: not keeper.holds(entry.id), "the keeper noticing the takeover")
        keeper.release(entry.id)
    assert json.loads(study_fs.read_text(path))["worker"] == "other"  # never deletes another's lease


def _foreign_lease(job: str, renewed: datetime, beat: float = 30.0) -> str:
    owner = {"host": "another-machine", "boot_id": "b", "pid": 1, "start": "1"}
    return json.dumps(
        {
            "job": job,
            "worker": "another-machine-1",
            "token": "t",
            "owner": owner,
            "renewed_at": renewed.isoformat(),
            "expires_at": (renewed + timedelta(seconds=beat * STALE_BEATS)).isoformat(),
        }
    )


def test_status_tells_a_slow_heartbeat_from_a_dead_worker(study_fs: S3FileSystem) -> None:
    study = Study.create(study_fs, shoebox_jobs(sweep(3), None))
    live, dead, _ = study.entries()
    now = datetime.now(timezone.utc)
    study_fs.write_text(layout.lease_path(live.id), _foreign_lease(live.id, now, beat=600.0))
    study_fs.write_text(layout.lease_path(dead.id), _foreign_lease(dead.id, now - timedelta(minutes=10)))
    assert not lease_is_stale(study_fs.read_bytes(layout.lease_path(live.id)))
    assert lease_is_stale(study_fs.read_bytes(layout.lease_path(dead.id)))
    # Seen a while later (past the fresh-listing shortcut), each lease is read and judged by itself.
    status = study_status(study_fs, study.job_ids(), now=time.time() + 3600)
    assert [status.states[e.id] for e in study.entries()] == ["running", "pending", "pending"]
    assert status.stale == [dead.id]


def test_a_killed_workers_jobs_are_stale_at_once_and_a_stealer_takes_them(
    study_fs: S3FileSystem, worker_env: dict[str, str], tmp_path: Path
) -> None:
    study = Study.create(study_fs, shoebox_jobs(sweep(8), None), shard_count=2)
    env = {**worker_env, "EPCLOUD_HEARTBEAT_SECONDS": "0.5"}
    log = tmp_path / "w0.log"
    shard0 = {e.id for e in study.entries(0)}
    worker = start_worker(study.url, env, "--index", "0", "--count", "2", "-j", "1", log=log)
    try:
        _until(
            lambda: worker.poll() is not None or study.status().count("running") >= 1, "a running job", 120
        )
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert not set(study.status().jobs("succeeded")) >= shard0, log.read_text()  # killed mid-shard

    def status() -> str:
        command = [sys.executable, "-m", "epcloud", "status", study.url]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=True).stdout

    # The listing shows the lease as renewed lately for up to 4 beats; then status reads it.
    _until(lambda: "0 running" in (shown := status()) and "stale" in shown, "status saying stale", 60)
    stealer = subprocess.run(
        [
            sys.executable,
            "-m",
            "epcloud",
            "worker",
            study.url,
            "--index",
            "1",
            "--count",
            "2",
            "--steal",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert stealer.returncode == 0, stealer.stderr
    report = json.loads(stealer.stdout)
    assert report["stolen"] >= 1 and report["succeeded"] == 4 + report["stolen"]
    assert study.status().to_dict() == {"total": 8, "succeeded": 8, "failed": 0, "running": 0, "pending": 0}
    assert not study_fs.list_files(layout.LEASES)


def test_rerun_leaves_a_failed_job_a_live_worker_is_running_again(study_fs: S3FileSystem) -> None:
    from epcloud.batch import SimulationJob
    from epcloud.model import Shoebox

    broken = Shoebox().to_idf().replace("Exterior Wall, Brick 100mm", "Exterior Wall, No Such Layer")
    study = Study.create(
        study_fs, [SimulationJob(broken, None, label=f"b{i}", design_day=True) for i in range(2)]
    )
    study.run_shard()
    busy, idle = study.entries()
    assert study.status().jobs("failed") == [busy.id, idle.id]
    now = datetime.now(timezone.utc)
    study_fs.write_text(layout.lease_path(busy.id), _foreign_lease(busy.id, now))  # a late duplicate
    report = study.rerun(failed=True)
    assert report.cleared == [idle.id]
    assert study.status().states == {busy.id: "failed", idle.id: "pending"}
    assert study_fs.exists(layout.done_marker(busy.shard, busy.id))
