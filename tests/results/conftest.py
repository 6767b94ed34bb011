"""Fixtures for the output parsers: real EnergyPlus design-day runs and a small hand-built SQL file."""

from __future__ import annotations

import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

from epcloud.engine import EnergyPlusConfig

# Outputs the tests read; each is added only when the model does not already ask for it.
_OUTPUTS = (
    "Output:SQLite, SimpleAndTabular;",
    "Output:Table:SummaryReports, AllSummary;",
    "Output:Variable,*,Zone Mean Air Temperature,Hourly;",
    "Output:Variable,*,Zone Mean Air Temperature,Timestep;",
    "Output:Meter,Electricity:Facility,Hourly;",
)
_UNIQUE = ("Output:SQLite", "Output:Table:SummaryReports")


def with_outputs(model_text: str) -> str:
    """The model with the outputs above appended, skipping those it has (a unique type: any object of it)."""
    squashed = _squash(model_text)
    extra = []
    for line in _OUTPUTS:
        object_type = line.split(",")[0]
        probe = object_type + "," if object_type in _UNIQUE else line
        if _squash(probe) not in squashed:
            extra.append(line)
    return model_text + "\n" + "\n".join(extra) + "\n"


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def run_design_days(
    energyplus: EnergyPlusConfig, model_text: str, epw: Path, workdir: Path
) -> tuple[Path, int]:
    """Run EnergyPlus on the design days only (fast); returns the output folder and the exit code."""
    workdir.mkdir(parents=True, exist_ok=True)
    idf = workdir / "in.idf"
    idf.write_text(model_text)
    out = workdir / "out"
    proc = subprocess.run(
        [str(energyplus.executable), "-D", "-w", str(epw), "-d", str(out), str(idf)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    return out, proc.returncode


@pytest.fixture(scope="session")
def five_zone_run(
    energyplus: EnergyPlusConfig,
    models_dir: Path,
    chicago_epw: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """Output folder of a successful design-day run of 5ZoneAirCooled (5 zones and a plenum)."""
    text = with_outputs((models_dir / "5ZoneAirCooled.idf").read_text())
    out, code = run_design_days(energyplus, text, chicago_epw, tmp_path_factory.mktemp("five_zone"))
    assert code == 0, (out / "eplusout.err").read_text()
    return out


@pytest.fixture(scope="session")
def five_zone_sql_path(five_zone_run: Path) -> Path:
    return five_zone_run / "eplusout.sql"


@pytest.fixture(scope="session")
def fatal_run(
    energyplus: EnergyPlusConfig,
    models_dir: Path,
    chicago_epw: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """Output folder of a run that stops on a fatal error: a construction names a missing material."""
    text = (models_dir / "1ZoneUncontrolled.idf").read_text()
    broken = re.sub(r"^(\s*)R13LAYER;", r"\1NO_SUCH_MATERIAL;", text, count=1, flags=re.MULTILINE)
    assert broken != text
    workdir = tmp_path_factory.mktemp("fatal")
    out, code = run_design_days(energyplus, with_outputs(broken), chicago_epw, workdir)
    assert code != 0
    return out


# A hand-built SQL file in EnergyPlus's schema (only the tables SQLResult reads), with what an annual run
# writes and a design-day run does not: real years, warmup rows, NULL WarmupFlag, dateless run-period rows.
_SCHEMA = """
CREATE TABLE EnvironmentPeriods (EnvironmentPeriodIndex INTEGER PRIMARY KEY, SimulationIndex INTEGER,
    EnvironmentName TEXT, EnvironmentType INTEGER);
CREATE TABLE Time (TimeIndex INTEGER PRIMARY KEY, Year INTEGER, Month INTEGER, Day INTEGER, Hour INTEGER,
    Minute INTEGER, Dst INTEGER, Interval INTEGER, IntervalType INTEGER, SimulationDays INTEGER, DayType TEXT,
    EnvironmentPeriodIndex INTEGER, WarmupFlag INTEGER);
CREATE TABLE ReportDataDictionary (ReportDataDictionaryIndex INTEGER PRIMARY KEY, IsMeter INTEGER, Type TEXT,
    IndexGroup TEXT, TimestepType TEXT, KeyValue TEXT, Name TEXT, ReportingFrequency TEXT, ScheduleName TEXT,
    Units TEXT);
CREATE TABLE ReportData (ReportDataIndex INTEGER PRIMARY KEY, TimeIndex INTEGER,
    ReportDataDictionaryIndex INTEGER, Value REAL);
"""
_ENVIRONMENTS = [(1, 1, "WINTER DESIGN DAY", 1), (2, 1, "RUN PERIOD 1", 3)]
_TIMES = [  # TimeIndex, Year, Month, Day, Hour, Minute, IntervalType, Environment, WarmupFlag
    (1, 0, 1, 21, 1, 0, 1, 1, 1),  # design-day warmup
    (2, 0, 1, 21, 1, 0, 1, 1, 0),
    (3, 0, 1, 21, 24, 0, 1, 1, 0),
    (4, 2013, 1, 1, 1, 0, 1, 2, 1),  # run-period warmup
    (5, 2013, 1, 1, 1, 0, 1, 2, None),
    (6, 2013, 1, 1, 24, 0, 1, 2, None),
    (7, 2013, 1, 1, 24, 0, 2, 2, None),  # daily row, shared with the monthly value of a 1-day month
    (8, 2013, 1, 31, 24, 0, 3, 2, None),
    (9, None, None, None, None, None, 4, 2, None),  # run period: no date
    (10, 2013, None, None, None, None, 5, 2, None),  # annual: a year only
]
_DICTIONARY = [
    (1, 0, "Avg", "Zone", "Zone", "ZONE A", "Zone Mean Air Temperature", "Hourly", None, "C"),
    (2, 0, "Avg", "Zone", "Zone", "ZONE B", "Zone Mean Air Temperature", "Hourly", None, "C"),
    (3, 1, "Sum", "Facility:Electricity", "Zone", None, "Electricity:Facility", "Daily", None, "J"),
    (4, 1, "Sum", "Facility:Electricity", "Zone", None, "Electricity:Facility", "Monthly", None, "J"),
    (5, 1, "Sum", "Facility:Electricity", "Zone", None, "Electricity:Facility", "Run Period", None, "J"),
    (6, 1, "Sum", "Facility:Electricity", "Zone", None, "Electricity:Facility", "Annual", None, "J"),
]
_DATA = [  # TimeIndex, dictionary index, value
    (1, 1, -99.0),
    (2, 1, 10.0),
    (3, 1, 11.0),
    (4, 1, -99.0),
    (5, 1, 20.0),
    (6, 1, 21.0),
    (1, 2, -99.0),
    (2, 2, 12.0),
    (3, 2, None),
    (4, 2, -99.0),
    (5, 2, 22.0),
    (6, 2, 23.0),
    (7, 3, 100.0),
    (7, 4, 3100.0),
    (9, 5, 36500.0),
    (10, 6, 36500.0),
]


@pytest.fixture(scope="session")
def synthetic_sql_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synthetic") / "eplusout.sql"
    with sqlite3.connect(path) as conn:
        conn.executescript(_SCHEMA)
        conn.executemany("INSERT INTO EnvironmentPeriods VALUES (?, ?, ?, ?)", _ENVIRONMENTS)
        conn.executemany(
            "INSERT INTO Time (TimeIndex, Year, Month, Day, Hour, Minute, IntervalType, "
            "EnvironmentPeriodIndex, WarmupFlag) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _TIMES,
        )
        conn.executemany(
            "INSERT INTO ReportDataDictionary VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _DICTIONARY
        )
        conn.executemany(
            "INSERT INTO ReportData (TimeIndex, ReportDataDictionaryIndex, Value) VALUES (?, ?, ?)", _DATA
        )
    conn.close()
    return path
