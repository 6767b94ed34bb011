"""Design days: reading DDY files, choosing by criterion, and replacing a model's design days."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from epcloud.engine import EnergyPlusConfig
from epcloud.errors import DDYFormatError, DesignDayNotFoundError
from epcloud.weather import apply_design_days, read_ddy, read_ddy_location, select_design_days
from epcloud.weather.designday import DesignDay, SiteLocation


@pytest.fixture(scope="module")
def chicago_days(chicago_files: dict[str, Path]) -> list[DesignDay]:
    return read_ddy(chicago_files["ddy"])


def test_reads_every_engine_ddy(energyplus: EnergyPlusConfig) -> None:
    for path in sorted(energyplus.weather_dir.glob("*.ddy")):
        days = read_ddy(path)
        assert len(days) == 18
        assert {day.kind for day in days} == {"heating", "cooling", "humidification", "heating wind"}
        location = read_ddy_location(path)
        assert location is not None and location.name.endswith("Design_Conditions")


def test_design_day_fields_use_schema_names_and_types(chicago_days: list[DesignDay]) -> None:
    day = chicago_days[0]
    assert day.name == "Chicago Ohare Intl Ap Ann Htg 99.6% Condns DB"
    assert (day.kind, day.percent, day.condition) == ("heating", 99.6, "DB")
    assert day.fields["month"] == 1 and isinstance(day.fields["month"], int)
    assert day.fields["day_type"] == "WinterDesignDay"
    assert day.fields["maximum_dry_bulb_temperature"] == -20.0
    assert day.fields["humidity_condition_type"] == "WetBulb"  # "Wetbulb" in the file: the schema's spelling
    assert day.fields["barometric_pressure"] == 98934.0
    assert "beam_solar_day_schedule_name" not in day.fields  # blank fields are left out
    dew_point = next(d for d in chicago_days if d.kind == "humidification")
    assert dew_point.fields["humidity_condition_type"] == "DewPoint"


def test_site_location(chicago_files: dict[str, Path]) -> None:
    location = read_ddy_location(chicago_files["ddy"])
    name = "Chicago Ohare Intl Ap_IL_USA Design_Conditions"
    assert location == SiteLocation(name, 41.98, -87.92, -6.0, 201.0)
    assert location.fields == {"latitude": 41.98, "longitude": -87.92, "time_zone": -6.0, "elevation": 201.0}


def test_select_design_days(chicago_days: list[DesignDay]) -> None:
    heating, cooling = select_design_days(chicago_days)
    assert heating.name == "Chicago Ohare Intl Ap Ann Htg 99.6% Condns DB"
    assert cooling.name == "Chicago Ohare Intl Ap Ann Clg 1% Condns DB=>MWB"
    names = [d.name for d in select_design_days(chicago_days, heating="99%", cooling="0.4%")]
    assert names == [
        "Chicago Ohare Intl Ap Ann Htg 99% Condns DB",
        "Chicago Ohare Intl Ap Ann Clg .4% Condns DB=>MWB",
    ]
    assert [d.kind for d in select_design_days(chicago_days, heating=None, cooling=2)] == ["cooling"]


def test_select_unknown_criterion(chicago_days: list[DesignDay]) -> None:
    expected = r"heating .* 97.5%.*available heating percentiles: 99.6%, 99%"
    with pytest.raises(DesignDayNotFoundError, match=expected):
        select_design_days(chicago_days, heating="97.5%")
    with pytest.raises(ValueError, match="not a design-day percentile"):
        select_design_days(chicago_days, cooling="hot")


class FakeDocument:
    """The duck-typed model interface apply_design_days is written against."""

    def __init__(self, objects: dict[str, list[Any]]) -> None:
        self.objects = objects
        self.calls: list[tuple[str, ...]] = []

    def __getitem__(self, type_name: str) -> list[Any]:
        return list(self.objects.get(type_name, []))

    def remove(self, obj: Any) -> None:
        self.calls.append(("remove", obj[1]))
        self.objects[obj[0]].remove(obj)

    def add(self, type_name: str, name: str, /, **fields: Any) -> tuple[str, str, dict[str, Any]]:
        self.calls.append(("add", name))
        obj = (type_name, name, fields)
        self.objects.setdefault(type_name, []).append(obj)
        return obj


def test_apply_design_days_replaces_objects(
    chicago_days: list[DesignDay], chicago_files: dict[str, Path]
) -> None:
    day_type = "SizingPeriod:DesignDay"
    doc = FakeDocument(
        {
            day_type: [(day_type, "old winter", {}), (day_type, "old summer", {})],
            "Site:Location": [("Site:Location", "old site", {})],
        }
    )
    chosen = select_design_days(chicago_days)
    apply_design_days(doc, chosen, location=read_ddy_location(chicago_files["ddy"]))
    assert [name for _, name, _ in doc["SizingPeriod:DesignDay"]] == [d.name for d in chosen]
    assert doc["SizingPeriod:DesignDay"][0][2]["maximum_dry_bulb_temperature"] == -20.0
    assert [name for _, name, _ in doc["Site:Location"]] == ["Chicago Ohare Intl Ap_IL_USA Design_Conditions"]
    assert doc.calls[:2] == [("remove", "old winter"), ("remove", "old summer")]

    apply_design_days(doc, chosen[:1])  # without a location the site is kept
    assert len(doc["SizingPeriod:DesignDay"]) == 1 and len(doc["Site:Location"]) == 1


def test_apply_design_days_to_a_real_model(
    models_dir: Path, chicago_days: list[DesignDay], chicago_files: dict[str, Path]
) -> None:
    from epcloud.model import load_idf

    doc = load_idf(models_dir / "1ZoneUncontrolled.idf")
    assert len(doc["SizingPeriod:DesignDay"]) == 2
    apply_design_days(
        doc,
        select_design_days(chicago_days, heating="99%", cooling="0.4%"),
        location=read_ddy_location(chicago_files["ddy"]),
    )
    reloaded = load_idf(doc.to_idf())  # what the engine would read
    days = list(reloaded["SizingPeriod:DesignDay"])
    assert [d.name for d in days] == [
        "Chicago Ohare Intl Ap Ann Htg 99% Condns DB",
        "Chicago Ohare Intl Ap Ann Clg .4% Condns DB=>MWB",
    ]
    assert days[1].month == 7 and days[1].maximum_dry_bulb_temperature == 33.3
    assert days[1].humidity_condition_type == "WetBulb"
    assert reloaded["Site:Location"].one().latitude == 41.98


_DAY = """SizingPeriod:DesignDay,
  Test Ann Htg 99.6% Condns DB,  !- Name
  {month},                       !- Month
  21,                            !- Day of Month
  {day_type},                    !- Day Type
  -20,                           !- Maximum Dry-Bulb Temperature {{C}}
  0.0,,,,,,,,,98934.,
  {wind},                        !- Wind Speed
  270{end}
"""


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            _DAY.format(month=1, day_type="WinterDesignDay", wind=4.9, end=""),
            2,
            "the last object is not ended by a ';'",
        ),
        (
            _DAY.format(month="Jan", day_type="WinterDesignDay", wind=4.9, end=";"),
            4,
            "(field 'month'): not a number: 'Jan'",
        ),
        (
            _DAY.format(month=1.5, day_type="WinterDesignDay", wind=4.9, end=";"),
            4,
            "(field 'month'): not a whole number: '1.5'",
        ),
        (
            _DAY.format(month=1, day_type="Winter", wind=4.9, end=";"),
            6,
            "(field 'day_type'): 'Winter' is not one of CustomDay1",
        ),
        (
            _DAY.format(month=1, day_type="WinterDesignDay", wind="", end=";"),
            2,
            "(field 'wind_speed'): design day 'Test Ann Htg 99.6% Condns DB' has no wind_speed",
        ),
        (
            _DAY.format(month=1, day_type="WinterDesignDay", wind=4.9, end="," + ",".join(["1"] * 12) + ";"),
            10,
            "SizingPeriod:DesignDay has 29 fields, at most 28 allowed",
        ),
        ("Site:Location,\n  ;\n", 2, "Site:Location object has no name"),
    ],
    ids=[
        "no-semicolon",
        "month-text",
        "month-fraction",
        "bad-choice",
        "missing-required",
        "too-many-fields",
        "no-name",
    ],
)
def test_malformed_ddy_names_line_and_field(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "bad.ddy"
    path.write_text("! a design-day file\n" + text)
    with pytest.raises(DDYFormatError) as caught:
        read_ddy(path)
    assert caught.value.line == line
    assert f"{path}, line {line}" in str(caught.value)
    assert message in str(caught.value)
