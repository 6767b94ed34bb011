"""Sweeps with the real engine: an 8-job grid created with the CLI on the S3 test server, run by two worker
processes and collected with its parameter columns; an annual LHS sweep of the shoebox ranked by
sensitivity; the pilot run; `epcloud batch --sweep`; `epcloud study create --jobs`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from study_helpers import start_worker

from epcloud.batch import SimulationJob
from epcloud.errors import PilotError
from epcloud.storage import LocalFileSystem, S3FileSystem
from epcloud.study import Study, Sweep

GOLDEN = "USA_CO_Golden-NREL.724666_TMY3.epw"


def _cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "epcloud", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _grid_file(folder: Path, model: Path, weathers: list[Path]) -> Path:
    sweep = {
        "model": str(model),
        "weather": [str(w) for w in weathers],
        "design_day": True,
        "parameters": {
            "wall_r": {
                "object": "Material:NoMass",
                "name": "R13LAYER",
                "field": "thermal_resistance",
                "values": [0.5, 6.0],
            },
            "roof_r": {
                "object": "Material:NoMass",
                "name": "R31LAYER",
                "field": "thermal_resistance",
                "values": [1.0, 8.0],
            },
        },
        "sampling": {"method": "grid"},
    }
    path = folder / "grid.json"
    path.write_text(json.dumps(sweep))
    return path


@pytest.mark.slow
def test_grid_created_by_cli_run_by_workers_collected_with_parameters(
    s3_bucket: str,
    s3_options: dict[str, str],
    worker_env: dict[str, str],
    models_dir: Path,
    chicago_epw: Path,
    tmp_path: Path,
) -> None:
    weathers = [chicago_epw, chicago_epw.parent / GOLDEN]
    sweep_file = _grid_file(tmp_path, models_dir / "1ZoneUncontrolled.idf", weathers)
    url = f"s3://{s3_bucket}/grid"
    created = _cli(
        "study", "create", url, "--sweep", str(sweep_file), "--shards", "2",
        "--variable", "Zone Mean Air Temperature", "--variable", "Zone Air Relative Humidity",
        env=worker_env,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    fs = S3FileSystem(s3_bucket, "grid/", **s3_options)
    assert len(fs.list_files("inputs/models")) == 1  # field-only sweep: the base model once
    assert len(fs.list_files("inputs/weather")) == 2

    workers = [
        start_worker(
            url, worker_env, "--index", str(i), "--count", "2", "-j", "1", log=tmp_path / f"w{i}.log"
        )
        for i in range(2)
    ]
    for i, worker in enumerate(workers):
        assert worker.wait(timeout=240) == 0, (tmp_path / f"w{i}.log").read_text()

    collected = _cli("collect", url, "--json", env=worker_env)
    assert collected.returncode == 0, collected.stderr
    status = _cli("status", url, "--json", env=worker_env)
    assert json.loads(status.stdout)["parameters"] == ["wall_r", "roof_r"]
    shown = _cli("status", url, env=worker_env)
    assert (
        "parameters (grid, each with 2 weather files): wall_r [0.5, 6.0]; roof_r [1.0, 8.0]" in shown.stdout
    )
    study = Study.open(fs)
    tables = study.collect()
    jobs = tables.jobs
    assert len(jobs) == 8 and set(jobs["status"]) == {"succeeded"}
    assert str(jobs["wall_r"].dtype) == "Float64" and str(jobs["weather"].dtype) == "string"
    assert sorted(zip(jobs["wall_r"], jobs["roof_r"], jobs["weather"], strict=True)) == sorted(
        (w, r, p.name) for w in (0.5, 6.0) for r in (1.0, 8.0) for p in weathers
    )
    series = tables.timeseries
    assert series is not None
    assert {"Zone Mean Air Temperature", "Zone Air Relative Humidity"} <= set(series["variable"])
    assert set(series["job_id"]) == set(jobs["job_id"])
    # the worker built each variant: wall insulation changes the zone temperature
    temps = series[series["variable"] == "Zone Mean Air Temperature"].merge(jobs, on="job_id")
    chicago = temps[(temps["weather"] == chicago_epw.name) & (temps["roof_r"] == 1.0)]
    by_wall = chicago.groupby("wall_r")["value"].mean()
    assert abs(by_wall[0.5] - by_wall[6.0]) > 0.1


@pytest.mark.slow
def test_annual_lhs_sweep_of_the_shoebox_ranks_lighting_first(chicago_epw: Path, tmp_path: Path) -> None:
    sweep_file = tmp_path / "shoebox.yaml"
    sweep_file.write_text(
        f"""
model: {{shoebox: {{width: 8.0, depth: 6.0}}}}
weather: {chicago_epw}
annual: true
parameters:
  lighting_w_m2: {{low: 4.0, high: 14.0}}
  wall_r: {{low: 0.5, high: 5.0}}
  shgc:
    object: WindowMaterial:SimpleGlazingSystem
    name: Glazing
    field: solar_heat_gain_coefficient
    low: 0.25
    high: 0.6
sampling: {{method: lhs, samples: 5, seed: 11}}
"""
    )
    store = tmp_path / "study"
    created = _cli("study", "create", str(store), "--sweep", str(sweep_file))
    assert created.returncode == 0, created.stderr
    study = Study.open(LocalFileSystem(store))
    assert study.run(max_workers=2).succeeded == 5
    tables = study.collect()
    target = "end_use/Interior Lighting/Electricity [GJ]"
    ranked = tables.sensitivity(target)
    assert ranked["parameter"].iloc[0] == "lighting_w_m2"
    assert set(ranked["method"]) == {"regression"}
    assert ranked.set_index("parameter").loc["lighting_w_m2", "spearman"] == pytest.approx(1.0)
    shown = _cli("sensitivity", str(store), "--target", target)
    assert shown.returncode == 0, shown.stderr
    assert "standardised regression coefficients" in shown.stdout and "lighting_w_m2" in shown.stdout
    as_json = [
        json.loads(line)
        for line in _cli("sensitivity", str(store), "--target", target, "--json").stdout.splitlines()
    ]
    assert as_json[0]["parameter"] == "lighting_w_m2"
    wrong = _cli("sensitivity", str(store), "--target", "energy")
    assert wrong.returncode == 2 and "no column 'energy'" in wrong.stderr and "Traceback" not in wrong.stderr


@pytest.mark.slow
def test_pilot_refuses_a_variable_energyplus_does_not_report(models_dir: Path, tmp_path: Path) -> None:
    sweep = Sweep(
        models_dir / "1ZoneUncontrolled.idf",
        {
            "wall_r": {
                "object": "Material:NoMass",
                "name": "R13LAYER",
                "field": "thermal_resistance",
                "values": [1.0, 2.0],
            }
        },
        design_day=True,
    )
    fs = LocalFileSystem(tmp_path / "study")
    with pytest.raises(
        PilotError, match=r"job 's00000 wall_r=1'.*does not report \['Zone Imaginary Temperature'\]"
    ):
        Study.create(fs, sweep, variables=["Zone Imaginary Temperature"], pilot=True)
    assert fs.list_files("") == []
    study = Study.create(fs, sweep, variables=["Zone Air Relative Humidity"], pilot=True)
    assert study.info.job_count == 2


@pytest.mark.slow
def test_batch_sweep_and_study_create_jobs_json(models_dir: Path, chicago_epw: Path, tmp_path: Path) -> None:
    sweep_file = tmp_path / "s.yaml"
    sweep_file.write_text(
        f"model: {models_dir / '1ZoneUncontrolled.idf'}\nweather: {chicago_epw}\ndesign_day: true\n"
        "parameters:\n  wall_r: {object: Material:NoMass, name: R13LAYER, field: thermal_resistance, "
        "values: [1.0, 3.0]}\n"
    )
    refused = _cli(
        "study", "create", str(tmp_path / "piloted"), "--sweep", str(sweep_file), "--pilot",
        "--variable", "Zone Imaginary Temperature",
    )  # fmt: skip
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "does not report ['Zone Imaginary Temperature']" in refused.stderr
    assert not (tmp_path / "piloted").exists() or not any((tmp_path / "piloted").iterdir())
    out = tmp_path / "batch"
    ran = _cli("batch", "--sweep", str(sweep_file), "-o", str(out), "--json")
    assert ran.returncode == 0, ran.stderr
    rows = [json.loads(line) for line in ran.stdout.splitlines()]
    assert [r["success"] for r in rows] == [True, True]
    assert sorted(p.name for p in out.iterdir()) == ["s00000", "s00001"]
    mixed = _cli("batch", "--sweep", str(sweep_file), "-w", str(chicago_epw), "-o", str(out))
    assert mixed.returncode == 2 and "-w is set by the sweep file" in mixed.stderr
    as_source = _cli("batch", str(sweep_file), "-o", str(out))
    assert as_source.returncode == 2 and "--sweep" in as_source.stderr

    jobs_file = tmp_path / "jobs.json"
    jobs = [
        SimulationJob(models_dir / "1ZoneUncontrolled.idf", chicago_epw, label=f"j{i}", design_day=True)
        for i in range(2)
    ]
    jobs_file.write_text(json.dumps([job.to_dict() for job in jobs]))
    store = tmp_path / "from-json"
    created = _cli("study", "create", str(store), "--jobs", str(jobs_file))
    assert created.returncode == 0, created.stderr
    study = Study.open(LocalFileSystem(store))
    assert [e.label for e in study.entries()] == ["j0", "j1"]
    assert study.run(max_workers=2).succeeded == 2
    jobs_file.write_text(json.dumps([{"model": "x", "colour": 1}]))
    bad = _cli("study", "create", str(tmp_path / "bad"), "--jobs", str(jobs_file))
    assert bad.returncode != 0 and "job 0: unknown job fields ['colour']" in bad.stderr
    assert not (tmp_path / "bad").exists() or not any((tmp_path / "bad").iterdir())


@pytest.mark.slow
def test_a_variable_energyplus_does_not_report_is_flagged_by_job(
    models_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sweep = Sweep(
        models_dir / "1ZoneUncontrolled.idf",
        {
            "wall_r": {
                "object": "Material:NoMass",
                "name": "R13LAYER",
                "field": "thermal_resistance",
                "values": [2.0],
            }
        },
        design_day=True,
    )
    study = Study.create(LocalFileSystem(tmp_path / "study"), sweep, variables=["Zone Imaginary Temperature"])
    with caplog.at_level("WARNING", logger="epcloud.study.attempt"):
        assert study.run(max_workers=1).succeeded == 1
    # The worker says so as soon as the job has run, naming the job, its label and the variable ...
    assert "job-000000 (s00000 wall_r=2): EnergyPlus reported no Zone Imaginary Temperature" in caplog.text
    # ... and `status` says so before any collect.
    assert study.status().missing_variables == ["job-000000"]
    shown = _cli("study", "status", str(tmp_path / "study"))
    assert shown.returncode == 0, shown.stderr
    assert "1 job lacks requested series, e.g. job-000000 (s00000 wall_r=2)" in shown.stderr
    assert "Zone Imaginary Temperature" in shown.stderr
    as_json = json.loads(_cli("study", "status", str(tmp_path / "study"), "--json").stdout)
    assert as_json["missing_variables"]["jobs"] == 1
    assert as_json["missing_variables"]["names"] == ["Zone Imaginary Temperature"]
    caplog.clear()
    with caplog.at_level("WARNING", logger="epcloud.study.collect"):
        jobs = study.collect().jobs
    assert list(jobs["missing_variables"]) == ["Zone Imaginary Temperature"]
    assert (
        "job-000000 (s00000 wall_r=2): EnergyPlus did not report the requested Zone Imaginary Temperature"
        in caplog.text
    )
