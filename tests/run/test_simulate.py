"""simulate() with the real engine: outputs, status, failures, timeouts, start-up errors."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from epcloud.errors import (
    EnergyPlusNotFoundError,
    ModelFileNotFoundError,
    OutputDirNotEmptyError,
    ResultNotFoundError,
    VersionMismatchError,
    WeatherFileNotFoundError,
)
from epcloud.model import Shoebox, load_idf
from epcloud.results.simulation_result import SimulationResult
from epcloud.run.prepare import RunOptions, prepare_run
from epcloud.run.simulate import simulate
from epcloud.rundir.run_status import STATUS_FILENAME
from procs import engine_processes

HEATING = "Zone Ideal Loads Zone Total Heating Energy"


def _direct_sum(sql_path: Path, variable: str) -> float:
    """The variable's total straight from the SQLite tables, without epcloud's reader."""
    with sqlite3.connect(sql_path) as con:
        (total,) = con.execute(
            "SELECT SUM(rd.Value) FROM ReportData rd "
            "JOIN ReportDataDictionary d ON d.ReportDataDictionaryIndex = rd.ReportDataDictionaryIndex "
            "JOIN Time t ON t.TimeIndex = rd.TimeIndex "
            "WHERE d.Name = ? AND (t.WarmupFlag IS NULL OR t.WarmupFlag = 0)",
            (variable,),
        ).fetchone()
    return float(total)


@pytest.fixture(scope="module")
def shoebox_run(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    out = tmp_path_factory.mktemp("shoebox")
    return simulate(load_idf(Shoebox().to_idf()), None, output_dir=out / "run", design_day=True)


def test_shoebox_design_day_runs_and_records_status(shoebox_run: SimulationResult, energyplus) -> None:
    result = shoebox_run
    assert result.success, result.errors.summary()
    assert result.exit_code == 0
    assert result.runtime_seconds > 0
    status = json.loads((result.run_dir / STATUS_FILENAME).read_text())
    assert status["success"] is True
    assert status["energyplus_version"] == energyplus.version_string
    model_bytes = (result.run_dir / "in.idf").read_bytes()
    assert status["model_sha256"] == hashlib.sha256(model_bytes).hexdigest()
    assert status["weather_sha256"] is None
    assert result.sql_path is not None and result.err_path is not None


def test_timeseries_equals_direct_sqlite_query(shoebox_run: SimulationResult) -> None:
    series = shoebox_run.sql.get_timeseries(HEATING, key="*")
    ours = sum(sum(values) for values in series.data.values())
    assert ours > 0
    assert ours == pytest.approx(_direct_sum(shoebox_run.sql_path, HEATING), rel=1e-12)


def test_weather_hash_recorded(tmp_path: Path, chicago_epw: Path) -> None:
    result = simulate(load_idf(Shoebox().to_idf()), chicago_epw, output_dir=tmp_path, design_day=True)
    assert result.success
    assert result.status is not None
    assert result.status.weather_sha256 == hashlib.sha256(chicago_epw.read_bytes()).hexdigest()
    assert result.status.weather_name == chicago_epw.name


def test_better_walls_need_less_heating(tmp_path: Path) -> None:
    heating = {}
    for wall_r in (0.5, 5.0):
        doc = load_idf(Shoebox().to_idf())
        doc["Material:NoMass"]["Wall Insulation"].thermal_resistance = wall_r
        with simulate(doc, None, output_dir=tmp_path / f"r{wall_r}", design_day=True) as result:
            assert result.success
            heating[wall_r] = sum(result.sql.get_timeseries(HEATING).values)
    assert heating[5.0] < heating[0.5] * 0.9


def test_model_is_not_mutated(tmp_path: Path) -> None:
    text = Shoebox().to_idf().replace("Output:SQLite, SimpleAndTabular;", "")
    doc = load_idf(text)
    before = doc.to_idf()
    with simulate(doc, None, output_dir=tmp_path, design_day=True) as result:
        assert result.success
        assert "Output:SQLite" in (tmp_path / "in.idf").read_text()
    assert doc.to_idf() == before
    assert len(doc["Output:SQLite"]) == 0


def test_simple_sqlite_option_upgraded_to_tabular(tmp_path: Path) -> None:
    text = Shoebox().to_idf().replace("Output:SQLite, SimpleAndTabular;", "Output:SQLite, Simple;")
    with simulate(load_idf(text), None, output_dir=tmp_path, design_day=True) as result:
        assert result.sql.get_tabular_data(table_name="End Uses")


@pytest.mark.parametrize(
    ("sqlite", "kept_as_written"),
    [("", True), ("Output:SQLite, SimpleAndTabular;", True), ("Output:SQLite, Simple;", False)],
)
def test_model_file_runs_as_written(tmp_path: Path, sqlite: str, kept_as_written: bool) -> None:
    """A model file runs with the user's own text (comments kept); only a wrong Output:SQLite is rewritten."""
    text = "! my own comment\n" + Shoebox().to_idf().replace("Output:SQLite, SimpleAndTabular;", sqlite)
    path = tmp_path / "model.idf"
    path.write_text(text)
    plan = prepare_run(path, None, options=RunOptions(design_day=True))
    assert plan.model_text.startswith("! my own comment") is kept_as_written
    assert len(load_idf(plan.model_text)["Output:SQLite"]) == 1
    assert load_idf(plan.model_text)["Output:SQLite"].one().option_type == "SimpleAndTabular"
    assert plan.model_sha256 == hashlib.sha256(plan.model_text.encode()).hexdigest()
    if not sqlite:
        with simulate(path, None, output_dir=tmp_path / "run", design_day=True) as result:
            assert result.success
            assert (tmp_path / "run" / "in.idf").read_text() == plan.model_text
            assert result.sql.get_tabular_data(table_name="End Uses")


@pytest.mark.parametrize(
    "name",
    [
        "1ZoneUncontrolled.idf",
        "1ZoneEvapCooler.idf",
        "4ZoneWithShading_Simple_1.idf",
        "5ZoneAirCooled.idf",
        "5ZoneWarmestMultDDSizBypass.idf",
        "HVACTemplate-5ZonePurchAir.idf",
        "RefBldgMediumOfficeNew2004_Chicago.idf",
        "RefBldgSmallOfficeNew2004_Chicago.idf",
    ],
)
def test_shared_models_design_day(name: str, models_dir: Path, chicago_epw: Path, tmp_path: Path) -> None:
    with simulate(models_dir / name, chicago_epw, output_dir=tmp_path, design_day=True) as result:
        assert result.success, result.errors.summary()
        assert result.errors.severe_count == 0
        assert result.sql.list_environments()


def test_hvactemplate_needs_expand_objects(models_dir: Path, tmp_path: Path) -> None:
    model = models_dir / "HVACTemplate-5ZonePurchAir.idf"
    with simulate(model, None, output_dir=tmp_path / "x", design_day=True) as expanded:
        assert expanded.success
        assert expanded.status is not None and expanded.status.flags["expand_objects"] is True
    with simulate(model, None, output_dir=tmp_path / "nox", design_day=True, expand_objects=False) as raw:
        assert raw.status is not None and raw.status.flags["expand_objects"] is False
        # EnergyPlus refuses HVACTemplate objects that were not expanded.
        assert not raw.success
        assert any("ExpandObjects" in m.message for m in raw.errors.severe)
    assert (tmp_path / "x" / "eplusout.expidf").exists()


def test_expand_objects_skipped_when_not_needed(tmp_path: Path) -> None:
    with simulate(load_idf(Shoebox().to_idf()), None, output_dir=tmp_path, design_day=True) as result:
        assert result.status is not None and result.status.flags["expand_objects"] is False
        assert not (tmp_path / "eplusout.expidf").exists()


def test_fatal_error_returns_failed_result(tmp_path: Path) -> None:
    text = (
        Shoebox().to_idf().replace("Construction, Roof, Roof Membrane,", "Construction, Roof, No Such Layer,")
    )
    result = simulate(load_idf(text), None, output_dir=tmp_path, design_day=True)
    assert not result.success
    assert result.errors.fatal
    assert result.errors.severe_count >= 1
    status = json.loads((tmp_path / STATUS_FILENAME).read_text())
    assert status["success"] is False
    assert status["fatal_message"]
    reopened = SimulationResult.from_directory(tmp_path)
    assert not reopened.success
    assert reopened.errors.fatal


def test_timeout_kills_the_whole_process_tree(tmp_path: Path, chicago_epw: Path) -> None:
    result = simulate(
        load_idf(Shoebox(timesteps_per_hour=60).to_idf()),
        chicago_epw,
        output_dir=tmp_path,
        annual=True,
        timeout=0.5,
    )
    assert result.timed_out and not result.success
    assert result.exit_code is None
    assert result.status is not None and "timeout" in (result.status.fatal_message or "")
    assert engine_processes(tmp_path) == []


def test_temporary_run_dir_removed_on_close() -> None:
    result = simulate(load_idf(Shoebox().to_idf()), None, design_day=True)
    run_dir = result.run_dir
    assert result.success and run_dir.is_dir()
    result.sql.list_variables()
    result.close()
    assert not run_dir.exists()


def test_from_directory_reopens_with_same_values(shoebox_run: SimulationResult) -> None:
    with SimulationResult.from_directory(shoebox_run.run_dir) as reopened:
        assert reopened.success
        assert reopened.status == shoebox_run.status
        assert reopened.sql.get_timeseries(HEATING).values == shoebox_run.sql.get_timeseries(HEATING).values


def test_readvars_writes_csv(tmp_path: Path) -> None:
    with simulate(
        load_idf(Shoebox().to_idf()), None, output_dir=tmp_path, design_day=True, readvars=True
    ) as result:
        assert result.csv_path is not None
        header = result.csv_path.read_text().splitlines()[0]
        assert "Zone Mean Air Temperature" in header


def test_extra_args_and_prefix(tmp_path: Path) -> None:
    with simulate(
        load_idf(Shoebox().to_idf()),
        None,
        output_dir=tmp_path,
        design_day=True,
        output_prefix="box",
        extra_args=["--jobs", "1"],
    ) as result:
        assert result.success
        assert result.sql_path == tmp_path / "boxout.sql"
        assert result.status is not None and result.status.flags["extra_args"] == ["--jobs", "1"]


def test_a_folder_of_other_files_is_refused_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "eplusout.csv").write_text("old")
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(OutputDirNotEmptyError, match=r"not empty.*eplusout\.csv, notes\.txt.*reuse_dir=True"):
        simulate(load_idf(Shoebox().to_idf()), None, output_dir=tmp_path, design_day=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eplusout.csv", "notes.txt"]


def test_reuse_dir_keeps_other_files_out_of_the_outputs(tmp_path: Path) -> None:
    (tmp_path / "eplusout.csv").write_text("old")  # a stale engine output: removed all the same
    (tmp_path / "notes.txt").write_text("mine")
    model = load_idf(Shoebox().to_idf())
    with simulate(model, None, output_dir=tmp_path, design_day=True, reuse_dir=True) as result:
        assert result.success and result.status is not None
        assert "notes.txt" not in result.status.outputs and "eplusout.sql" in result.status.outputs
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert not (tmp_path / "eplusout.csv").exists()


def test_a_second_run_replaces_the_first_runs_files(tmp_path: Path) -> None:
    model = load_idf(Shoebox().to_idf())
    with simulate(model, None, output_dir=tmp_path, design_day=True, readvars=True) as first:
        assert first.status is not None and "eplusout.csv" in first.status.outputs
    (tmp_path / "eplusout.custom").write_text("written by the first run")
    status = json.loads((tmp_path / STATUS_FILENAME).read_text())
    status["outputs"]["eplusout.custom"] = 24
    (tmp_path / STATUS_FILENAME).write_text(json.dumps(status))
    with simulate(model, None, output_dir=tmp_path, design_day=True) as second:
        assert second.status is not None
        names = {p.name for p in tmp_path.iterdir()}
        assert not {"eplusout.csv", "eplusmtr.csv", "eplusout.custom"} & names
        assert set(second.status.outputs) == names - {STATUS_FILENAME}


# ------------------------------------------------------------------ start-up errors (raise, run nothing)


def test_missing_weather_raises_before_running(tmp_path: Path) -> None:
    with pytest.raises(WeatherFileNotFoundError, match=r"nope\.epw"):
        simulate(load_idf(Shoebox().to_idf()), tmp_path / "nope.epw", output_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_no_weather_for_a_weather_file_run(tmp_path: Path) -> None:
    with pytest.raises(WeatherFileNotFoundError, match="design_day=True"):
        simulate(load_idf(Shoebox().to_idf()), None, output_dir=tmp_path / "run")


def test_missing_model_file(tmp_path: Path, chicago_epw: Path) -> None:
    with pytest.raises(ModelFileNotFoundError, match=r"missing\.idf"):
        simulate(tmp_path / "missing.idf", chicago_epw)


def test_missing_engine_lists_places(tmp_path: Path) -> None:
    with pytest.raises(EnergyPlusNotFoundError, match="explicit path"):
        simulate(load_idf(Shoebox().to_idf()), None, design_day=True, energyplus=tmp_path / "no-eplus")


def test_version_mismatch(tmp_path: Path) -> None:
    old = Shoebox().to_idf().replace("Version, 25.2;", "Version, 9.6;")
    path = tmp_path / "old.idf"
    path.write_text(old)
    with pytest.raises(VersionMismatchError) as info:
        simulate(path, None, design_day=True)
    assert "9.6" in str(info.value) and "25.2" in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"annual": True, "design_day": True}, "exclude each other"),
        ({"design_day": True, "timeout": 0}, "timeout must be positive"),
        ({"design_day": True, "output_prefix": "../x"}, "output_prefix"),
    ],
)
def test_bad_run_options(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        simulate(load_idf(Shoebox().to_idf()), None, **kwargs)


def test_from_directory_errors(tmp_path: Path) -> None:
    with pytest.raises(ResultNotFoundError, match="not found"):
        SimulationResult.from_directory(tmp_path / "absent")
    with pytest.raises(ResultNotFoundError, match="holds no run"):
        SimulationResult.from_directory(tmp_path)


def test_corrupt_status_json(tmp_path: Path) -> None:
    from epcloud.errors import CorruptResultError

    (tmp_path / STATUS_FILENAME).write_text("{not json")
    with pytest.raises(CorruptResultError, match="not valid JSON"):
        SimulationResult.from_directory(tmp_path)
    (tmp_path / STATUS_FILENAME).write_text(json.dumps({"format": 99, "success": True}))
    with pytest.raises(CorruptResultError, match="newer epcloud"):
        SimulationResult.from_directory(tmp_path)


def test_failed_run_without_sql_explains(tmp_path: Path) -> None:
    from epcloud.results.errfile import ErrorReport

    result = SimulationResult(tmp_path, None, errors=ErrorReport.empty())
    assert not result.success and result.exit_code is None
    with pytest.raises(ResultNotFoundError, match="the run failed"):
        _ = result.sql
    assert result.errors.messages == ()


def test_a_result_is_read_only_and_built_from_its_status(shoebox_run: SimulationResult) -> None:
    status = shoebox_run.status
    assert status is not None
    assert (shoebox_run.success, shoebox_run.exit_code, shoebox_run.runtime_seconds) == (
        status.success,
        status.exit_code,
        status.runtime_seconds,
    )
    with pytest.raises(AttributeError, match="read-only: 'success'"):
        shoebox_run.success = False  # type: ignore[misc]
    with pytest.raises(AttributeError, match="read-only: 'stdout'"):
        shoebox_run.stdout = ""  # type: ignore[misc]
    shipped = shoebox_run.with_process_output("out", "err", cached=True)
    assert (shipped.stdout, shipped.cached, shipped.status) == ("out", True, status)
    assert shoebox_run.cached is False
