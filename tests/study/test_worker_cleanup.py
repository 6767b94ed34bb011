"""Nothing outlives its worker: the temp folders of SIGKILLed workers are swept on the next start, and
only theirs; the engine they ran is gone with them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from study_helpers import shoebox_jobs, start_worker, sweep

from epcloud import Study
from epcloud.storage import S3FileSystem
from epcloud.study.owner import OWNER_FILE, ProcessOwner, make_workdir, sweep_workdirs


def _until(condition: Any, what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.02)


def test_only_folders_of_gone_owners_are_swept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    mine = make_workdir()
    assert mine.parent == tmp_path and ProcessOwner.from_dict(json.loads((mine / OWNER_FILE).read_text()))
    gone = subprocess.run(
        [sys.executable, "-c", "from epcloud.study.owner import make_workdir; print(make_workdir())"],
        env={**os.environ, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    dead = Path(gone.stdout.strip())
    elsewhere = tmp_path / "epcloud-worker-elsewhere"
    elsewhere.mkdir()
    other = {"host": "another-machine", "boot_id": "b", "pid": 1, "start": "1"}
    (elsewhere / OWNER_FILE).write_text(json.dumps(other))
    unowned = tmp_path / "epcloud-worker-old-version"
    unowned.mkdir()
    assert sweep_workdirs() == [dead]
    assert mine.is_dir() and elsewhere.is_dir() and unowned.is_dir() and not dead.exists()


def test_a_killed_workers_temp_folder_is_swept_on_the_next_start(
    study_fs: S3FileSystem, worker_env: dict[str, str], tmp_path: Path
) -> None:
    study = Study.create(study_fs, shoebox_jobs(sweep(4), None))
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**worker_env, "TMPDIR": str(temp), "EPCLOUD_HEARTBEAT_SECONDS": "0.5"}
    worker = start_worker(study.url, env, "-j", "1", log=tmp_path / "w.log")

    def running_job() -> bool:
        folders = list(temp.glob("epcloud-worker-*/job-*"))
        assert worker.poll() is None, (tmp_path / "w.log").read_text()
        return bool(folders)

    try:
        _until(running_job, "the worker running a job in its temp folder")
        (left,) = temp.glob("epcloud-worker-*")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert left.is_dir()  # SIGKILL runs no cleanup
    again = subprocess.run(
        [sys.executable, "-m", "epcloud", "worker", study.url, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert not left.exists() and not list(temp.glob("epcloud-worker-*"))
    assert study.status().count("succeeded") == 4
