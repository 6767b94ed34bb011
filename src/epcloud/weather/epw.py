"""Reading EPW weather files: the eight header lines and the hourly records, as columns.

Values keep the EPW's units (°C, %, Pa, Wh/m², lux, m/s, ...); a blank numeric value reads as NaN.
A malformed file raises :class:`~epcloud.errors.EPWFormatError` naming the line and the field.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from epcloud.errors import EPWFormatError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "EPW_FIELDS",
    "DataPeriod",
    "DataPeriods",
    "DesignConditions",
    "EPWFile",
    "EPWLocation",
    "GroundTemperature",
    "HolidaysDST",
    "TypicalPeriod",
    "parse_epw",
    "read_epw",
]

EPW_FIELDS = (
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "data_source_flags",
    "dry_bulb_temperature",
    "dew_point_temperature",
    "relative_humidity",
    "atmospheric_station_pressure",
    "extraterrestrial_horizontal_radiation",
    "extraterrestrial_direct_normal_radiation",
    "horizontal_infrared_radiation_intensity",
    "global_horizontal_radiation",
    "direct_normal_radiation",
    "diffuse_horizontal_radiation",
    "global_horizontal_illuminance",
    "direct_normal_illuminance",
    "diffuse_horizontal_illuminance",
    "zenith_luminance",
    "wind_direction",
    "wind_speed",
    "total_sky_cover",
    "opaque_sky_cover",
    "visibility",
    "ceiling_height",
    "present_weather_observation",
    "present_weather_codes",
    "precipitable_water",
    "aerosol_optical_depth",
    "snow_depth",
    "days_since_last_snowfall",
    "albedo",
    "liquid_precipitation_depth",
    "liquid_precipitation_quantity",
)
_INT_FIELDS: dict[str, tuple[int | None, int | None]] = {
    "year": (None, None),
    "month": (1, 12),
    "day": (1, 31),
    "hour": (1, 24),
    "minute": (0, 60),
}
_TEXT_FIELDS = frozenset({"data_source_flags", "present_weather_codes"})
_HEADERS = (
    "LOCATION",
    "DESIGN CONDITIONS",
    "TYPICAL/EXTREME PERIODS",
    "GROUND TEMPERATURES",
    "HOLIDAYS/DAYLIGHT SAVINGS",
    "COMMENTS 1",
    "COMMENTS 2",
    "DATA PERIODS",
)


@dataclass(frozen=True)
class EPWLocation:
    """The LOCATION line: place, data source, WMO number, coordinates, time zone (h), elevation (m)."""

    city: str
    state: str
    country: str
    source: str
    wmo: str
    latitude: float
    longitude: float
    timezone: float
    elevation: float


@dataclass(frozen=True)
class DesignConditions:
    """One set of ASHRAE design conditions: the Heating, Cooling and Extremes values, in file order."""

    source: str
    heating: tuple[float, ...]
    cooling: tuple[float, ...]
    extremes: tuple[float, ...]


@dataclass(frozen=True)
class TypicalPeriod:
    """A typical or extreme week: its name, kind ("Typical"/"Extreme") and (month, day) bounds."""

    name: str
    kind: str
    start: tuple[int, int]
    end: tuple[int, int]


@dataclass(frozen=True)
class GroundTemperature:
    """Monthly undisturbed ground temperatures (°C) at one depth (m), with the soil's properties if given."""

    depth: float
    conductivity: float | None
    density: float | None
    specific_heat: float | None
    monthly: tuple[float, ...]


@dataclass(frozen=True)
class HolidaysDST:
    """The HOLIDAYS/DAYLIGHT SAVINGS line: leap-year flag, DST start and end ("0" for none), holidays."""

    leap_year: bool
    dst_start: str
    dst_end: str
    holidays: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class DataPeriod:
    """One data period: name, weekday of its first day, (month, day) bounds."""

    name: str
    start_weekday: str
    start: tuple[int, int]
    end: tuple[int, int]


@dataclass(frozen=True)
class DataPeriods:
    """The DATA PERIODS line: records per hour and the periods the records cover."""

    records_per_hour: int
    periods: tuple[DataPeriod, ...]


@dataclass(frozen=True)
class EPWFile:
    """A parsed EPW file: the header lines and the records as columns named by :data:`EPW_FIELDS`."""

    path: Path | None
    location: EPWLocation
    design_conditions: tuple[DesignConditions, ...]
    typical_extreme_periods: tuple[TypicalPeriod, ...]
    ground_temperatures: tuple[GroundTemperature, ...]
    holidays_dst: HolidaysDST
    comments: tuple[str, str]
    data_periods: DataPeriods
    columns: Mapping[str, tuple[Any, ...]]

    def __len__(self) -> int:
        return len(self.columns["year"])

    def to_dataframe(self) -> pd.DataFrame:
        """The records as a pandas DataFrame, one column per EPW field (needs ``epcloud[tables]``)."""
        import pandas as pd

        frame: pd.DataFrame = pd.DataFrame({name: list(values) for name, values in self.columns.items()})
        return frame


class _Line:
    """One comma-separated line with numbered fields, whose parse errors name the line and field."""

    def __init__(self, fields: list[str], number: int, source: str) -> None:
        self.fields = fields
        self.number = number
        self.source = source

    def error(self, message: str, field: str = "") -> EPWFormatError:
        return EPWFormatError(message, source=self.source, line=self.number, field=field)

    def need(self, count: int, what: str) -> None:
        if len(self.fields) < count:
            raise self.error(f"{what} needs {count} fields, found {len(self.fields)}")

    def number_at(self, index: int, field: str) -> float:
        value = self.optional_number(index, field)
        if value is None:
            raise self.error("missing value", field)
        return value

    def optional_number(self, index: int, field: str) -> float | None:
        text = self.fields[index].strip() if index < len(self.fields) else ""
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            raise self.error(f"not a number: {text!r}", field) from None

    def integer_at(self, index: int, field: str) -> int:
        value = self.number_at(index, field)
        if not value.is_integer():
            raise self.error(f"not a whole number: {self.fields[index].strip()!r}", field)
        return int(value)

    def date_at(self, index: int, field: str) -> tuple[int, int]:
        text = self.fields[index].strip() if index < len(self.fields) else ""
        parts = [p.strip() for p in text.split("/")]
        if len(parts) < 2 or not all(p.isdigit() for p in parts[:2]):
            raise self.error(f"not a month/day date: {text!r}", field)
        month, day = int(parts[0]), int(parts[1])
        if not (1 <= month <= 12 and 1 <= day <= 31):
            raise self.error(f"not a valid date: {text!r}", field)
        return month, day


def read_epw(path: str | PathLike[str]) -> EPWFile:
    """Parse an EPW file; raises :class:`~epcloud.errors.EPWFormatError` on malformed content."""
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return parse_epw(text, source=str(path), path=path)


def parse_epw(text: str, source: str = "<string>", path: Path | None = None) -> EPWFile:
    """Parse the text of an EPW file; ``source`` names it in error messages."""
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    header = []
    for number, keyword in enumerate(_HEADERS, start=1):
        if number > len(lines):
            raise EPWFormatError(
                f"the file ends before the {keyword} header line", source=source, line=number
            )
        fields = lines[number - 1].split(",")
        if fields[0].strip().upper().rstrip("S") != keyword.rstrip("S"):  # "DAYLIGHT SAVING(S)"
            raise EPWFormatError(
                f"expected the {keyword} header line, found {lines[number - 1][:40]!r}",
                source=source,
                line=number,
            )
        header.append(_Line(fields, number, source))
    location, design, periods, ground, holidays, _, _, data = header
    holidays_dst = _holidays(holidays)
    data_periods = _data_periods(data)
    columns = _records(lines[len(_HEADERS) :], len(_HEADERS) + 1, source)
    expected = _expected_records(data_periods, holidays_dst.leap_year)
    found = len(columns["year"])
    if found != expected:
        leap = "Yes" if holidays_dst.leap_year else "No"
        raise EPWFormatError(
            f"expected {expected} data records for the DATA PERIODS "
            f"({data_periods.records_per_hour} per hour, leap year {leap}), found {found}",
            source=source,
            line=len(_HEADERS) + found,
        )
    return EPWFile(
        path=path,
        location=_location(location),
        design_conditions=_design_conditions(design),
        typical_extreme_periods=_typical_periods(periods),
        ground_temperatures=_ground_temperatures(ground),
        holidays_dst=holidays_dst,
        comments=(
            lines[5].split(",", 1)[1].strip() if "," in lines[5] else "",
            lines[6].split(",", 1)[1].strip() if "," in lines[6] else "",
        ),
        data_periods=data_periods,
        columns=columns,
    )


def _location(line: _Line) -> EPWLocation:
    line.need(10, "LOCATION")
    f = [value.strip() for value in line.fields]
    return EPWLocation(
        city=f[1],
        state=f[2],
        country=f[3],
        source=f[4],
        wmo=f[5],
        latitude=line.number_at(6, "latitude"),
        longitude=line.number_at(7, "longitude"),
        timezone=line.number_at(8, "time zone"),
        elevation=line.number_at(9, "elevation"),
    )


def _design_conditions(line: _Line) -> tuple[DesignConditions, ...]:
    line.need(2, "DESIGN CONDITIONS")
    count = line.integer_at(1, "number of design conditions")
    fields = line.fields
    result: list[DesignConditions] = []
    index = 2
    for _ in range(count):
        if index >= len(fields):
            raise line.error(f"announces {count} sets of design conditions, found {len(result)}")
        source = fields[index].strip()
        index += 1
        sections: dict[str, list[float]] = {"heating": [], "cooling": [], "extremes": []}
        current = ""
        while index < len(fields):
            word = fields[index].strip().lower()
            if word in sections:
                if sections[word]:
                    break  # the next set of design conditions starts with its source
                current = word
            elif current:
                value = line.optional_number(index, f"{current} value {len(sections[current]) + 1}")
                sections[current].append(math.nan if value is None else value)
            elif word:
                raise line.error(f"expected Heating, Cooling or Extremes, found {fields[index].strip()!r}")
            index += 1
        result.append(DesignConditions(source, *(tuple(v) for v in sections.values())))
    return tuple(result)


def _typical_periods(line: _Line) -> tuple[TypicalPeriod, ...]:
    line.need(2, "TYPICAL/EXTREME PERIODS")
    count = line.integer_at(1, "number of periods")
    line.need(2 + 4 * count, f"TYPICAL/EXTREME PERIODS with {count} periods")
    result = []
    for i in range(count):
        base = 2 + 4 * i
        result.append(
            TypicalPeriod(
                name=line.fields[base].strip(),
                kind=line.fields[base + 1].strip(),
                start=line.date_at(base + 2, f"period {i + 1} start"),
                end=line.date_at(base + 3, f"period {i + 1} end"),
            )
        )
    return tuple(result)


def _ground_temperatures(line: _Line) -> tuple[GroundTemperature, ...]:
    line.need(2, "GROUND TEMPERATURES")
    count = line.integer_at(1, "number of depths")
    line.need(2 + 16 * count, f"GROUND TEMPERATURES with {count} depths")
    result = []
    for i in range(count):
        base = 2 + 16 * i
        result.append(
            GroundTemperature(
                depth=line.number_at(base, f"depth {i + 1}"),
                conductivity=line.optional_number(base + 1, f"depth {i + 1} conductivity"),
                density=line.optional_number(base + 2, f"depth {i + 1} density"),
                specific_heat=line.optional_number(base + 3, f"depth {i + 1} specific heat"),
                monthly=tuple(
                    line.number_at(base + 4 + m, f"depth {i + 1} {calendar.month_abbr[m + 1]}")
                    for m in range(12)
                ),
            )
        )
    return tuple(result)


def _holidays(line: _Line) -> HolidaysDST:
    line.need(5, "HOLIDAYS/DAYLIGHT SAVINGS")
    leap = line.fields[1].strip().lower()
    if leap not in ("yes", "no", "y", "n"):
        raise line.error(f"expected Yes or No, found {line.fields[1].strip()!r}", "leap year observed")
    count = line.integer_at(4, "number of holidays")
    line.need(5 + 2 * count, f"HOLIDAYS/DAYLIGHT SAVINGS with {count} holidays")
    holidays = tuple((line.fields[5 + 2 * i].strip(), line.fields[6 + 2 * i].strip()) for i in range(count))
    return HolidaysDST(leap.startswith("y"), line.fields[2].strip(), line.fields[3].strip(), holidays)


def _data_periods(line: _Line) -> DataPeriods:
    line.need(3, "DATA PERIODS")
    count = line.integer_at(1, "number of data periods")
    per_hour = line.integer_at(2, "records per hour")
    if count < 1 or not 1 <= per_hour <= 60:
        raise line.error(f"needs at least one period and 1-60 records per hour, found {count} and {per_hour}")
    line.need(3 + 4 * count, f"DATA PERIODS with {count} periods")
    periods = tuple(
        DataPeriod(
            name=line.fields[3 + 4 * i].strip(),
            start_weekday=line.fields[4 + 4 * i].strip(),
            start=line.date_at(5 + 4 * i, f"period {i + 1} start"),
            end=line.date_at(6 + 4 * i, f"period {i + 1} end"),
        )
        for i in range(count)
    )
    return DataPeriods(per_hour, periods)


def _expected_records(data: DataPeriods, leap_year: bool) -> int:
    year = 2024 if leap_year else 2023
    total_days = 0
    for period in data.periods:
        start, end = (_day_of_year(year, *date) for date in (period.start, period.end))
        total_days += end - start + 1 if end >= start else (366 if leap_year else 365) - start + end + 1
    return total_days * 24 * data.records_per_hour


def _day_of_year(year: int, month: int, day: int) -> int:
    return sum(calendar.monthrange(year, m)[1] for m in range(1, month)) + day


def _records(lines: Sequence[str], first_line: int, source: str) -> dict[str, tuple[Any, ...]]:
    """Split the data lines into columns, converting and checking each column at once."""
    width = len(EPW_FIELDS)
    for offset, text in enumerate(lines):
        if text.count(",") != width - 1:
            problem = "an empty line" if not text.strip() else f"{text.count(',') + 1} fields"
            raise EPWFormatError(
                f"a data record needs {width} fields, found {problem}",
                source=source,
                line=first_line + offset,
            )
    flat = ",".join(lines).split(",") if lines else []
    columns: dict[str, tuple[Any, ...]] = {}
    raw_columns = [flat[i::width] for i in range(width)]
    for name, values in zip(EPW_FIELDS, raw_columns, strict=True):
        if name in _TEXT_FIELDS:
            columns[name] = tuple(v.strip() for v in values)
        elif name in _INT_FIELDS:
            columns[name] = _integers(name, values, first_line, source)
        else:
            columns[name] = _floats(name, values, first_line, source)
    return columns


def _floats(name: str, values: Sequence[str], first_line: int, source: str) -> tuple[float, ...]:
    try:
        return tuple(map(float, values))
    except ValueError:
        pass  # find the bad value, and let blanks through as NaN
    result: list[float] = []
    for offset, value in enumerate(values):
        try:
            result.append(float(value) if value.strip() else math.nan)
        except ValueError:
            raise EPWFormatError(
                f"not a number: {value.strip()!r}", source=source, line=first_line + offset, field=name
            ) from None
    return tuple(result)


def _integers(name: str, values: Sequence[str], first_line: int, source: str) -> tuple[int, ...]:
    low, high = _INT_FIELDS[name]
    try:
        numbers = tuple(map(int, values))
    except ValueError:
        numbers = ()
    if numbers and (low is None or low <= min(numbers)) and (high is None or max(numbers) <= high):
        return numbers
    for offset, value in enumerate(values):  # find the first bad value
        try:
            number = int(value)
        except ValueError:
            raise EPWFormatError(
                f"not a whole number: {value.strip()!r}", source=source, line=first_line + offset, field=name
            ) from None
        if low is not None and high is not None and not low <= number <= high:
            raise EPWFormatError(
                f"{number} is outside {low}-{high}", source=source, line=first_line + offset, field=name
            )
    return numbers
