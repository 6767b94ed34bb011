"""Step 3: collect writes jobs.parquet and timeseries/ to the store, incrementally; status and rerun."""

from __future__ import annotations

import io
import json

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from study_helpers import VARIABLES, shoebox_jobs, sweep

from epcloud import Study
from epcloud.errors import CorruptResultError
from epcloud.storage import S3FileSystem
from epcloud.study import layout
from epcloud.study.worker import committed_dir
from fixtures_s3 import count_requests


@pytest.fixture
def ran_study(study_fs: S3FileSystem) -> Study:
    """A 4-job study of 2 shards whose shard 0 has run."""
    params = sweep(4)
    study = Study.create(
        study_fs, shoebox_jobs(params, None), parameters=params, shard_count=2, variables=VARIABLES
    )
    study.run_shard(0, 2, max_workers=2)
    return study


def test_collect_tables_and_incremental_reads(ran_study: Study, tmp_path: object) -> None:
    fs = ran_study.fs
    jobs, series = ran_study.collect()
    assert list(jobs["job_id"]) == [f"job-{i:06d}" for i in range(4)]
    assert list(jobs["status"]) == ["succeeded", "pending", "succeeded", "pending"]
    assert list(jobs["wall_r"]) == [1.0, 2.0, 3.0, 4.0] and "window_to_wall" in jobs
    done = jobs.status == "succeeded"
    assert list(jobs["run_period"][done]) == ["design days"] * 2  # what was simulated, said per job
    assert jobs.loc[done, "site/Total Site Energy [GJ]"].isna().all()  # null energy, not 0
    assert not [c for c in jobs if c.startswith(("end_use/", "meter/"))]
    assert jobs.loc[1, "runtime_seconds"] != jobs.loc[1, "runtime_seconds"]  # NaN for a pending job
    stored = pq.read_table(io.BytesIO(fs.read_bytes(layout.JOBS_TABLE))).to_pandas()
    assert stored.equals(jobs)

    assert series is not None and set(series["job_id"]) == {"job-000000", "job-000002"}
    assert set(series["variable"]) == set(VARIABLES)
    heating = series[(series.variable == VARIABLES[0]) & (series.job_id == "job-000000")]
    assert len(heating) == 48 and heating["value"].sum() > 0  # two design days, hourly

    ran_study.run_shard(1, 2, max_workers=2)
    with count_requests(fs) as counts:
        tables = ran_study.collect()
    assert tables.read == 2  # only the two new summaries
    assert list(tables.jobs["status"]) == ["succeeded"] * 4
    assert set(tables.timeseries["job_id"]) == {f"job-{i:06d}" for i in range(4)}
    summary_gets = counts["GetObject"]
    with count_requests(fs) as counts:
        again = ran_study.collect()
    assert again.read == 0 and counts["GetObject"] < summary_gets
    full = ran_study.collect(full=True)
    assert full.read == 4
    assert full.jobs.equals(again.jobs)
    assert full.timeseries.equals(again.timeseries)

    local = tmp_path / "series"  # type: ignore[operator]
    for info in fs.list_files(layout.TIMESERIES):
        fs.download_file(info.path, local / info.path)
    dataset = ds.dataset(str(local / layout.TIMESERIES), format="parquet")
    assert dataset.count_rows() == len(full.timeseries)


def test_rerun_makes_a_job_pending_and_collect_drops_it(ran_study: Study) -> None:
    ran_study.collect()
    fs = ran_study.fs
    entry = ran_study.entries()[0]
    (key,) = [i.path for i in fs.list_files(layout.DONE) if f"/{entry.id}." in i.path]
    fs.copy(key, key.replace(".succeeded.", ".failed."))  # pretend it failed
    fs.remove(key)
    assert ran_study.status().jobs("failed") == [entry.id]
    ran_study.rerun(failed=True)
    tables = ran_study.collect()
    assert tables.jobs.loc[0, "status"] == "pending"
    assert entry.id not in set(tables.timeseries["job_id"])


def test_corrupt_summary_is_a_clear_error_and_nothing_is_overwritten(ran_study: Study) -> None:
    fs = ran_study.fs
    ran_study.collect()
    before = fs.read_bytes(layout.JOBS_TABLE)
    (digest,) = [i.path for i in fs.list_files(layout.DIGESTS)]
    fs.write_text(digest, "{broken")  # a digest only speeds collect up: the done index is read instead
    assert ran_study.collect(full=True).read == 2

    entry = ran_study.entries()[2]
    (key,) = [i.path for i in fs.list_files(layout.DONE) if f"/{entry.id}." in i.path]
    fs.write_text(key, '{"status": "succ')
    before = fs.read_bytes(layout.JOBS_TABLE)
    with pytest.raises(CorruptResultError, match=r"job-000002\.succeeded\.[0-9a-f]+\.json: not valid JSON"):
        ran_study.collect(full=True)
    assert fs.read_bytes(layout.JOBS_TABLE) == before
    fs.write_text(key, '{"values": {}}')
    with pytest.raises(CorruptResultError, match="not a job summary"):
        ran_study.collect(full=True)
    assert fs.read_bytes(layout.JOBS_TABLE) == before


def test_corrupt_run_status_of_a_job(ran_study: Study) -> None:
    entry = ran_study.entries()[0]
    folder = committed_dir(ran_study.fs, entry)  # the attempt the job's done-marker commits
    ran_study.fs.write_text(f"{folder}/run-status.json", "{broken")
    with pytest.raises(CorruptResultError, match=r"run-status\.json: not valid JSON"):
        ran_study.result(entry.id)
    assert json.loads(ran_study.fs.read_text(layout.STUDY_FILE))["job_count"] == 4


def test_done_index_listed_whole_or_per_shard(ran_study: Study, monkeypatch: pytest.MonkeyPatch) -> None:
    """A small study lists its done index in one request; a big one (here: pages of one key) lists each
    shard in parallel. Both read the same index."""
    from epcloud.study import collect

    fs = ran_study.fs
    with count_requests(fs) as counts:
        whole = collect._done_jobs(fs, ran_study.info.shard_count, len(ran_study.entries()))
    assert counts["ListObjectsV2"] == 1
    monkeypatch.setattr(collect, "_LIST_PAGE", 1)
    with count_requests(fs) as counts:
        per_shard = collect._done_jobs(fs, ran_study.info.shard_count, len(ran_study.entries()))
    assert counts["ListObjectsV2"] == ran_study.info.shard_count > 1
    assert per_shard == whole and len(whole) == 2
