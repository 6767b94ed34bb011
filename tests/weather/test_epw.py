"""EPW reading: the engine's real weather files, and malformed files rejected with line numbers."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest

from epcloud.engine import EnergyPlusConfig
from epcloud.errors import EPWFormatError
from epcloud.weather import read_epw
from epcloud.weather.epw import EPW_FIELDS


@pytest.fixture(scope="module")
def chicago_lines(chicago_files: dict[str, Path]) -> list[str]:
    return chicago_files["epw"].read_text().splitlines()


def test_reads_every_engine_weather_file(energyplus: EnergyPlusConfig) -> None:
    files = sorted(energyplus.weather_dir.glob("*.epw"))
    assert len(files) >= 5
    for path in files:
        epw = read_epw(path)
        assert len(epw) == 8760
        assert epw.location.wmo in path.name  # the header matches the file name
        assert epw.location.source == "TMY3"
        assert set(epw.columns) == set(EPW_FIELDS)
        assert all(len(values) == 8760 for values in epw.columns.values())


def test_chicago_header_and_records(chicago_files: dict[str, Path]) -> None:
    epw = read_epw(chicago_files["epw"])
    loc = epw.location
    assert (loc.city, loc.state, loc.country, loc.wmo) == ("Chicago Ohare Intl Ap", "IL", "USA", "725300")
    assert (loc.latitude, loc.longitude, loc.timezone, loc.elevation) == (41.98, -87.92, -6.0, 201.0)
    design = epw.design_conditions[0]
    assert design.source == "Climate Design Data 2009 ASHRAE Handbook"
    assert design.heating[:2] == (1.0, -20.0)  # coldest month, 99.6% dry-bulb
    assert design.cooling[:3] == (7.0, 10.5, 33.3)
    assert len(design.extremes) == 16
    assert [p.kind for p in epw.typical_extreme_periods].count("Extreme") == 2
    assert epw.typical_extreme_periods[0].start == (7, 13)
    assert [g.depth for g in epw.ground_temperatures] == [0.5, 2.0, 4.0]
    assert epw.ground_temperatures[0].monthly[0] == -1.89 and epw.ground_temperatures[0].conductivity is None
    assert not epw.holidays_dst.leap_year and epw.holidays_dst.holidays == ()
    assert epw.comments[0].startswith("Custom/User Format -- WMO#725300")
    period = epw.data_periods.periods[0]
    assert (epw.data_periods.records_per_hour, period.start_weekday, period.start, period.end) == (
        1,
        "Sunday",
        (1, 1),
        (12, 31),
    )
    assert epw.columns["month"][0] == 1 and epw.columns["hour"][:3] == (1, 2, 3)
    assert epw.columns["dry_bulb_temperature"][0] == -12.2
    assert epw.columns["present_weather_codes"][0] == "999999999"
    assert epw.path == chicago_files["epw"]


def test_to_dataframe(chicago_files: dict[str, Path]) -> None:
    pytest.importorskip("pandas")
    frame = read_epw(chicago_files["epw"]).to_dataframe()
    assert frame.shape == (8760, 35)
    assert frame["dry_bulb_temperature"].min() < -20 < 30 < frame["dry_bulb_temperature"].max()


def test_blank_numeric_value_reads_as_nan(tmp_path: Path, chicago_lines: list[str]) -> None:
    lines = list(chicago_lines)
    fields = lines[8].split(",")
    fields[EPW_FIELDS.index("albedo")] = ""
    lines[8] = ",".join(fields)
    path = tmp_path / "blank.epw"
    path.write_text("\n".join(lines))
    assert math.isnan(read_epw(path).columns["albedo"][0])


def _drop(index: int) -> Callable[[list[str]], None]:
    def edit(lines: list[str]) -> None:
        del lines[index]

    return edit


def _set_field(line: int, field: str, value: str) -> Callable[[list[str]], None]:
    def edit(lines: list[str]) -> None:
        fields = lines[line - 1].split(",")
        fields[EPW_FIELDS.index(field) if line > 8 else int(field)] = value
        lines[line - 1] = ",".join(fields)

    return edit


def _replace(line: int, text: str) -> Callable[[list[str]], None]:
    def edit(lines: list[str]) -> None:
        lines[line - 1] = text

    return edit


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (_drop(3), 4, "expected the GROUND TEMPERATURES header line, found 'HOLIDAYS/DAYLIGHT"),
        (lambda lines: lines.__delitem__(slice(3, None)), 4, "the file ends before the GROUND TEMPERATURES"),
        (_replace(108, "1986,1,5,11,0,?9?9,-3.1,-7.2"), 108, "a data record needs 35 fields, found 8 fields"),
        (_replace(200, ""), 200, "a data record needs 35 fields, found an empty line"),
        (
            _set_field(20, "dry_bulb_temperature", "warm"),
            20,
            "(field 'dry_bulb_temperature'): not a number: 'warm'",
        ),
        (_set_field(30, "hour", "25"), 30, "(field 'hour'): 25 is outside 1-24"),
        (_set_field(31, "month", "x"), 31, "(field 'month'): not a whole number: 'x'"),
        (
            _drop(-1),
            8767,
            "expected 8760 data records for the DATA PERIODS (1 per hour, leap year No), found 8759",
        ),
        (_replace(5, "HOLIDAYS/DAYLIGHT SAVINGS,Yes,0,0,0"), 8768, "expected 8784 data records"),
        (_set_field(1, "6", "north"), 1, "(field 'latitude'): not a number: 'north'"),
        (
            _replace(8, "DATA PERIODS,1,1,Data,Sunday, 13/ 1,12/31"),
            8,
            "(field 'period 1 start'): not a valid date",
        ),
        (
            _replace(4, "GROUND TEMPERATURES,2,.5,,,,1,2,3"),
            4,
            "GROUND TEMPERATURES with 2 depths needs 34 fields",
        ),
        (
            _replace(2, "DESIGN CONDITIONS,1,ASHRAE,,Heating,1,x"),
            2,
            "(field 'heating value 2'): not a number",
        ),
    ],
    ids=[
        "missing-header",
        "truncated-header",
        "short-record",
        "empty-line",
        "non-numeric",
        "hour-range",
        "month-not-integer",
        "missing-record",
        "leap-year-count",
        "bad-latitude",
        "bad-date",
        "short-ground",
        "bad-design-value",
    ],
)
def test_malformed_epw_names_line_and_field(
    tmp_path: Path, chicago_lines: list[str], edit: Callable[[list[str]], None], line: int, message: str
) -> None:
    lines = list(chicago_lines)
    edit(lines)
    path = tmp_path / "bad.epw"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(EPWFormatError) as caught:
        read_epw(path)
    assert caught.value.line == line
    assert f"{path}, line {line}" in str(caught.value)
    assert message in str(caught.value)
