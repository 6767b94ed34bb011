"""Design days from DDY files: read them, pick them by criterion, and put them into a model.

A DDY is IDF text; this module reads only its ``SizingPeriod:DesignDay`` and ``Site:Location`` objects,
naming their fields as the EnergyPlus schema (Energy+.schema.epJSON) does.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any, ClassVar, Protocol

from epcloud.errors import DDYFormatError, DesignDayNotFoundError

__all__ = [
    "DesignDay",
    "ModelDocument",
    "SiteLocation",
    "apply_design_days",
    "read_ddy",
    "read_ddy_location",
    "select_design_days",
]

logger = logging.getLogger(__name__)

DESIGN_DAY = "SizingPeriod:DesignDay"
SITE_LOCATION = "Site:Location"
_YES_NO = ("No", "Yes")
# Fields after the name, in IDF order: schema name and type ("integer", "number", "text" or the choices).
_DESIGN_DAY_FIELDS: tuple[tuple[str, str | tuple[str, ...]], ...] = (
    ("month", "integer"),
    ("day_of_month", "integer"),
    (
        "day_type",
        (
            "CustomDay1",
            "CustomDay2",
            "Friday",
            "Holiday",
            "Monday",
            "Saturday",
            "SummerDesignDay",
            "Sunday",
            "Thursday",
            "Tuesday",
            "Wednesday",
            "WinterDesignDay",
        ),
    ),
    ("maximum_dry_bulb_temperature", "number"),
    ("daily_dry_bulb_temperature_range", "number"),
    (
        "dry_bulb_temperature_range_modifier_type",
        ("DefaultMultipliers", "DifferenceSchedule", "MultiplierSchedule", "TemperatureProfileSchedule"),
    ),
    ("dry_bulb_temperature_range_modifier_day_schedule_name", "text"),
    (
        "humidity_condition_type",
        (
            "DewPoint",
            "Enthalpy",
            "HumidityRatio",
            "RelativeHumiditySchedule",
            "WetBulb",
            "WetBulbProfileDefaultMultipliers",
            "WetBulbProfileDifferenceSchedule",
            "WetBulbProfileMultiplierSchedule",
        ),
    ),
    ("wetbulb_or_dewpoint_at_maximum_dry_bulb", "number"),
    ("humidity_condition_day_schedule_name", "text"),
    ("humidity_ratio_at_maximum_dry_bulb", "number"),
    ("enthalpy_at_maximum_dry_bulb", "number"),
    ("daily_wet_bulb_temperature_range", "number"),
    ("barometric_pressure", "number"),
    ("wind_speed", "number"),
    ("wind_direction", "number"),
    ("rain_indicator", _YES_NO),
    ("snow_indicator", _YES_NO),
    ("daylight_saving_time_indicator", _YES_NO),
    ("solar_model_indicator", ("ASHRAEClearSky", "ASHRAETau", "ASHRAETau2017", "Schedule", "ZhangHuang")),
    ("beam_solar_day_schedule_name", "text"),
    ("diffuse_solar_day_schedule_name", "text"),
    ("ashrae_clear_sky_optical_depth_for_beam_irradiance_taub_", "number"),
    ("ashrae_clear_sky_optical_depth_for_diffuse_irradiance_taud_", "number"),
    ("sky_clearness", "number"),
    ("maximum_number_warmup_days", "integer"),
    ("begin_environment_reset_mode", ("FullResetAtBeginEnvironment", "SuppressAllBeginEnvironmentResets")),
)
_DESIGN_DAY_REQUIRED = ("month", "day_of_month", "day_type", "wind_speed", "wind_direction")
_SITE_LOCATION_FIELDS: tuple[tuple[str, str | tuple[str, ...]], ...] = (
    ("latitude", "number"),
    ("longitude", "number"),
    ("time_zone", "number"),
    ("elevation", "number"),
    ("keep_site_location_information", _YES_NO),
)
# "... Ann Htg 99.6% Condns DB", "... Ann Clg .4% Condns DB=>MWB", "... Ann Htg Wind 99.6% Condns WS=>MCDB"
_CRITERION = re.compile(r"\bAnn\s+(Htg Wind|Htg|Clg|Hum_n)\s+(\d*\.?\d+)%\s+Condns\s+(\S+)", re.IGNORECASE)
_KINDS = {"htg": "heating", "clg": "cooling", "hum_n": "humidification", "htg wind": "heating wind"}


class ModelDocument(Protocol):
    """What :func:`apply_design_days` needs of a model document (epcloud.model's documents have it)."""

    def __getitem__(self, type_name: str, /) -> Iterable[Any]: ...

    def remove(self, obj: Any, /) -> Any: ...

    def add(self, type_name: str, name: str, /, **fields: Any) -> Any: ...


@dataclass(frozen=True)
class DesignDay:
    """A ``SizingPeriod:DesignDay``: its name and its non-blank fields under their schema names."""

    name: str
    fields: Mapping[str, str | float | int]

    @property
    def kind(self) -> str | None:
        """ "heating", "cooling", "humidification" or "heating wind" for annual ASHRAE design days."""
        found = _CRITERION.search(self.name)
        return _KINDS[found.group(1).lower()] if found else None

    @property
    def percent(self) -> float | None:
        """The annual percentile of an ASHRAE design day: 99.6 for "Htg 99.6%", 0.4 for "Clg .4%"."""
        found = _CRITERION.search(self.name)
        return float(found.group(2)) if found else None

    @property
    def condition(self) -> str | None:
        """What the design day is built on: "DB", "DB=>MWB", "WB=>MDB", "DP=>MDB", "Enth=>MDB"..."""
        found = _CRITERION.search(self.name)
        return found.group(3) if found else None


@dataclass(frozen=True)
class SiteLocation:
    """A ``Site:Location``: name, latitude and longitude (degrees), time zone (h), elevation (m)."""

    NUMBERS: ClassVar[tuple[str, ...]] = ("latitude", "longitude", "time_zone", "elevation")

    name: str
    latitude: float
    longitude: float
    time_zone: float
    elevation: float

    @property
    def fields(self) -> dict[str, float]:
        """The fields under their schema names, as :meth:`ModelDocument.add` takes them."""
        return {name: getattr(self, name) for name in self.NUMBERS}


def read_ddy(path: str | PathLike[str]) -> list[DesignDay]:
    """The design days of a DDY file, in file order."""
    return _read(path)[0]


def read_ddy_location(path: str | PathLike[str]) -> SiteLocation | None:
    """The ``Site:Location`` of a DDY file, or None if it has none."""
    return _read(path)[1]


def select_design_days(
    days: Sequence[DesignDay], heating: str | float | None = "99.6%", cooling: str | float | None = "1%"
) -> list[DesignDay]:
    """The annual heating dry-bulb and cooling dry-bulb (=> mean coincident wet-bulb) design days at
    these percentiles, e.g. "Ann Htg 99.6% Condns DB" and "Ann Clg 1% Condns DB=>MWB"; None skips one."""
    chosen = []
    for kind, wanted in (("heating", heating), ("cooling", cooling)):
        if wanted is None:
            continue
        percent = _percent(wanted)
        matching = [day for day in days if day.kind == kind and _dry_bulb(day.condition)]
        for day in matching:
            if day.percent is not None and abs(day.percent - percent) < 1e-9:
                chosen.append(day)
                break
        else:
            available = ", ".join(f"{day.percent:g}%" for day in matching) or "none"
            raise DesignDayNotFoundError(
                f"no annual {kind} dry-bulb design day at {percent:g}% among {len(days)} design days "
                f"(available {kind} percentiles: {available})"
            )
    return chosen


def apply_design_days(
    doc: ModelDocument, design_days: Iterable[DesignDay], location: SiteLocation | None = None
) -> None:
    """Replace a model's ``SizingPeriod:DesignDay`` objects, and its ``Site:Location`` if ``location``."""
    days = list(design_days)
    old = list(doc[DESIGN_DAY])
    for obj in old:
        doc.remove(obj)
    for day in days:
        doc.add(DESIGN_DAY, day.name, **day.fields)
    if location is not None:
        for obj in list(doc[SITE_LOCATION]):
            doc.remove(obj)
        doc.add(SITE_LOCATION, location.name, **location.fields)
    logger.info(
        "replaced %d design days with %d%s",
        len(old),
        len(days),
        f" and the site location with {location.name!r}" if location else "",
    )


def _percent(value: str | float) -> float:
    text = str(value).strip().rstrip("%").strip()
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"not a design-day percentile: {value!r} (use e.g. '99.6%' or '0.4%')") from None


def _dry_bulb(condition: str | None) -> bool:
    return condition is not None and condition.upper().split("=>")[0] == "DB"


@dataclass
class _Object:
    type_name: str
    fields: list[str]
    lines: list[int]


def _read(path: str | PathLike[str]) -> tuple[list[DesignDay], SiteLocation | None]:
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    source = str(path)
    days: list[DesignDay] = []
    location = None
    for obj in _objects(text, source):
        kind = obj.type_name.lower()
        if kind == DESIGN_DAY.lower():
            values = _convert(obj, _DESIGN_DAY_FIELDS, source)
            for required in _DESIGN_DAY_REQUIRED:
                if required not in values:
                    raise DDYFormatError(
                        f"design day {obj.fields[1].strip()!r} has no {required}",
                        source=source,
                        line=obj.lines[0],
                        field=required,
                    )
            days.append(DesignDay(obj.fields[1].strip(), values))
        elif kind == SITE_LOCATION.lower():
            values = _convert(obj, _SITE_LOCATION_FIELDS, source)
            numbers = (float(values.get(name, 0.0)) for name in SiteLocation.NUMBERS)
            location = SiteLocation(obj.fields[1].strip(), *numbers)
    return days, location


def _convert(
    obj: _Object, spec: Sequence[tuple[str, str | tuple[str, ...]]], source: str
) -> dict[str, str | float | int]:
    """The object's non-blank fields after the name, typed and named as the schema does."""
    if len(obj.fields) < 2 or not obj.fields[1].strip():
        raise DDYFormatError(f"{obj.type_name} object has no name", source=source, line=obj.lines[0])
    values = obj.fields[2:]
    if len(values) > len(spec):
        raise DDYFormatError(
            f"{obj.type_name} has {len(obj.fields) - 1} fields, at most {len(spec) + 1} allowed",
            source=source,
            line=obj.lines[len(spec) + 2],
        )
    result: dict[str, str | float | int] = {}
    for (name, kind), text, line in zip(spec, values, obj.lines[2:], strict=False):
        text = text.strip()
        if not text:
            continue
        if isinstance(kind, tuple):
            canonical = next((choice for choice in kind if choice.lower() == text.lower()), None)
            if canonical is None:
                raise DDYFormatError(
                    f"{text!r} is not one of {', '.join(kind)}", source=source, line=line, field=name
                )
            result[name] = canonical
        elif kind == "text":
            result[name] = text
        else:
            try:
                number = float(text)
            except ValueError:
                raise DDYFormatError(
                    f"not a number: {text!r}", source=source, line=line, field=name
                ) from None
            if kind == "integer" and not number.is_integer():
                raise DDYFormatError(f"not a whole number: {text!r}", source=source, line=line, field=name)
            result[name] = int(number) if kind == "integer" else number
    return result


def _objects(text: str, source: str) -> Iterator[_Object]:
    """The objects of IDF text: fields split on commas, objects ended by semicolons, ``!`` comments."""
    fields: list[str] = []
    lines: list[int] = []
    current: list[str] = []
    current_line = 0
    for number, raw_line in enumerate(text.splitlines(), start=1):
        for piece in re.split(r"([,;])", raw_line.split("!", 1)[0]):
            if piece not in (",", ";"):
                if piece.strip() and not "".join(current).strip():
                    current_line = number
                current.append(piece)
                continue
            fields.append("".join(current))
            lines.append(current_line or number)
            current, current_line = [], 0
            if piece == ";":
                yield _Object(fields[0].strip(), fields, lines)
                fields, lines = [], []
    if fields or "".join(current).strip():
        start = lines[0] if lines else current_line
        raise DDYFormatError("the last object is not ended by a ';'", source=source, line=start)
