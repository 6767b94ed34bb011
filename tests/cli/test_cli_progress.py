"""Progress on a terminal (a real pseudo-terminal), lines when piped, nothing but JSON with --json."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from cli_helpers import run_cli, run_in_pty
from rich.console import Console

from epcloud.progress import ProgressEvent, RichBatchProgress, RichRunProgress

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _plain(text: str) -> str:
    return _ANSI.sub("", text).replace("\r", "\n")


def test_run_on_a_terminal_shows_a_bar_with_eta(shoebox: Path, tmp_path: Path) -> None:
    ran = run_in_pty("run", str(shoebox), "-w", "chicago", "--annual", "-o", "r", cwd=tmp_path)
    screen = _plain(ran.out)
    assert ran.code == 0, screen
    assert "1. ANNUAL" in screen and "eta" in screen and "━" in screen
    assert re.search(r"run period \d\d/\d\d/2017", screen), screen
    # then the headline results
    assert re.search(r"EUI\s+\d+\.\d kWh/m² over 80 m²", screen), screen
    assert "Site energy" in screen and "largest end uses" in screen and "Heating" in screen


def test_run_piped_prints_one_line_per_environment(shoebox: Path, tmp_path: Path) -> None:
    ran = run_cli("run", str(shoebox), "-w", "chicago", "--design-day", "-o", "r", cwd=tmp_path)
    assert ran.code == 0, ran.err
    environments = [line for line in ran.err.splitlines() if line.startswith("environment ")]
    assert environments == [
        "environment 1: CHICAGO ANN HTG 99.6% CONDNS DB (design day, from 01/21)",
        "environment 2: CHICAGO ANN CLG 1% CONDNS DB=>MWB (design day, from 07/21)",
    ]
    assert "━" not in ran.err and "\x1b[" not in ran.err
    # progress on stderr, the summary (with where the outputs are) on stdout
    assert "environment" not in ran.out
    assert f"Outputs {tmp_path / 'r'}" in ran.out


def test_run_json_on_a_terminal_is_only_json(shoebox: Path, tmp_path: Path) -> None:
    ran = run_in_pty("run", str(shoebox), "-w", "chicago", "--annual", "-o", "r", "--json", cwd=tmp_path)
    assert ran.code == 0, ran.out
    data = json.loads(ran.out.replace("\r\n", "\n"))
    assert data["success"] is True and data["output_dir"] == str(tmp_path / "r")
    results = data["results"]
    assert results["floor_area_m2"] == 80.0
    # the headline figures agree with each other: EUI x area = site energy; end uses add up to it
    assert abs(results["eui_kwh_m2"] * 80.0 - results["site_energy_kwh"]) < 0.01 * results["site_energy_kwh"]
    total = sum(use["kwh"] for use in results["end_uses_kwh"])
    assert abs(total - results["site_energy_kwh"]) < 0.01 * results["site_energy_kwh"]


def test_batch_on_a_terminal_counts_running_jobs_right(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.csv"
    sweep.write_text("wall_r\n1\n2\n3\n")
    ran = run_in_pty("batch", str(sweep), "-w", "chicago", "--annual", "-j", "1", "-o", "b", cwd=tmp_path)
    screen = _plain(ran.out)
    assert ran.code == 0, screen
    assert "3/3" in screen and "eta" in screen and "3 succeeded, 0 failed" in screen
    running = [int(n) for n in re.findall(r"(\d+) running", screen)]
    assert running and max(running) == 1, screen  # -j 1: never more than one running
    assert f"outputs in {tmp_path / 'b'}" in screen


def test_batch_piped_and_json(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.json"
    sweep.write_text(json.dumps([{"wall_r": 1.0, "label": "thin"}, {"wall_r": 4.0, "label": "thick"}]))
    piped = run_cli("batch", str(sweep), "--design-day", "-j", "1", "-o", "b", cwd=tmp_path)
    assert piped.code == 0, piped.err
    done = [line for line in piped.err.splitlines() if line.startswith("[")]
    assert done == ["[1/2] thin succeeded", "[2/2] thick succeeded"]
    as_json = run_in_pty("batch", str(sweep), "--design-day", "-o", "j", "--json", cwd=tmp_path)
    lines = [line for line in as_json.out.replace("\r\n", "\n").splitlines() if line]
    rows = [json.loads(line) for line in lines]  # JSON Lines, and nothing else on the terminal
    assert [row["label"] for row in rows] == ["thin", "thick"] and all(row["success"] for row in rows)


def test_worker_and_study_run_show_their_jobs(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.csv"
    sweep.write_text("wall_r\n1\n2\n3\n4\n")
    assert (
        run_cli("study", "create", "st", str(sweep), "--design-day", "--shards", "2", cwd=tmp_path).code == 0
    )
    worker = run_in_pty("worker", "st", "--index", "0", "-j", "1", cwd=tmp_path)
    screen = _plain(worker.out)
    assert worker.code == 0, screen
    assert "2/2" in screen and "eta" in screen and "2 succeeded, 0 failed, 0 already done" in screen
    piped = run_cli("study", "run", "st", "-j", "1", cwd=tmp_path)  # the other shard's two jobs
    assert piped.code == 0, piped.err
    assert [line.split()[0] for line in piped.err.splitlines() if line.startswith("[")] == ["[1/2]", "[2/2]"]
    assert "2 succeeded, 0 failed, 2 already done" in piped.out and "results in" in piped.out
    as_json = run_cli("study", "run", "st", "--json", cwd=tmp_path)
    assert json.loads(as_json.out)["skipped"] == 4 and as_json.err == ""


def test_batch_display_drops_finished_jobs() -> None:
    """The bug behind `4/4 … 4 running (done)`: a job's `done` event re-added it as running."""
    console = Console(file=io.StringIO(), force_terminal=False, width=100)
    display = RichBatchProgress(2, console)
    with display:
        display.on_event(ProgressEvent("simulating", "Starting", "ANNUAL", 0.0, job_index=0, label="a"))
        display.on_event(ProgressEvent("simulating", "Starting", "ANNUAL", 0.0, job_index=1, label="b"))
        assert display.running == 2
        display.job_done(0, True)
        display.on_event(ProgressEvent("done", "succeeded", None, 100.0, job_index=0, label="a"))
        display.on_event(ProgressEvent("reporting", "Writing", "ANNUAL", None, job_index=0, label="a"))
        assert display.running == 1
        display.job_done(1, False)
        display.on_event(ProgressEvent("done", "failed", None, 100.0, job_index=1, label="b"))
        assert display.running == 0
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "[1/2] a succeeded" in text and "[2/2] b failed" in text


def test_run_display_names_each_environment_once() -> None:
    console = Console(file=io.StringIO(), force_terminal=False, width=100)
    display = RichRunProgress(console)
    with display:
        for day in ("01/01/2017", "03/01/2017", "07/01/2017"):
            verb = "Starting" if day == "01/01/2017" else "Continuing"
            display.on_event(ProgressEvent("simulating", f"{verb} at {day}", "ANNUAL", 10.0, day=day))
        display.on_event(ProgressEvent("finished", "EnergyPlus Run Time=1s", "ANNUAL", 100.0))
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines == [
        "environment 1: ANNUAL (run period, from 01/01/2017)",
        "EnergyPlus finished: EnergyPlus Run Time=1s",
    ]


def test_warnings_group_by_message_whatever_the_time() -> None:
    from epcloud.cli.headline import grouped_warnings
    from epcloud.results.errfile import ErrorReport

    hvac = "SimHVAC: Maximum iterations (25) exceeded for all HVAC loops"
    text = "\n".join(
        [
            "Program Version,EnergyPlus, Version 25.2.0-cf7368216c, YMD=2026.12.01 21:00,",
            f"   ** Warning ** {hvac}, at ANNUAL, 11/17 08:30 - 08:40",
            "   **   ~~~   ** Loop pressure did not converge",
            f"   ** Warning ** {hvac}, at ANNUAL, 12/01 09:00 - 09:10",
            "   ** Warning ** CheckUsedConstructions: There are 2 nominally unused constructions in input.",
            "   ************* EnergyPlus Completed Successfully-- 3 Warning; 0 Severe Errors; "
            "Elapsed Time=00hr 00min  1.00sec",
        ]
    )
    assert grouped_warnings(ErrorReport.from_text(text)) == [
        (hvac, 2),
        ("CheckUsedConstructions: There are 2 nominally unused constructions in input.", 1),
    ]
