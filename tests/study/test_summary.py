"""Summaries say what was simulated: a design-day run has design loads and no energy; a run period has
energy at full precision (the reported meters of the run period, not the two-decimal table)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from epcloud.batch import SimulationJob
from epcloud.model import Shoebox
from epcloud.results.sql import SQLResult
from epcloud.storage import LocalFileSystem
from epcloud.study import Study
from epcloud.study.summary import BUILDING_AREA, TOTAL_SITE_ENERGY, describe_run_period

SITE_TABLE = "site_source/Total Site Energy/Total Energy [GJ]"


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory, chicago_epw: Path, models_dir: Path):  # type: ignore[no-untyped-def]
    """Three real runs: a sized model's design days, a shoebox's January, a shoebox's year (hourly steps)."""
    root = tmp_path_factory.mktemp("summaries")
    january = (
        Shoebox().to_idf().replace("RunPeriod, Annual, 1, 1, , 12, 31,", "RunPeriod, Jan, 1, 1, , 1, 31,")
    )
    jobs = [
        SimulationJob(models_dir / "5ZoneAirCooled.idf", chicago_epw, label="sized", design_day=True),
        SimulationJob(january, chicago_epw, label="january"),
        SimulationJob(Shoebox(timesteps_per_hour=1).to_idf(), chicago_epw, label="year", annual=True),
    ]
    study = Study.create(LocalFileSystem(root), jobs, variables=["Zone Mean Air Temperature"])
    study.run(max_workers=2)
    tables = study.collect()
    return study, tables.jobs.set_index("label"), tables.timeseries


def test_design_day_run_has_design_loads_and_no_energy(collected) -> None:  # type: ignore[no-untyped-def]
    _, jobs, _ = collected
    sized = jobs.loc["sized"]
    assert sized["status"] == "succeeded" and sized["run_period"] == "design days"
    assert math.isnan(sized[TOTAL_SITE_ENERGY])  # null, not 0
    assert all(math.isnan(sized[c]) for c in jobs if c.startswith(("end_use/", "meter/")))
    zones = [c for c in jobs if c.startswith("design_load/SPACE") and c.endswith("/Cooling [W]")]
    assert len(zones) == 5 and all(sized[c] > 500 for c in zones)
    heating = [sized[c.replace("/Cooling", "/Heating")] for c in zones]
    assert sized["design_load/Facility/Heating [W]"] == pytest.approx(sum(heating))
    assert sized[BUILDING_AREA] == pytest.approx(927.2)


def test_run_periods_have_full_precision_energy(collected) -> None:  # type: ignore[no-untyped-def]
    study, jobs, _ = collected
    assert jobs.loc["january", "run_period"] == "01-01..01-31"
    assert jobs.loc["year", "run_period"] == "annual"
    for label in ("january", "year"):
        row = jobs.loc[label]
        total, table = row[TOTAL_SITE_ENERGY], row[SITE_TABLE]
        assert total > 0 and abs(total - table) <= 0.005 + 1e-9  # the table's value, unrounded
        meters = row["meter/Electricity:Facility [GJ]"] + row["meter/DistrictHeatingWater:Facility [GJ]"]
        meters += row["meter/DistrictCooling:Facility [GJ]"]
        assert total == pytest.approx(meters, rel=1e-12)
        assert round(total, 2) != total  # more digits than the table prints
    # January ran its design days too: their energy (in the SQL as well) is not counted.
    row = jobs.loc["january"]
    with SQLResult(study.result(row["job_id"]).sql.path) as sql:
        everything = sql.query(
            "SELECT SUM(r.Value) FROM ReportData r JOIN ReportDataDictionary d USING "
            "(ReportDataDictionaryIndex) WHERE d.Name = 'Electricity:Facility'"
        )[0][0]
    assert everything / 1e9 > row["meter/Electricity:Facility [GJ]"]
    assert jobs.loc["year", TOTAL_SITE_ENERGY] > 5 * jobs.loc["january", TOTAL_SITE_ENERGY]


def test_describe_run_period_of_a_design_day_sql(collected) -> None:  # type: ignore[no-untyped-def]
    study, jobs, _ = collected
    with SQLResult(study.result(jobs.loc["sized", "job_id"]).sql.path) as sql:
        assert describe_run_period(sql) == "design days"


def test_series_hold_the_run_period_or_the_design_days(collected) -> None:  # type: ignore[no-untyped-def]
    _, jobs, series = collected
    rows = series.groupby("job_id").size()
    assert rows[jobs.loc["january", "job_id"]] == 31 * 24  # not the design day of 21 January again
    assert not series.duplicated(["job_id", "key", "timestamp"]).any()
    assert rows[jobs.loc["year", "job_id"]] == 8760
    # A design-day run keeps its design days (tests/study/test_collect.py: 48 hourly values).
