"""Progress events from EnergyPlus's console lines, safe callbacks, and simulate(on_progress=...)."""

from __future__ import annotations

import logging

import pytest

from epcloud.model import Shoebox
from epcloud.progress import ProgressEvent, ProgressParser, SafeCallback
from epcloud.run.simulate import simulate

ANNUAL_LINES = [
    "EnergyPlus Starting",
    "EnergyPlus, Version 25.2.0-cf7368216c, YMD=2026.11.25 12:10",
    "Initializing Simulation",
    "Warming up {1}",
    "Starting Simulation at 01/01/2017 for ANNUAL",
    "Updating Shadowing Calculations, Start Date=01/21/2017",
    "Continuing Simulation at 07/02/2017 for ANNUAL",
    "Writing final SQL reports",
    "EnergyPlus Run Time=00hr 00min  1.59sec",
]


def test_parser_reads_phases_environments_and_percent() -> None:
    parser = ProgressParser(job_index=3, label="annual")
    events = [e for e in map(parser.feed, ANNUAL_LINES) if e is not None]
    assert [e.phase for e in events] == [
        "starting",
        "initializing",
        "warmup",
        "simulating",
        "simulating",
        "reporting",
        "finished",
    ]
    starting, midyear = events[3], events[4]
    assert starting.environment == "ANNUAL" and starting.percent == 0.0
    assert midyear.percent == pytest.approx(100 * 182 / 365, abs=0.1)
    assert events[-1].percent == 100.0 and events[-1].environment == "ANNUAL"
    assert {(e.job_index, e.label) for e in events} == {(3, "annual")}
    assert parser.feed("Updating Shadowing Calculations, Start Date=01/21/2017") is None


def test_safe_callback_reports_once(caplog: pytest.LogCaptureFixture) -> None:
    def broken(event: ProgressEvent) -> None:
        raise ValueError("boom")

    safe = SafeCallback(broken)
    with caplog.at_level(logging.ERROR, logger="epcloud.progress"):
        for _ in range(3):
            safe(ProgressEvent("starting", "EnergyPlus Starting"))
    assert len(caplog.records) == 1 and "boom" in caplog.text


def test_simulate_reports_progress() -> None:
    events: list[ProgressEvent] = []
    with simulate(Shoebox().to_idf(), None, design_day=True, on_progress=events.append) as result:
        assert result.success
    phases = [e.phase for e in events]
    assert phases[0] == "starting" and phases[-1] == "finished"
    environments = {e.environment for e in events if e.phase == "simulating"}
    assert len(environments) == 2 and all("CHICAGO" in str(env) for env in environments)
