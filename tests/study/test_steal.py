"""--steal: after its shard, a worker runs the jobs of dead shards, claimed with S3 conditional writes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from study_helpers import shoebox_jobs, sweep

from epcloud import Study
from epcloud.storage import S3FileSystem
from epcloud.study import layout
from epcloud.study.steal import claim


def _lease(fs: S3FileSystem, job: str, minutes: float) -> None:
    expires = datetime.now(timezone.utc) + timedelta(minutes=minutes)
    fs.write_text(
        layout.lease_path(job), json.dumps({"job": job, "worker": "other", "expires_at": expires.isoformat()})
    )


def test_claims_are_exclusive_until_the_lease_expires(study_fs: S3FileSystem) -> None:
    study = Study.create(study_fs, shoebox_jobs(sweep(2), None))
    entry = study.entries()[0]
    assert claim(study_fs, entry, "a")
    assert not claim(study_fs, entry, "b")  # 412 Precondition Failed: a holds it
    _lease(study_fs, entry.id, minutes=-1)
    assert claim(study_fs, entry, "b")  # expired: replaced with If-Match on its ETag
    assert json.loads(study_fs.read_text(layout.lease_path(entry.id)))["worker"] == "b"


def test_steal_runs_dead_shards_and_leaves_live_ones(study_fs: S3FileSystem) -> None:
    study = Study.create(study_fs, shoebox_jobs(sweep(6), None), shard_count=3)
    live, expired = study.entries(1)[0], study.entries(2)[0]
    _lease(study_fs, live.id, minutes=30)  # shard 1's worker is alive
    _lease(study_fs, expired.id, minutes=-5)  # shard 2's worker died long ago
    report = study.run_shard(0, 3, max_workers=2, steal=True)
    assert (report.succeeded, report.stolen) == (4, 2)
    states = study.status().states
    assert [states[e.id] for e in study.entries(0) + study.entries(2)] == ["succeeded"] * 4
    assert [states[e.id] for e in study.entries(1)] == ["running", "pending"]
