"""`preprocessor_timeout=`: ExpandObjects' own limit, with the real ExpandObjects and engine.

ExpandObjects runs as a step of its own before EnergyPlus. Past ``preprocessor_timeout`` its process tree
is killed and `PreprocessorTimeoutError` names the preprocessor and the limit; EnergyPlus never starts.
``timeout`` still covers preprocessing and simulation together.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from epcloud.batch import JobFailure, SimulationJob, simulate_batch
from epcloud.errors import PreprocessorTimeoutError
from epcloud.model import load_idf
from epcloud.results.simulation_result import SimulationResult
from epcloud.run.simulate import async_simulate, simulate

TEMPLATE = "HVACTemplate-5ZonePurchAir.idf"
LIMIT = ("--preprocessor-timeout", "0.0001")
SUFFIX_D = ("--output-suffix", "D")
ENGINE_FILES = ("eplusout.err", "eplusout.end", "eplusout.sql", "eplusout.expidf")


@pytest.fixture
def template(models_dir: Path) -> Path:
    return models_dir / TEMPLATE


@pytest.fixture
def slow_template(template: Path, tmp_path: Path) -> Path:
    """The template model with 3000 more ideal-loads zone templates: ExpandObjects needs over a second of
    CPU for it, so a limit of a fraction of a second always stops it mid-work."""
    text = template.read_text()
    start = text.index("  HVACTemplate:Zone:IdealLoadsAirSystem,")
    one = text[start : text.index(";", start) + 1]
    path = tmp_path / "slow-template.idf"
    path.write_text(text + "\n" + "\n".join(one.replace("SPACE1-1", f"EXTRA{n}") for n in range(3000)))
    return path


def _running_in(folder: Path) -> list[psutil.Process]:
    """Live processes whose working directory is ``folder`` (ExpandObjects runs in the run folder)."""
    found = []
    for proc in psutil.process_iter():
        try:
            if Path(proc.cwd()) == folder:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def test_too_small_a_limit_fails_clearly_and_starts_no_engine(template: Path, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    with pytest.raises(PreprocessorTimeoutError) as info:
        simulate(template, None, design_day=True, output_dir=folder, preprocessor_timeout=0.0001)
    message = str(info.value)
    assert "ExpandObjects" in message and "preprocessor_timeout=0.0001" in message and TEMPLATE in message
    assert "EnergyPlus was not started" in message and "timeout=3600" in message
    assert info.value.preprocessor == "ExpandObjects" and info.value.parameters == ("preprocessor_timeout",)
    assert isinstance(info.value, TimeoutError)
    # Nothing of the run is left: no engine output, no half-expanded model; a retry finds the folder ready.
    assert sorted(p.name for p in folder.iterdir()) == []
    retry = simulate(template, None, design_day=True, output_dir=folder, preprocessor_timeout=120)
    assert retry.success


def test_the_limit_kills_expandobjects(slow_template: Path, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    with pytest.raises(PreprocessorTimeoutError, match=r"preprocessor_timeout=0\.3 seconds"):
        simulate(slow_template, None, design_day=True, output_dir=folder, preprocessor_timeout=0.3)
    assert _running_in(folder) == []  # ExpandObjects had more than a second of work left
    assert not [name for name in ENGINE_FILES if (folder / name).exists()]


def test_the_whole_run_timeout_covers_expandobjects(slow_template: Path, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    result = simulate(slow_template, None, design_day=True, output_dir=folder, timeout=0.3)
    assert result.timed_out and not result.success and result.status is not None
    assert result.status.fatal_message == "ExpandObjects was stopped after the 0.3 s timeout"
    assert _running_in(folder) == []
    assert not [name for name in ENGINE_FILES if (folder / name).exists()]


def test_a_generous_limit_runs_as_before(template: Path, tmp_path: Path) -> None:
    plain = simulate(template, None, design_day=True, output_dir=tmp_path / "plain")
    limited = simulate(
        template, None, design_day=True, output_dir=tmp_path / "limited", preprocessor_timeout=120
    )
    for result in (plain, limited):
        assert result.success and result.status is not None
        names = set(result.files())
        # The expanded model and ExpandObjects' inputs: left as EnergyPlus's --expandobjects leaves them.
        assert "eplusout.expidf" in names and not names & {"expanded.idf", "Energy+.idd"}
        expanded = (result.run_dir / "eplusout.expidf").read_text().splitlines()
        assert not [line for line in expanded if line.lstrip().startswith("HVACTemplate:")]  # expanded
        assert "ZoneHVAC:IdealLoadsAirSystem," in "\n".join(expanded)
    assert limited.status is not None and limited.status.flags["preprocessor_timeout"] == 120
    assert limited.status.flags["expand_objects"] is True
    zones = sorted(z for (z,) in limited.sql.query("SELECT ZoneName FROM Zones"))
    assert zones == sorted(z for (z,) in plain.sql.query("SELECT ZoneName FROM Zones")) and len(zones) == 6


def test_a_model_needing_no_expansion_ignores_the_limit(models_dir: Path) -> None:
    result = simulate(
        models_dir / "1ZoneUncontrolled.idf", None, design_day=True, preprocessor_timeout=0.0001
    )
    assert result.success and result.status is not None
    assert result.status.flags["expand_objects"] is False


async def test_async_limit(template: Path, tmp_path: Path) -> None:
    with pytest.raises(PreprocessorTimeoutError, match="ExpandObjects did not finish"):
        await async_simulate(
            template, None, design_day=True, output_dir=tmp_path / "a", preprocessor_timeout=0.0001
        )
    assert list((tmp_path / "a").iterdir()) == []
    result = await async_simulate(template, None, design_day=True, preprocessor_timeout=120)
    assert result.success and result.has("sql")


def test_batch_job_with_too_small_a_limit_fails_alone(template: Path, tmp_path: Path) -> None:
    jobs = [
        SimulationJob(template, None, label="tight", design_day=True, preprocessor_timeout=0.0001),
        SimulationJob(template, None, label="ample", design_day=True, preprocessor_timeout=120),
    ]
    with simulate_batch(jobs, max_workers=2) as batch:
        tight, ample = batch.results
        assert isinstance(tight, JobFailure) and tight.error_type.endswith(".PreprocessorTimeoutError")
        assert "preprocessor_timeout=0.0001" in tight.message
        assert isinstance(ample, SimulationResult) and ample.success


def test_epjson_template_model_is_expanded(template: Path, tmp_path: Path) -> None:
    """ExpandObjects reads IDF only: an epJSON model is handed to it in IDF form."""
    path = tmp_path / "template.epJSON"
    path.write_text(load_idf(template.read_text()).to_epjson_text())
    result = simulate(path, None, design_day=True, output_dir=tmp_path / "run", preprocessor_timeout=120)
    assert result.success, result.errors.summary()
    names = set(result.files())
    assert "in.epJSON" in names and "in.idf" not in names and "eplusout.expidf" in names


def test_expandobjects_messages_reach_the_error_report(template: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.idf"
    broken.write_text(
        template.read_text().replace("HVACTemplate:Thermostat,", "HVACTemplate:Thermostat,\n  ,", 1)
    )
    result = simulate(broken, None, design_day=True, output_dir=tmp_path / "run")
    assert not result.success
    assert (result.run_dir / "eplusout.experr").is_file()
    assert any("Too many fields" in message.message for message in result.errors.severe)


def test_cli_names_its_own_flag(template: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "epcloud", "run", str(template), "--design-day", "-o", "out", *LIMIT],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "within --preprocessor-timeout 0.0001 seconds" in done.stderr
    assert "leave --preprocessor-timeout out so that --timeout 3600 covers the whole run" in done.stderr
    assert "preprocessor_timeout" not in done.stderr
    assert list((tmp_path / "out").iterdir()) == []


def test_cli_batch_reports_the_failed_job_in_cli_words(
    template: Path, models_dir: Path, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for model in (template, models_dir / "1ZoneUncontrolled.idf"):
        (models / model.name).write_text(model.read_text())
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "epcloud",
            "batch",
            "models",
            "--design-day",
            "-o",
            "out",
            "--output-suffix",
            "D",
            *list(LIMIT),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "COLUMNS": "400"},
    )
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    assert "1 failed" in done.stdout and "within --preprocessor-timeout 0.0001 seconds" in done.stdout
    assert (tmp_path / "out" / "1ZoneUncontrolled" / "eplus-table.htm").is_file()
    assert list((tmp_path / "out" / template.stem).iterdir()) == []
