"""Collect's bookkeeping without an engine: results landed as a worker leaves them (summary in the done
index, a digest per shard), on a local store; an incremental collect must equal a full one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from study_helpers import shoebox_jobs, sweep

from epcloud import Study
from epcloud.storage import LocalFileSystem
from epcloud.study import layout
from epcloud.study.summary import SUMMARY_FORMAT, encode_summary, summary_token


def _summary(entry: Any, scale: float, **changes: Any) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "format": SUMMARY_FORMAT,
        "id": entry.id,
        "index": entry.index,
        "status": "succeeded",
        "runtime_seconds": 1.0 + entry.index,
        "exit_code": 0,
        "timed_out": False,
        "warnings": entry.index,
        "severe": 0,
        "fatal": None,
        "error": None,
        "energyplus_version": "25.2.0",
        "run_period": "annual",
        "values": {"site/Total Site Energy [GJ]": scale * entry.index, "area [m2]": 100.0},
        "series": [],
        "missing_variables": [],
    }
    summary.update(changes)
    return summary


def _land(fs: LocalFileSystem, summaries: list[tuple[Any, dict[str, Any]]], digest: str | None) -> None:
    """What a worker run leaves: each job's done-index key, then (``digest`` named) one digest a shard."""
    by_shard: dict[int, dict[str, Any]] = {}
    for entry, summary in summaries:
        data = encode_summary(summary)
        token = summary_token(data)
        fs.write_bytes(layout.done_path(entry.shard, entry.id, summary["status"], token), data)
        by_shard.setdefault(entry.shard, {})[entry.id] = {"token": token, "summary": summary}
    if digest is not None:
        for shard, jobs in by_shard.items():
            document = {"format": 1, "shard": shard, "jobs": jobs}
            fs.write_text(layout.digest_path(shard, digest), json.dumps(document))


@pytest.fixture
def study(tmp_path: Path) -> Study:
    """A 12-job study of 3 shards on a local store, nothing run."""
    params = sweep(12)
    return Study.create(
        LocalFileSystem(tmp_path / "study"), shoebox_jobs(params, None), parameters=params, shard_count=3
    )


def _values(tables: Any, job: str, column: str) -> Any:
    return tables.jobs.set_index("job_id").loc[job, column]


def test_incremental_collect_equals_a_full_one(study: Study) -> None:
    fs = study.fs
    assert isinstance(fs, LocalFileSystem)
    entries = study.entries()
    first = [(e, _summary(e, 1.0)) for e in entries[:8]]
    first[1] = (entries[1], _summary(entries[1], 1.0, status="failed", exit_code=1, fatal="boom"))
    first[2] = (
        entries[2],
        _summary(entries[2], 1.0, missing_variables=["Site Outdoor Air Drybulb Temperature"]),
    )
    extra = {"end_use/Heating/Natural Gas [GJ]": 7.5, "site/Total Site Energy [GJ]": None, "area [m2]": 100.0}
    first[3] = (entries[3], _summary(entries[3], 1.0, values=extra))
    _land(fs, first[:5], digest="run-a")
    _land(fs, first[5:], digest=None)  # a worker that died before its digest: read one by one

    tables = study.collect()
    assert tables.read == 8
    jobs = tables.jobs
    assert list(jobs["status"]) == ["succeeded", "failed"] + ["succeeded"] * 6 + ["pending"] * 4
    assert list(jobs["warnings"][:8]) == list(range(8)) and jobs["warnings"][8:].isna().all()
    assert _values(tables, entries[7].id, "site/Total Site Energy [GJ]") == 7.0
    assert pd.isna(_values(tables, entries[3].id, "site/Total Site Energy [GJ]"))  # null stays null
    assert _values(tables, entries[3].id, "end_use/Heating/Natural Gas [GJ]") == 7.5
    assert jobs["end_use/Heating/Natural Gas [GJ]"].notna().sum() == 1  # only the job that has it
    assert jobs["missing_variables"].notna().sum() == 1
    assert jobs.loc[1, "fatal"] == "boom" and pd.isna(jobs.loc[0, "fatal"])
    assert list(jobs["wall_r"]) == [p["wall_r"] for p in sweep(12)]

    # New jobs done, one job run again with a new summary, one job's result cleared (a rerun).
    _land(fs, [(e, _summary(e, 2.0)) for e in entries[8:10]], digest="run-b")
    for info in fs.list_files(layout.DONE):  # rerun clears a job's done key before it runs again
        if f"/{entries[0].id}." in info.path:
            fs.remove(info.path)
    _land(fs, [(entries[0], _summary(entries[0], 3.0, runtime_seconds=99.0))], digest="run-c")
    (cleared,) = [i.path for i in fs.list_files(layout.DONE) if f"/{entries[4].id}." in i.path]
    fs.remove(cleared)

    again = study.collect()
    assert again.read == 3  # the two new jobs and the one run again
    assert _values(again, entries[0].id, "runtime_seconds") == 99.0
    assert _values(again, entries[0].id, "site/Total Site Energy [GJ]") == 0.0  # index 0 x 3.0
    assert _values(again, entries[9].id, "site/Total Site Energy [GJ]") == 18.0
    assert _values(again, entries[4].id, "status") == "pending"
    assert pd.isna(_values(again, entries[4].id, "site/Total Site Energy [GJ]"))
    full = study.collect(full=True)
    assert full.read == 9
    pd.testing.assert_frame_equal(again.jobs, full.jobs)
    nothing = study.collect()
    assert nothing.read == 0
    pd.testing.assert_frame_equal(nothing.jobs, full.jobs)


def test_a_digest_entry_serves_only_its_own_job_and_token(study: Study) -> None:
    fs = study.fs
    assert isinstance(fs, LocalFileSystem)
    a, b, c = study.entries(0)[:3]  # one shard: one digest serves all three
    _land(fs, [(a, _summary(a, 1.0)), (b, _summary(b, 1.0)), (c, _summary(c, 1.0))], digest=None)
    tokens = {
        layout.split_done_path(i.path)[1]: layout.split_done_path(i.path)[3]  # type: ignore[index]
        for i in fs.list_files(layout.DONE)
    }
    wrong = _summary(b, 50.0)  # another job's summary filed under a's entry, with a's token
    stale = _summary(c, 60.0)  # an older attempt's summary: its token is not the done index's
    document = {
        "format": 1,
        "shard": a.shard,
        "jobs": {
            a.id: {"token": tokens[a.id], "summary": wrong},
            b.id: {"token": tokens[b.id], "summary": _summary(b, 1.0)},
            c.id: {"token": summary_token(encode_summary(stale)), "summary": stale},
        },
    }
    fs.write_text(layout.digest_path(a.shard, "run-x"), json.dumps(document))
    tables = study.collect()
    assert _values(tables, a.id, "site/Total Site Energy [GJ]") == a.index * 1.0
    assert _values(tables, b.id, "site/Total Site Energy [GJ]") == b.index * 1.0
    assert _values(tables, c.id, "site/Total Site Energy [GJ]") == c.index * 1.0


def test_status_collect_and_stealers_take_the_same_newest_done_key() -> None:
    """A job with a key left by an older attempt: the newer key wins, and on a tie of mtimes (S3 keeps
    whole seconds) the one listed last, for every reader alike; other keys are ignored."""
    from epcloud.storage import FileInfo

    old = layout.done_path(3, "job-000003", "failed", "a" * 16)
    new = layout.done_path(3, "job-000003", "succeeded", "b" * 16)
    tie_a = layout.done_path(0, "job-000000", "succeeded", "c" * 16)
    tie_b = layout.done_path(0, "job-000000", "failed", "d" * 16)
    listing = [
        FileInfo(tie_a, 1, mtime=5.0),
        FileInfo(tie_b, 1, mtime=5.0),
        FileInfo(new, 1, mtime=9.0),
        FileInfo(old, 1, mtime=2.0),
        FileInfo("done/shard-00000/README.txt", 1, mtime=1.0),
    ]
    newest, keys = layout.newest_done(listing)
    assert {job: (key.status, key.shard) for job, key in newest.items()} == {
        "job-000003": ("succeeded", 3),
        "job-000000": ("failed", 0),
    }
    assert keys == {"job-000000": [tie_a, tie_b], "job-000003": [new, old]}
