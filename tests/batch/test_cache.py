"""SimulationCache with the real engine: keys, hits without EnergyPlus, S3 stores shared between processes."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from batch_helpers import TEMP, sweep_jobs

from epcloud.batch import SimulationJob, simulate_batch
from epcloud.model import Shoebox
from epcloud.run.cache import SimulationCache
from epcloud.run.prepare import RunOptions, prepare_run
from epcloud.run.simulate import simulate
from epcloud.rundir.run_status import STATUS_FILENAME
from epcloud.storage import S3FileSystem
from fixtures_s3 import count_requests

SCHEDULE = "Schedule:File, Gains, Fraction, {name}, 1, 0, 8760, Comma, No, 60;"


def _model_with_schedule(folder: Path, values: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "gains.csv").write_text(values)
    model = folder / "model.idf"
    model.write_text(Shoebox().to_idf() + "\n" + SCHEDULE.format(name="gains.csv") + "\n")
    return model


def test_key_covers_model_weather_flags_engine_and_files(tmp_path: Path, chicago_epw: Path) -> None:
    cache = SimulationCache(tmp_path / "c")
    model = _model_with_schedule(tmp_path / "m", "1\n" * 8760)
    design = RunOptions(design_day=True)
    base = cache.key(prepare_run(model, None, options=design))
    assert cache.key(prepare_run(model, None, options=design)) == base
    assert cache.key(prepare_run(model, None, options=RunOptions(design_day=True, timeout=5))) == base
    assert cache.key(prepare_run(model, chicago_epw, options=design)) != base
    assert cache.key(prepare_run(model, None, options=RunOptions(design_day=True, readvars=True))) != base
    plan = prepare_run(model, None, options=design)
    rebuilt = dataclasses.replace(plan, engine=dataclasses.replace(plan.engine, build="other"))
    assert cache.key(rebuilt) != base
    (tmp_path / "m" / "gains.csv").write_text("0.5\n" * 8760)
    assert cache.key(prepare_run(model, None, options=design)) != base
    other = Shoebox(wall_r=3.0).to_idf()
    assert cache.key(prepare_run(other, None, options=design)) != cache.key(
        prepare_run(Shoebox().to_idf(), None, options=design)
    )


def test_second_batch_runs_no_engine_and_lands_outputs(tmp_path: Path, engine_runs: list[list[str]]) -> None:
    cache = SimulationCache(tmp_path / "cache")
    first = simulate_batch(sweep_jobs(tmp_path / "first", count=6), cache=cache)
    assert len(engine_runs) == 6 and len(first.succeeded) == 5
    assert cache.entry_count() == 5 and len(cache) == 5 and cache.size() > 0  # failures are not cached
    engine_runs.clear()
    good = [job for job in sweep_jobs(tmp_path / "second", count=6) if job.label != "broken"]
    second = simulate_batch(good, cache=cache)
    assert engine_runs == []  # zero EnergyPlus runs
    assert second.all_succeeded and all(r.cached for r in second)
    for job, result in zip(good, second, strict=True):
        assert result.run_dir == tmp_path / "second" / job.label
        assert (result.run_dir / "eplusout.sql").is_file() and (result.run_dir / STATUS_FILENAME).is_file()
        with first[job.label] as original, result:
            assert result.sql.get_timeseries(TEMP).values == original.sql.get_timeseries(TEMP).values
    assert second.to_dataframe()["cached"].all()
    assert cache.clear() > 0 and cache.entry_count() == 0 and cache.size() == 0


def test_concurrent_misses_of_one_key_run_once(tmp_path: Path, engine_runs: list[list[str]]) -> None:
    model = Shoebox().to_idf()
    jobs = [SimulationJob(model, None, output_dir=tmp_path / f"j{i}", design_day=True) for i in range(4)]
    batch = simulate_batch(jobs, cache=SimulationCache(tmp_path / "cache"), max_workers=4)
    assert batch.all_succeeded
    assert len(engine_runs) == 1
    assert sorted(r.cached for r in batch) == [False, True, True, True]


def test_cache_hit_into_the_same_bucket_is_a_server_side_copy(
    s3_fs: S3FileSystem, s3_bucket: str, s3_options: dict[str, str], engine_runs: list[list[str]]
) -> None:
    cache = SimulationCache("simulations", fs=S3FileSystem(s3_bucket, prefix="cache/", **s3_options))
    model = Shoebox().to_idf()
    first = simulate(model, None, output_dir="a", fs=s3_fs, design_day=True, cache=cache)
    assert first.success and not first.cached and cache.entry_count() == 1
    with count_requests(s3_fs) as counts:
        again = simulate(model, None, output_dir="b", fs=s3_fs, design_day=True, cache=cache)
    assert len(engine_runs) == 1
    assert again.success and again.cached and again.location == s3_fs.url("b")
    assert counts["PutObject"] == 0 and counts["CopyObject"] >= 4
    assert again.sql.get_timeseries(TEMP).values == first.sql.get_timeseries(TEMP).values


_SECOND_PROCESS = """
import json, sys
from epcloud.run.cache import SimulationCache
from epcloud.model import Shoebox
from epcloud.run.simulate import simulate
from epcloud.storage import S3FileSystem
bucket, options = sys.argv[1], json.loads(sys.argv[2])
cache = SimulationCache("shared", fs=S3FileSystem(bucket, prefix="cache/", **options))
with simulate(Shoebox().to_idf(), None, output_dir=sys.argv[3], design_day=True, cache=cache) as result:
    print(json.dumps({"success": result.success, "cached": result.cached, "sql": result.has("sql")}))
"""


def test_cache_in_s3_is_shared_with_another_process(
    s3_bucket: str, s3_options: dict[str, str], tmp_path: Path
) -> None:
    cache = SimulationCache("shared", fs=S3FileSystem(s3_bucket, prefix="cache/", **s3_options))
    assert simulate(Shoebox().to_idf(), None, design_day=True, cache=cache).success
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(_SECOND_PROCESS),
            s3_bucket,
            json.dumps(s3_options),
            str(tmp_path / "elsewhere"),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    report: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    assert report == {"success": True, "cached": True, "sql": True}
    assert (tmp_path / "elsewhere" / "eplusout.sql").is_file()


def test_local_cache_hit_is_uploaded_to_the_store(
    s3_fs: S3FileSystem, tmp_path: Path, engine_runs: list[list[str]]
) -> None:
    cache = SimulationCache(tmp_path / "cache")
    model = Shoebox().to_idf()
    assert simulate(model, None, design_day=True, cache=cache).success
    with count_requests(s3_fs) as counts:
        result = simulate(model, None, output_dir="from-cache", fs=s3_fs, design_day=True, cache=cache)
    assert len(engine_runs) == 1 and result.cached and result.success
    assert counts["PutObject"] >= 4 and counts["CopyObject"] == 0
    assert s3_fs.exists(f"from-cache/{STATUS_FILENAME}")
    assert result.sql.list_variables()


def test_an_entry_losing_files_falls_back_to_running(tmp_path: Path, engine_runs: list[list[str]]) -> None:
    cache = SimulationCache(tmp_path / "cache")
    model = Shoebox().to_idf()
    assert simulate(model, None, design_day=True, cache=cache).success
    for sql in (tmp_path / "cache").rglob("eplusout.sql"):
        sql.unlink()  # e.g. a clear() in another process, between reading the index and the files
    result = simulate(model, None, output_dir=tmp_path / "again", design_day=True, cache=cache)
    assert result.success and not result.cached and len(engine_runs) == 2
