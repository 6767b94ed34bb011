"""No done job without its outputs, by construction: each attempt writes under its own key, the
done-marker (created once) names the attempt it commits, and own-shard leases are conditional."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from study_helpers import shoebox_jobs, start_worker, sweep

from epcloud import Study
from epcloud.run.process import RunningProcesses
from epcloud.storage import LocalFileSystem, S3FileSystem
from epcloud.study import layout
from epcloud.study.attempt import LOST, JobRunner, committed_dir
from epcloud.study.leases import LeaseKeeper, create_once, replace_if
from epcloud.study.worker import fetch_inputs


@pytest.fixture(params=["s3", "local"])
def any_fs(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "s3":
        return request.getfixturevalue("study_fs")
    return LocalFileSystem(tmp_path / "store")


def test_conditional_writes_recognise_their_own_lost_answer(any_fs: Any) -> None:
    assert create_once(any_fs, "leases/a.json", b'{"token": "mine"}')
    assert create_once(any_fs, "leases/a.json", b'{"token": "mine"}')  # the retry of a write whose answer
    assert not create_once(any_fs, "leases/a.json", b'{"token": "other"}')  # was lost counts as ours
    assert not replace_if(any_fs, "leases/a.json", b'{"token": "new"}', expected=b'{"token": "stale"}')
    assert replace_if(any_fs, "leases/a.json", b'{"token": "new"}', expected=b'{"token": "mine"}')
    assert replace_if(any_fs, "leases/a.json", b'{"token": "new"}', expected=b'{"token": "mine"}')
    assert any_fs.read_bytes("leases/a.json") == b'{"token": "new"}'
    assert not replace_if(any_fs, "leases/gone.json", b"x", expected=b"y")


def test_a_late_attempt_never_touches_the_committed_result(
    study_fs: S3FileSystem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reproduced defect: a second worker listed the first's outputs as leftovers and checked the
    done-marker just before the first committed; it runs the job again, loses the commit and deletes
    only its own attempt."""
    study = Study.create(study_fs, shoebox_jobs(sweep(2), None))
    study.run_shard()
    entry = study.entries()[0]
    marker = study_fs.read_bytes(layout.done_marker(0, entry.id))
    folder = committed_dir(study_fs, entry)
    assert folder is not None
    committed = {info.path: info.etag for info in study_fs.list_files(folder)}
    assert {f"{folder}/eplusout.sql", f"{folder}/summary.json", f"{folder}/run-status.json"} <= set(committed)

    inputs = fetch_inputs(study_fs, [entry])
    exists = study_fs.exists
    marker_key = layout.done_marker(0, entry.id)
    monkeypatch.setattr(study_fs, "exists", lambda path: path != marker_key and exists(path))
    with LeaseKeeper(study_fs) as leases:
        late = JobRunner(
            study_fs,
            study.info,
            inputs,
            tmp_path,
            None,
            RunningProcesses(),
            threading.Event(),
            "late",
            leases,
        )
        assert late(entry, stale=sorted(committed)) == LOST  # it ran the engine, then lost the commit
    monkeypatch.undo()
    assert study_fs.read_bytes(layout.done_marker(0, entry.id)) == marker
    after = {info.path: info.etag for info in study_fs.list_files(entry.result_dir)}
    assert after == {**committed, layout.done_marker(0, entry.id): after[layout.done_marker(0, entry.id)]}
    assert not study_fs.list_files(layout.LEASES)
    assert study.result(entry.id).sql is not None  # still whole: the result opens from its attempt


def test_two_workers_with_the_same_index_run_each_job_once(
    study_fs: S3FileSystem, worker_env: dict[str, str], tmp_path: Path
) -> None:
    study = Study.create(study_fs, shoebox_jobs(sweep(6), None))
    env = {**worker_env, "EPCLOUD_HEARTBEAT_SECONDS": "0.5"}
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    workers = [start_worker(study.url, env, "--index", "0", "-j", "1", "--json", log=log) for log in logs]
    try:
        codes = [worker.wait(timeout=240) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    texts = [log.read_text() for log in logs]
    assert codes == [0, 0], texts
    reports = [json.loads(text[text.rindex("{") :]) for text in texts]
    assert sum(report["succeeded"] for report in reports) == 6  # every job ran once, by one of them
    assert sum(report["skipped"] for report in reports) == 6  # and the other found it done
    attempts = {
        (parts[1], parts[2])
        for info in study_fs.list_files(layout.RESULTS)
        if (parts := layout.split_attempt_path(info.path)) and parts[2]
    }
    assert len(attempts) == 6  # one attempt per job: none ran twice, none left behind
    assert study.status().count("succeeded") == 6
