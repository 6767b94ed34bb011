"""A job's compact summary (kilobytes): what was simulated, annual energy, design loads, requested series.

Written by the worker from the local SQL output, next to the job's outputs and before its done-marker,
so collecting a study never downloads the multi-megabyte SQL files. Energy is kept only when a run period
was simulated (a design-day run has no annual energy: its values are null, not 0); meters and the total
site energy come at full precision from the reported meter values of the run periods alone.
"""

from __future__ import annotations

import calendar
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from epcloud.errors import CorruptResultError, EpcloudError, ResultKeyError

if TYPE_CHECKING:
    from epcloud.batch.batch_result import JobResult
    from epcloud.results.sql import SQLResult
    from epcloud.study.manifest import JobEntry, VariableRequest

__all__ = [
    "BUILDING_AREA",
    "SUMMARY_FORMAT",
    "TOTAL_SITE_ENERGY",
    "check_summary",
    "describe_run_period",
    "encode_summary",
    "parse_summary",
    "run_periods",
    "summarize",
    "summary_token",
]

log = logging.getLogger(__name__)

SUMMARY_FORMAT = 1
_ABUPS = "AnnualBuildingUtilityPerformanceSummary"
# (report, table, value prefix): every numeric cell becomes "<prefix>/<row>/<column> [<units>]".
_TABLES = (
    (_ABUPS, "End Uses", "end_use"),
    (_ABUPS, "Site and Source Energy", "site_source"),
)
_AREAS = ("Total Building Area", "Net Conditioned Building Area")
#: The value columns of every summary, whatever was simulated (null when it does not apply).
TOTAL_SITE_ENERGY = "site/Total Site Energy [GJ]"
BUILDING_AREA = "building/Total Building Area [m2]"
# EnvironmentPeriods.EnvironmentType of a run period (weather file or design run period).
_RUN_PERIOD_TYPES = (2, 3)
# The facility meters whose sum is EnergyPlus's Total Site Energy (purchased fuels, district energy).
_SITE_FUELS = (
    "Electricity",
    "NaturalGas",
    "Gasoline",
    "Diesel",
    "Coal",
    "FuelOilNo1",
    "FuelOilNo2",
    "Propane",
    "OtherFuel1",
    "OtherFuel2",
    "DistrictCooling",
    "DistrictHeatingWater",
    "DistrictHeatingSteam",
)
_TABLE_ROUNDING = 0.005  # the tabular reports print two decimals


def _column(prefix: str, *names: str, units: str = "") -> str:
    text = "/".join([prefix, *(n for n in names if n)])
    return f"{text} [{units}]" if units else text


def run_periods(sql: SQLResult) -> list[tuple[int, str, str]]:
    """(environment index, first "MM-DD", last "MM-DD") of each simulated run period, in run order."""
    found: list[tuple[int, str, str]] = []
    for index, kind in sql.query("SELECT EnvironmentPeriodIndex, EnvironmentType FROM EnvironmentPeriods"):
        if kind not in _RUN_PERIOD_TYPES:
            continue
        rows = sql.query(
            "SELECT MIN(TimeIndex), MAX(TimeIndex) FROM Time WHERE EnvironmentPeriodIndex = ? "
            "AND Month IS NOT NULL",
            (index,),
        )
        first, last = rows[0] if rows else (None, None)
        if first is None:
            continue
        dates = [sql.query("SELECT Month, Day FROM Time WHERE TimeIndex = ?", (i,))[0] for i in (first, last)]
        start, end = (f"{int(month):02d}-{int(day):02d}" for month, day in dates)
        found.append((int(index), start, end))
    return found


def describe_run_period(sql: SQLResult) -> str:
    """What was simulated: "annual", run period dates ("01-01..01-31", several joined by ", "),
    "design days" (sizing periods only) or "none"."""
    periods = run_periods(sql)
    if periods:
        spans = [f"{start}..{end}" for _, start, end in periods]
        return "annual" if spans == ["01-01..12-31"] else ", ".join(spans)
    kinds = [kind for (kind,) in sql.query("SELECT EnvironmentType FROM EnvironmentPeriods")]
    return "design days" if kinds else "none"


def _numbers(sql: SQLResult, report: str, table: str | None) -> list[tuple[str, str, str, float]]:
    """(row, column, units, value) of every numeric cell of one table of the whole facility."""
    cells = sql.get_tabular_data(report_name=report, table_name=table)
    return [
        (c.row_name, c.column_name, c.units, number)
        for c in cells
        if c.row_name and isinstance(number := c.parsed_value, float)
    ]


def _meters(sql: SQLResult, environments: Sequence[int]) -> dict[str, float]:
    """Facility meters summed over the run periods, in GJ at full precision (from the reported values,
    one reporting frequency per meter: any one sums to the same total)."""
    if not environments:
        return {}
    marks = ",".join("?" * len(environments))
    rows = sql.query(
        "SELECT d.Name, d.ReportingFrequency, d.Units, SUM(r.Value) FROM ReportData r "
        "JOIN ReportDataDictionary d ON d.ReportDataDictionaryIndex = r.ReportDataDictionaryIndex "
        "JOIN Time t ON t.TimeIndex = r.TimeIndex "
        f"WHERE d.IsMeter = 1 AND t.EnvironmentPeriodIndex IN ({marks}) "
        "GROUP BY d.ReportDataDictionaryIndex",
        tuple(environments),
    )
    found: dict[str, float] = {}
    for name, _frequency, units, total in rows:
        if str(name).endswith(":Facility") and units == "J" and total is not None:
            found.setdefault(str(name), float(total) / 1e9)
    return found


def _energy_values(sql: SQLResult, environments: Sequence[int]) -> dict[str, float | None]:
    """End uses, site/source energy and facility meters of the run periods; the total site energy at full
    precision when the reported meters add up to the table's (rounded) total."""
    values: dict[str, float | None] = {}
    for report, table, prefix in _TABLES:
        for row, column, units, number in _numbers(sql, report, table):
            values[_column(prefix, row, column, units=units)] = number
    meters = _meters(sql, environments)
    for name, total in meters.items():
        values[_column("meter", name, units="GJ")] = total
    # EnergyPlus's EnergyMeters table also counts the sizing periods: it stands in for the meters not
    # reported only when none ran (else its numbers would mix design days into the run period's).
    marks = ",".join("?" * len(_RUN_PERIOD_TYPES))
    sizing = sql.query(
        f"SELECT COUNT(*) FROM EnvironmentPeriods WHERE EnvironmentType NOT IN ({marks})", _RUN_PERIOD_TYPES
    )[0][0]
    for row, column, units, number in _numbers(sql, "EnergyMeters", None) if not sizing else ():
        key = _column("meter", row, units=units)
        if row.endswith(":Facility") and column.endswith("Annual Value") and key not in values:
            values[key] = number
    table_total = values.get(_column("site_source", "Total Site Energy", "Total Energy", units="GJ"))
    precise = sum(meters.get(f"{fuel}:Facility", 0.0) for fuel in _SITE_FUELS)
    if table_total is not None and abs(precise - table_total) <= _TABLE_ROUNDING + 1e-9:
        values[TOTAL_SITE_ENERGY] = precise
    else:
        values[TOTAL_SITE_ENERGY] = table_total
    return values


def _design_loads(sql: SQLResult) -> dict[str, float]:
    """Zone peak sensible design loads from the sizing tables, and the facility's (their sum: the zones'
    peaks need not coincide), in W; empty when zone sizing did not run."""
    values: dict[str, float] = {}
    for mode in ("Cooling", "Heating"):
        zones = {
            row: number
            for row, column, units, number in _numbers(sql, "HVACSizingSummary", f"Zone Sensible {mode}")
            if column == "Calculated Design Load" and units == "W" and row != "None"
        }
        for zone, number in zones.items():
            values[_column("design_load", zone, mode, units="W")] = number
        if zones:
            values[_column("design_load", "Facility", mode, units="W")] = sum(zones.values())
    return values


def _tabular_values(sql: SQLResult) -> tuple[str, dict[str, float | None]]:
    """What was simulated, and its values: building areas, design loads, and (with a run period) energy."""
    values: dict[str, float | None] = {BUILDING_AREA: None, TOTAL_SITE_ENERGY: None}
    for row, column, units, number in _numbers(sql, _ABUPS, "Building Area"):
        if row in _AREAS and column == "Area":
            values[_column("building", row, units=units)] = number
    values.update(_design_loads(sql))
    environments = [index for index, _, _ in run_periods(sql)]
    if environments:
        values.update(_energy_values(sql, environments))
    return describe_run_period(sql), values


def _epoch(moment: datetime) -> int:
    """Seconds since 1970 of a naive simulation timestamp, read as UTC (EnergyPlus has no time zone)."""
    return calendar.timegm(moment.timetuple())


def _series(sql: SQLResult, requests: Iterable[VariableRequest]) -> tuple[list[dict[str, Any]], list[str]]:
    """The requested series (timestamps once per variable, values per key) and the ones not found.

    With a run period, only the run periods' values are kept: the sizing periods ran first on the same
    dates and would appear twice. A design-day run keeps its design days."""
    series: list[dict[str, Any]] = []
    missing: list[str] = []
    periods: list[int | None] = [index for index, _, _ in run_periods(sql)] or [None]
    for request in requests:
        try:
            parts = [
                sql.get_timeseries(
                    request.name, key=request.key, frequency=request.frequency, environment=env
                )
                for env in periods
            ]
        except ResultKeyError as exc:
            log.warning("requested variable not in the output: %s", exc)
            missing.append(request.name)
            continue
        first = parts[0]
        series.append(
            {
                "variable": first.variable_name,
                "units": first.units,
                "frequency": first.frequency,
                "timestamps": [_epoch(t) for part in parts for t in part.timestamps],
                "data": {key: [v for part in parts for v in part.data[key]] for key in first.keys},
            }
        )
    return series, missing


def summarize(entry: JobEntry, result: JobResult, requests: Iterable[VariableRequest] = ()) -> dict[str, Any]:
    """The summary of one finished job, read from its local outputs."""
    errors = result.errors
    status = getattr(result, "status", None)
    summary: dict[str, Any] = {
        "format": SUMMARY_FORMAT,
        "id": entry.id,
        "index": entry.index,
        "status": "succeeded" if result.success else "failed",
        "runtime_seconds": result.runtime_seconds,
        "exit_code": result.exit_code,
        "timed_out": result.timed_out,
        "warnings": errors.warning_count,
        "severe": errors.severe_count,
        "fatal": errors.fatal[0].message if errors.fatal else None,
        "error": getattr(result, "error", None),
        "energyplus_version": status.energyplus_version if status is not None else None,
        "run_period": None,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "values": {},
        "series": [],
        "missing_variables": [],
    }
    has_sql = getattr(result, "has", None)
    if has_sql is None or not has_sql("sql"):
        return summary
    try:
        sql = result.sql  # type: ignore[union-attr]
        summary["run_period"], summary["values"] = _tabular_values(sql)
        summary["series"], summary["missing_variables"] = _series(sql, requests)
    except EpcloudError as exc:  # a run that died before writing a readable SQL file
        log.warning("job %s: no results read from its SQL output: %s", entry.id, exc)
    return summary


def parse_summary(text: str | bytes, source: str) -> dict[str, Any]:
    """A summary read back from the store, checked; anything malformed raises `CorruptResultError`."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorruptResultError(f"{source}: not valid JSON ({exc}); rerun the job") from exc
    return check_summary(data, source)


def check_summary(data: object, source: str) -> dict[str, Any]:
    """``data`` if it is a summary this epcloud reads, else `CorruptResultError`."""
    if not isinstance(data, Mapping) or not isinstance(data.get("values"), Mapping) or "status" not in data:
        raise CorruptResultError(f"{source}: not a job summary; rerun the job")
    if int(data.get("format", 0)) > SUMMARY_FORMAT:
        raise CorruptResultError(f"{source}: written by a newer epcloud; upgrade epcloud to collect it")
    return dict(data)


def encode_summary(summary: Mapping[str, Any]) -> bytes:
    """The stored bytes of a summary (compact, keys sorted, so equal summaries have equal tokens)."""
    return json.dumps(summary, separators=(",", ":"), sort_keys=True).encode("utf-8")


def summary_token(data: bytes) -> str:
    """A short content hash of a summary's bytes: the version of a job's result in the done index."""
    import hashlib

    return hashlib.sha256(data).hexdigest()[:16]
