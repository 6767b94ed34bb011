"""The headline results of one run, read from its SQL tabular reports: energy, EUI, unmet hours, end uses."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from epcloud.results.errfile import ErrorReport
    from epcloud.results.sql import SQLResult

__all__ = ["Headline", "grouped_warnings", "read_headline"]

_ABUPS = "AnnualBuildingUtilityPerformanceSummary"
# ", at ANNUAL, 11/17 08:30 - 08:40": when a warning happened; the same warning at other times groups with it
_WHEN = re.compile(r",? at [^,]+, \d\d/\d\d \d\d:\d\d(?: - \d\d:\d\d)?")
_TO_KWH = {"gj": 1e6 / 3600, "mj": 1e3 / 3600, "kwh": 1.0, "mwh": 1e3, "kbtu": 0.29307107, "wh": 1e-3}
_TO_KWH_M2 = {"mj/m2": 1 / 3.6, "kwh/m2": 1.0, "kbtu/ft2": 3.15459075, "gj/m2": 1e3 / 3.6}


@dataclass
class Headline:
    """What a modeller looks at first; None where the run's reports do not say."""

    site_energy_kwh: float | None = None
    eui_kwh_m2: float | None = None
    floor_area_m2: float | None = None
    unmet_heating_hours: float | None = None
    unmet_cooling_hours: float | None = None
    end_uses_kwh: list[tuple[str, str, float]] = field(default_factory=list)  # (end use, fuel, kWh)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["end_uses_kwh"] = [
            {"end_use": u, "fuel": f, "kwh": round(v, 1)} for u, f, v in self.end_uses_kwh
        ]
        return data


def _number(value: float | str) -> float | None:
    return value if isinstance(value, float) else None


def read_headline(sql: SQLResult) -> Headline:
    """The headline results from the ABUPS report (absent tables leave their fields None)."""
    found = Headline()
    for cell in sql.get_tabular_data(report_name=_ABUPS, table_name="Site and Source Energy"):
        value, units = _number(cell.parsed_value), cell.units.lower().replace("²", "2")
        if cell.row_name != "Total Site Energy" or value is None:
            continue
        if cell.column_name == "Total Energy" and units in _TO_KWH:
            found.site_energy_kwh = value * _TO_KWH[units]
        elif cell.column_name == "Energy Per Total Building Area" and units in _TO_KWH_M2:
            found.eui_kwh_m2 = value * _TO_KWH_M2[units]
    for cell in sql.get_tabular_data(report_name=_ABUPS, table_name="Building Area"):
        if cell.row_name == "Total Building Area" and _number(cell.parsed_value) is not None:
            area = float(cell.parsed_value)
            found.floor_area_m2 = area * 0.09290304 if cell.units.lower() == "ft2" else area
    for cell in sql.get_tabular_data(report_name=_ABUPS, table_name="Comfort and Setpoint Not Met Summary"):
        value = _number(cell.parsed_value)
        if cell.row_name == "Time Setpoint Not Met During Occupied Heating":
            found.unmet_heating_hours = value
        elif cell.row_name == "Time Setpoint Not Met During Occupied Cooling":
            found.unmet_cooling_hours = value
    uses = []
    for cell in sql.get_tabular_data(report_name=_ABUPS, table_name="End Uses"):
        value, units = _number(cell.parsed_value), cell.units.lower()
        wanted = cell.row_name not in ("", "Total End Uses") and cell.column_name != "Water"
        if value and units in _TO_KWH and wanted:
            uses.append((cell.row_name, cell.column_name, value * _TO_KWH[units]))
    found.end_uses_kwh = sorted(uses, key=lambda use: -use[2])
    return found


def grouped_warnings(report: ErrorReport) -> list[tuple[str, int]]:
    """The warnings by their first line, most frequent first; recurring ones (the .err file's summary of
    repeated warnings) are marked so."""
    counts = Counter(
        _WHEN.sub("", message.message.splitlines()[0].strip()) + (" (recurring)" if message.recurring else "")
        for message in report.warnings
        if message.message.strip()
    )
    return counts.most_common()
