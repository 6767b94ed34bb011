"""`output_suffix=`: EnergyPlus's three output namings, run by the real engine and read back everywhere.

L (legacy) writes eplusout.sql / eplustbl.htm, C eplus.sql / eplusTable.htm, D eplus.sql / eplus-table.htm.
Each run records its naming in run-status.json; runs stored before that field existed still read.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from epcloud.batch import SimulationJob, simulate_batch
from epcloud.errors import CorruptResultError
from epcloud.model import Shoebox
from epcloud.results.simulation_result import SimulationResult
from epcloud.run.cache import SimulationCache
from epcloud.run.simulate import async_simulate, simulate
from epcloud.rundir.naming import guess_naming, output_name, translate_pattern
from epcloud.rundir.run_status import STATUS_FILENAME, RunStatus
from epcloud.storage import S3FileSystem
from epcloud.study.summary import summarize

MODEL = Shoebox().to_idf()
# EnergyPlus's names for the SQL, error file and tables (the shoebox writes them as CSV) by naming.
NAMES = {
    "L": ("eplusout.sql", "eplusout.err", "eplustbl.csv"),
    "C": ("eplus.sql", "eplus.err", "eplusTable.csv"),
    "D": ("eplus.sql", "eplus.err", "eplus-table.csv"),
}


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EPCLOUD_CACHE_DIR", str(tmp_path / "epcloud-cache"))


def _keys(client: Any, bucket: str, prefix: str) -> list[str]:
    listing = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(obj["Key"][len(prefix) :] for obj in listing.get("Contents", []))


def _reads(result: SimulationResult) -> float:
    """Check the result's SQL, error report and tabular reports read; the mean zone temperature."""
    assert result.success, result.errors.summary()
    assert result.errors.completed_successfully and not result.errors.fatal  # the .err was read
    assert [env.type for env in result.sql.list_environments()] == ["DesignDay", "DesignDay"]
    assert "AnnualBuildingUtilityPerformanceSummary" in result.sql.list_reports()
    series = result.sql.get_timeseries("Zone Mean Air Temperature", "*")
    values = [v for key in series.keys for v in series.data[key]]
    assert len(series.timestamps) > 0 and values
    return sum(values) / len(values)


@pytest.mark.parametrize("suffix", ["C", "D"])
def test_suffixed_run_reads_like_a_legacy_one(suffix: str, tmp_path: Path) -> None:
    legacy = simulate(MODEL, None, design_day=True, output_dir=tmp_path / "L")
    result = simulate(MODEL, None, design_day=True, output_dir=tmp_path / suffix, output_suffix=suffix)
    sql, err, tables = NAMES[suffix]
    names = result.files()
    assert {sql, err, tables} <= set(names)
    assert not [n for n in names if n.startswith("eplusout") or n.startswith("eplustbl")]
    assert result.output_suffix == suffix and result.status is not None
    assert result.status.output_suffix == suffix
    assert result.sql_path == tmp_path / suffix / sql and result.err_path == tmp_path / suffix / err
    assert result.path("table_csv") == tmp_path / suffix / tables and result.has("table_csv")
    assert _reads(result) == pytest.approx(_reads(legacy))  # the same run, only the names differ
    # The study's per-job summary reads it too.
    summary = summarize(SimpleNamespace(id="j", index=0), result)  # type: ignore[arg-type]
    assert summary["status"] == "succeeded" and summary["run_period"] == "design days"
    assert summary["values"] == summarize(SimpleNamespace(id="j", index=0), legacy)["values"]  # type: ignore[arg-type]
    # Re-opened from its folder: the naming comes from the status...
    reopened = SimulationResult.from_directory(tmp_path / suffix)
    assert reopened.output_suffix == suffix and reopened.sql_path == result.sql_path
    # ...and, for a folder EnergyPlus wrote without epcloud, from the file names.
    (tmp_path / suffix / STATUS_FILENAME).unlink()
    bare = SimulationResult.from_directory(tmp_path / suffix)
    assert bare.status is None and bare.output_suffix == suffix and bare.success
    assert bare.sql_path == result.sql_path


def test_status_format_and_old_status_files(tmp_path: Path) -> None:
    simulate(MODEL, None, design_day=True, output_dir=tmp_path / "L")
    dash = simulate(MODEL, None, design_day=True, output_dir=tmp_path / "D", output_suffix="d")
    data = json.loads((tmp_path / "L" / STATUS_FILENAME).read_text())
    assert data["format"] == 1 and data["output_suffix"] == "L"  # older epcloud versions still read it
    assert dash.output_suffix == "D"  # lower case accepted, as EnergyPlus does
    assert json.loads((tmp_path / "D" / STATUS_FILENAME).read_text())["format"] == 2
    # A status written before the naming was recorded: legacy names.
    del data["output_suffix"]
    (tmp_path / "L" / STATUS_FILENAME).write_text(json.dumps(data))
    old = SimulationResult.from_directory(tmp_path / "L")
    assert old.output_suffix == "L" and old.sql_path == tmp_path / "L" / "eplusout.sql"
    _reads(old)
    data["output_suffix"] = "X"
    with pytest.raises(CorruptResultError, match="output_suffix 'X' is not L, C or D"):
        RunStatus.from_json(json.dumps(data))


def test_stored_suffixed_run_reads_back(
    s3_fs: S3FileSystem, s3_client: Any, s3_bucket: str, s3_options: dict, tmp_path: Path
) -> None:
    result = simulate(MODEL, None, design_day=True, output_dir="runs/c", fs=s3_fs, output_suffix="C")
    keys = _keys(s3_client, s3_bucket, "test/runs/c/")
    # The default upload set, in this naming: SQL, .err, .eio, the tables, the model and the status.
    assert keys == sorted(
        ["eplus.sql", "eplus.err", "eplus.eio", "eplusTable.csv", "in.idf", STATUS_FILENAME]
    )
    assert result.output_suffix == "C" and result.sql_path is not None
    fresh = S3FileSystem(s3_bucket, prefix="test/", **s3_options)
    reopened = SimulationResult.from_directory("runs/c", fs=fresh)
    assert reopened.output_suffix == "C" and not reopened.has("csv")
    _reads(reopened)
    # A local suffixed run sent afterwards with `upload()` goes with its own names too.
    local = simulate(MODEL, None, design_day=True, output_dir=tmp_path / "d", output_suffix="D")
    sent = local.upload(s3_fs, "runs/d")
    assert "eplus-table.csv" in _keys(s3_client, s3_bucket, "test/runs/d/")
    _reads(sent)


async def test_async_stored_suffixed_run_reads_back(async_s3_fs: Any, s3_client: Any, s3_bucket: str) -> None:
    result = await async_simulate(
        MODEL, None, design_day=True, output_dir="a/d", fs=async_s3_fs, output_suffix="D"
    )
    assert "eplus-table.csv" in _keys(s3_client, s3_bucket, "test/a/d/")
    reopened = await SimulationResult.async_from_directory("a/d", async_s3_fs)
    await reopened.async_fetch("sql", "err", "table_csv")
    assert reopened.output_suffix == result.output_suffix == "D"
    tables = reopened.path("table_csv")
    assert tables is not None and tables.name == "eplus-table.csv"
    _reads(reopened)


def test_cache_keys_include_the_naming(tmp_path: Path) -> None:
    cache = SimulationCache(tmp_path / "cache")
    first = simulate(MODEL, None, design_day=True, output_dir=tmp_path / "1", cache=cache, output_suffix="C")
    legacy = simulate(MODEL, None, design_day=True, output_dir=tmp_path / "2", cache=cache)
    assert not first.cached and not legacy.cached and len(cache) == 2  # not taken for one another
    assert legacy.sql_path == tmp_path / "2" / "eplusout.sql"
    again = simulate(MODEL, None, design_day=True, output_dir=tmp_path / "3", cache=cache, output_suffix="C")
    assert again.cached and again.output_suffix == "C"
    assert again.sql_path == tmp_path / "3" / "eplus.sql"
    _reads(again)


def test_reused_folder_holds_only_the_new_naming(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    simulate(MODEL, None, design_day=True, output_dir=folder, output_suffix="C")
    assert (folder / "eplusTable.csv").is_file()
    result = simulate(MODEL, None, design_day=True, output_dir=folder)
    left = sorted(p.name for p in folder.iterdir())
    assert "eplusTable.csv" not in left and "eplus.sql" not in left and "eplus.err" not in left
    assert "eplusout.sql" in left and result.status is not None
    assert not [n for n in result.status.outputs if n.startswith("eplus.") or "Table" in n]
    simulate(MODEL, None, design_day=True, output_dir=folder, output_suffix="D")
    assert not [p.name for p in folder.iterdir() if p.name.startswith(("eplusout", "eplustbl"))]


def test_job_carries_both_options(tmp_path: Path) -> None:
    job = SimulationJob(MODEL, None, design_day=True, output_suffix="c", preprocessor_timeout=30)
    assert job.output_suffix == "C" and job.options().preprocessor_timeout == 30
    data = job.to_dict()
    assert data["output_suffix"] == "C" and data["preprocessor_timeout"] == 30
    assert SimulationJob.from_dict(json.loads(json.dumps(data))) == job
    assert pickle.loads(pickle.dumps(job)).output_suffix == "C"
    with pytest.raises(ValueError, match=r"output_suffix must be 'L'.*got 'X'"):
        SimulationJob(MODEL, None, design_day=True, output_suffix="X")
    with pytest.raises(ValueError, match="preprocessor_timeout must be positive"):
        SimulationJob(MODEL, None, design_day=True, preprocessor_timeout=0)
    jobs = [
        SimulationJob(MODEL, None, design_day=True, output_dir=tmp_path / s, output_suffix=s) for s in "CD"
    ]
    with simulate_batch(jobs, max_workers=2) as batch:
        assert batch.all_succeeded
        for job, result in zip(jobs, batch.results, strict=True):
            assert isinstance(result, SimulationResult)
            assert result.sql_path == Path(str(job.output_dir)) / "eplus.sql"
            tables = result.path("table_csv")
            assert tables is not None and tables.name == NAMES[job.output_suffix][2]


def test_names_of_each_naming() -> None:
    assert [output_name("meter_csv", "x", s) for s in "LCD"] == ["xmtr.csv", "xMeter.csv", "x-meter.csv"]
    assert [translate_pattern("{p}tbl.*", s) for s in "LCD"] == ["{p}tbl.*", "{p}Table.*", "{p}-table.*"]
    assert translate_pattern("*.sql", "C") == "*.sql" and translate_pattern("{p}out.sql", "D") == "{p}.sql"
    assert guess_naming(["run.err", "runTable.htm", "runSqlite.err"]) == ("run", "C")
    assert guess_naming(["run.err", "run-table.htm", "run-sqlite.err"]) == ("run", "D")
    assert guess_naming(["abcout.err", "sqlite.err"]) == ("abc", "L")


def test_study_manifest_writes_the_new_options_only_when_set(tmp_path: Path) -> None:
    """A study that uses neither option has the manifest older workers read; one that does carries them."""
    from epcloud import Study
    from epcloud.storage import LocalFileSystem

    jobs = [
        SimulationJob(MODEL, None, label="plain", design_day=True),
        SimulationJob(MODEL, None, label="named", design_day=True, output_suffix="C", preprocessor_timeout=9),
    ]
    plain, named = Study.create(LocalFileSystem(tmp_path / "study"), jobs).entries()
    assert "output_suffix" not in plain.flags and "preprocessor_timeout" not in plain.flags
    assert named.flags["output_suffix"] == "C" and named.flags["preprocessor_timeout"] == 9
