"""SQLResult and TimeSeriesResult against a real 5-zone design-day run and a hand-built SQL file."""

from __future__ import annotations

import math
import sqlite3
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from epcloud.errors import (
    CorruptResultError,
    EnvironmentNotFoundError,
    ResultNotFoundError,
    TabularValueNotFoundError,
    VariableNotFoundError,
)
from epcloud.results.sql import DEFAULT_YEAR, EnvironmentInfo, SQLResult
from epcloud.results.tabular import TabularCell

ZONES = ("SPACE1-1", "SPACE2-1", "SPACE3-1", "SPACE4-1", "SPACE5-1")
ZMAT = "Zone Mean Air Temperature"
ABUPS = "AnnualBuildingUtilityPerformanceSummary"


@pytest.fixture
def sql(five_zone_sql_path: Path) -> Iterator[SQLResult]:
    with SQLResult(five_zone_sql_path) as result:
        yield result


@pytest.fixture
def synthetic(synthetic_sql_path: Path) -> Iterator[SQLResult]:
    with SQLResult(synthetic_sql_path) as result:
        yield result


def direct(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Query the file with plain sqlite3, independently of SQLResult."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# -- opening ---------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ResultNotFoundError) as info:
        SQLResult(tmp_path / "eplusout.sql")
    assert str(tmp_path / "eplusout.sql") in str(info.value)


def test_truncated_file(five_zone_sql_path: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.sql"
    truncated.write_bytes(five_zone_sql_path.read_bytes()[:1000])
    with pytest.raises(CorruptResultError) as info:
        SQLResult(truncated)
    assert str(truncated) in str(info.value)


def test_text_file(tmp_path: Path) -> None:
    text = tmp_path / "eplusout.sql"
    text.write_text("Program Version,EnergyPlus, Version 25.2.0\nnot a database\n")
    with pytest.raises(CorruptResultError) as info:
        SQLResult(text)
    assert str(text) in str(info.value)


def test_sqlite_file_of_something_else(tmp_path: Path) -> None:
    other = tmp_path / "other.sql"
    direct(other, "CREATE TABLE notes (body TEXT)")
    with pytest.raises(CorruptResultError, match="not an EnergyPlus SQL output"):
        SQLResult(other)


def test_read_only_query_and_close(five_zone_sql_path: Path) -> None:
    result = SQLResult(five_zone_sql_path)
    assert result.path == five_zone_sql_path
    assert result.query("SELECT COUNT(*) FROM EnvironmentPeriods") == [(2,)]
    with pytest.raises(sqlite3.OperationalError):  # the file is opened read-only
        result.query("DELETE FROM Time")
    with pytest.raises(sqlite3.OperationalError):  # a mistake in the statement is not "corrupt"
        result.query("SELECT nope FROM Time")
    result.close()
    result.close()
    with pytest.raises(ValueError, match="closed"):
        result.query("SELECT 1")


# -- catalogue -------------------------------------------------------------------------------------


def test_list_environments(sql: SQLResult) -> None:
    environments = sql.list_environments()
    assert [e.index for e in environments] == [1, 2]
    assert all(e.type == "DesignDay" for e in environments)
    assert environments[0].name == "CHICAGO_IL_USA ANNUAL HEATING 99% DESIGN CONDITIONS DB"


def test_list_variables(sql: SQLResult) -> None:
    variables = sql.list_variables()
    zmat = {(v.key, v.frequency) for v in variables if v.name == ZMAT}
    assert {(zone, "Hourly") for zone in ZONES} <= zmat
    assert {(zone, "Zone Timestep") for zone in ZONES} <= zmat
    (meter,) = [v for v in variables if v.name == "Electricity:Facility" and v.frequency == "Hourly"]
    assert meter.is_meter and meter.key == "Electricity:Facility" and meter.units == "J"
    expected = direct(sql.path, "SELECT COUNT(*) FROM ReportDataDictionary")[0][0]
    assert len(variables) == expected


# -- time series from the real run -----------------------------------------------------------------


def test_value_matches_direct_sqlite(sql: SQLResult, five_zone_sql_path: Path) -> None:
    series = sql.get_timeseries(ZMAT, key="SPACE3-1", frequency="Hourly", environment=2)
    rows = direct(
        five_zone_sql_path,
        "SELECT d.Value FROM ReportData AS d "
        "JOIN ReportDataDictionary AS v ON v.ReportDataDictionaryIndex = d.ReportDataDictionaryIndex "
        "JOIN Time AS t ON t.TimeIndex = d.TimeIndex "
        "WHERE v.Name = 'Zone Mean Air Temperature' AND v.KeyValue = 'SPACE3-1' "
        "AND v.ReportingFrequency = 'Hourly' AND t.EnvironmentPeriodIndex = 2 AND t.WarmupFlag = 0 "
        "ORDER BY t.TimeIndex",
    )
    assert len(rows) == 24
    assert series.values == tuple(value for (value,) in rows)
    assert series.values[12] == rows[12][0]
    assert (series.variable_name, series.key_value, series.units, series.frequency) == (
        ZMAT,
        "SPACE3-1",
        "C",
        "Hourly",
    )
    assert series.environment == "CHICAGO_IL_USA ANNUAL COOLING 1% DESIGN CONDITIONS DB/MCWB"
    assert len(series) == 24


def test_star_returns_every_zone(sql: SQLResult) -> None:
    series = sql.get_timeseries(ZMAT, key="*", frequency="Hourly")
    assert set(ZONES) <= set(series.keys) and len(series.keys) >= 5
    assert series.key_value == "*"
    assert set(series.data) == set(series.keys)
    assert all(len(values) == len(series.timestamps) == 48 for values in series.data.values())
    assert len({series.data[zone] for zone in ZONES}) == len(ZONES)  # really different series
    with pytest.raises(ValueError, match="SPACE1-1") as info:
        _ = series.values
    assert "to_dataframe" in str(info.value)


def test_many_keys_take_the_same_path(sql: SQLResult, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past SQLite's parameter limit the keys are selected by name instead; the result is the same."""
    few = sql.get_timeseries(ZMAT, frequency="Hourly")
    monkeypatch.setattr("epcloud.results.sql._MAX_PARAMETERS", 1)
    many = sql.get_timeseries(ZMAT, frequency="Hourly")
    assert many == few
    assert sql.get_timeseries(ZMAT, key="SPACE2-1", frequency="Hourly").values == few.data["SPACE2-1"]


def test_names_are_case_insensitive(sql: SQLResult) -> None:
    series = sql.get_timeseries("zone MEAN air temperature", key="space1-1", frequency="hourly")
    assert series.variable_name == ZMAT and series.key_value == "SPACE1-1" and series.keys == ("SPACE1-1",)


def test_design_day_timestamps(sql: SQLResult, five_zone_sql_path: Path) -> None:
    """Design days are written with Year=0 and the day's last hour as Hour=24."""
    assert direct(five_zone_sql_path, "SELECT DISTINCT Year FROM Time WHERE Year IS NOT NULL") == [(0,)]
    series = sql.get_timeseries(ZMAT, key="SPACE1-1", frequency="Hourly")
    stamps = series.timestamps
    assert len(stamps) == 48 and series.environment is None  # both design days
    assert stamps[0] == datetime(DEFAULT_YEAR, 1, 21, 1)
    assert stamps[23] == datetime(DEFAULT_YEAR, 1, 22, 0)
    assert stamps[24] == datetime(DEFAULT_YEAR, 7, 21, 1)
    assert stamps[-1] == datetime(DEFAULT_YEAR, 7, 22, 0)


def test_frequencies(sql: SQLResult) -> None:
    finest = sql.get_timeseries(ZMAT, key="SPACE1-1")  # None: the finest reported
    assert finest.frequency == "Zone Timestep" and len(finest) == 2 * 24 * 4
    assert finest.timestamps[:2] == (
        datetime(DEFAULT_YEAR, 1, 21, 0, 15),
        datetime(DEFAULT_YEAR, 1, 21, 0, 30),
    )
    assert sql.get_timeseries(ZMAT, key="SPACE1-1", frequency="timestep").values == finest.values
    assert sql.get_timeseries(ZMAT, key="SPACE1-1", frequency="Zone Timestep").values == finest.values


def test_environment_selection(sql: SQLResult) -> None:
    cooling = sql.list_environments()[1]
    by_index = sql.get_timeseries(ZMAT, key="SPACE1-1", frequency="Hourly", environment=2)
    by_name = sql.get_timeseries(ZMAT, key="SPACE1-1", frequency="Hourly", environment=cooling.name.lower())
    by_info = sql.get_timeseries(ZMAT, key="SPACE1-1", frequency="Hourly", environment=cooling)
    assert by_index.values == by_name.values == by_info.values
    assert len(by_index) == 24 and by_index.timestamps[0].month == 7
    everything = sql.get_timeseries(ZMAT, key="SPACE1-1", frequency="Hourly")
    assert everything.values[24:] == by_index.values


def test_meter(sql: SQLResult, five_zone_sql_path: Path) -> None:
    series = sql.get_timeseries("electricity:facility", frequency="Hourly")
    assert series.keys == ("Electricity:Facility",) and series.units == "J"
    rows = direct(
        five_zone_sql_path,
        "SELECT d.Value FROM ReportData AS d "
        "JOIN ReportDataDictionary AS v USING (ReportDataDictionaryIndex) "
        "WHERE v.Name = 'Electricity:Facility' AND v.ReportingFrequency = 'Hourly' AND v.IsMeter = 1 "
        "ORDER BY d.TimeIndex",
    )
    assert series.values == tuple(value for (value,) in rows)


def test_unknown_variable(sql: SQLResult) -> None:
    with pytest.raises(VariableNotFoundError) as info:
        sql.get_timeseries("Zone Mean Air Temprature")
    assert isinstance(info.value, KeyError)
    assert ZMAT in info.value.suggestions
    assert ZMAT in str(info.value) and "Output:Variable" in str(info.value)


def test_unknown_key_frequency_environment(sql: SQLResult) -> None:
    with pytest.raises(VariableNotFoundError, match="SPACE5-1"):
        sql.get_timeseries(ZMAT, key="SPACE9-1")
    with pytest.raises(VariableNotFoundError, match="Zone Timestep, Hourly"):
        sql.get_timeseries(ZMAT, frequency="Monthly")
    with pytest.raises(EnvironmentNotFoundError, match="ANNUAL HEATING") as info:
        sql.get_timeseries(ZMAT, environment="RUN PERIOD 1")
    assert isinstance(info.value, KeyError)
    with pytest.raises(EnvironmentNotFoundError):
        sql.get_timeseries(ZMAT, environment=EnvironmentInfo(7, "elsewhere", "DesignDay"))


# -- time series from the hand-built file ----------------------------------------------------------


def test_warmup_rows_are_excluded(synthetic: SQLResult) -> None:
    series = synthetic.get_timeseries(ZMAT, key="ZONE A")
    assert series.values == (10.0, 11.0, 20.0, 21.0)  # no -99 warmup values; NULL WarmupFlag counts
    assert -99.0 not in synthetic.get_timeseries(ZMAT).data["ZONE B"]


def test_timestamps_with_real_years(synthetic: SQLResult) -> None:
    series = synthetic.get_timeseries(ZMAT, environment="run period 1")
    assert series.timestamps == (datetime(2013, 1, 1, 1), datetime(2013, 1, 2, 0))
    design_day = synthetic.get_timeseries(ZMAT, environment=1)
    assert design_day.timestamps == (datetime(DEFAULT_YEAR, 1, 21, 1), datetime(DEFAULT_YEAR, 1, 22, 0))
    assert design_day.environment == "WINTER DESIGN DAY"


def test_missing_value_is_nan(synthetic: SQLResult) -> None:
    zone_b = synthetic.get_timeseries(ZMAT, key="zone b", environment=1).values
    assert zone_b[0] == 12.0 and math.isnan(zone_b[1])


@pytest.mark.parametrize(
    ("frequency", "stamp", "value"),
    [
        ("Daily", datetime(2013, 1, 1), 100.0),
        ("Monthly", datetime(2013, 1, 1), 3100.0),
        ("RunPeriod", datetime(2013, 1, 1), 36500.0),
        ("Annual", datetime(2013, 1, 1), 36500.0),
    ],
)
def test_coarse_frequencies_are_labelled_by_period_start(
    synthetic: SQLResult, frequency: str, stamp: datetime, value: float
) -> None:
    series = synthetic.get_timeseries("Electricity:Facility", frequency=frequency)
    assert series.timestamps == (stamp,) and series.values == (value,)
    assert series.environment == "RUN PERIOD 1"


def test_no_tabular_reports(synthetic: SQLResult) -> None:
    assert synthetic.get_tabular_data() == []
    with pytest.raises(TabularValueNotFoundError, match="SimpleAndTabular"):
        synthetic.get_tabular_value(ABUPS, "Building Area", "Total Building Area", "Area")


# -- tabular reports -------------------------------------------------------------------------------


def test_tabular_value(sql: SQLResult, five_zone_sql_path: Path) -> None:
    value = sql.get_tabular_value(ABUPS, "Building Area", "Total Building Area", "Area")
    ((text,),) = direct(
        five_zone_sql_path,
        "SELECT Value FROM TabularDataWithStrings "
        "WHERE ReportName = ? AND ReportForString = 'Entire Facility' AND TableName = 'Building Area' "
        "AND RowName = 'Total Building Area' AND ColumnName = 'Area'",
        (ABUPS,),
    )
    assert isinstance(value, float) and value == float(text) and value > 0
    assert sql.get_tabular_value(ABUPS.lower(), "building area", "total building area", "area") == value


def test_tabular_text_value_in_latin1(sql: SQLResult) -> None:
    """EnergyPlus writes the degree sign in Latin-1; it comes back as text, not an error."""
    latitude = sql.get_tabular_value("ClimaticDataSummary", "Weather Statistics File", "Latitude", "Value")
    assert isinstance(latitude, str) and "°" in latitude


def test_tabular_data_filters(sql: SQLResult) -> None:
    cells = sql.get_tabular_data(report_name=ABUPS, table_name="End Uses", column_name="Electricity")
    assert cells and all(isinstance(cell, TabularCell) for cell in cells)
    assert {cell.table_name for cell in cells} == {"End Uses"}
    assert "Interior Lighting" in {cell.row_name for cell in cells}
    assert all(cell.value == cell.value.strip() for cell in cells)
    lighting = next(cell for cell in cells if cell.row_name == "Interior Lighting")
    assert lighting.units == "GJ" and lighting.parsed_value == float(lighting.value)
    assert len(sql.get_tabular_data()) > len(cells)


def test_tabular_value_absent(sql: SQLResult) -> None:
    with pytest.raises(TabularValueNotFoundError, match=r"no table 'Building Areas'.*Building Area") as info:
        sql.get_tabular_value(ABUPS, "Building Areas", "Total Building Area", "Area")
    assert isinstance(info.value, KeyError)
    with pytest.raises(KeyError, match="no report"):
        sql.get_tabular_value("NoSuchReport", "Building Area", "Total Building Area", "Area")
    with pytest.raises(KeyError, match="no column 'Aera'"):
        sql.get_tabular_value(ABUPS, "Building Area", "Total Building Area", "Aera")


# -- TimeSeriesResult ------------------------------------------------------------------------------


def test_to_dataframe(sql: SQLResult) -> None:
    series = sql.get_timeseries(ZMAT, frequency="Hourly")
    frame = series.to_dataframe()
    assert list(frame.columns) == list(series.keys)
    assert list(frame.index) == list(series.timestamps) and frame.index.name == "timestamp"
    assert tuple(frame["SPACE2-1"]) == series.data["SPACE2-1"]
    assert frame.attrs["units"] == "C"


def test_plot(sql: SQLResult) -> None:
    pytest.importorskip("plotly")
    series = sql.get_timeseries(ZMAT, frequency="Hourly")
    fig = series.plot(height=300)
    assert len(fig.data) == len(series.keys) and fig.layout.height == 300
    assert fig.layout.yaxis.title.text == f"{ZMAT} [C]"
    # Two design days: the line breaks between them instead of joining one day's end to the next's start.
    xs = fig.data[0].x
    assert len(xs) == len(series.timestamps) + 1 and sum(1 for x in xs if x is None) == 1


def test_missing_extras_are_named(sql: SQLResult, monkeypatch: pytest.MonkeyPatch) -> None:
    series = sql.get_timeseries(ZMAT, key="SPACE1-1", frequency="Hourly")
    monkeypatch.setitem(sys.modules, "pandas", None)
    monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)
    with pytest.raises(ImportError, match=r"epcloud\[tables\]"):
        series.to_dataframe()
    with pytest.raises(ImportError, match=r"epcloud\[plot\]"):
        series.plot()
