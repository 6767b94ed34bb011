"""A job's compact summary (kilobytes): status, counts, annual end uses and meters, requested series.

Written by the worker from the local SQL output, next to the job's outputs and before its done-marker,
so collecting a study never downloads the multi-megabyte SQL files.
"""

from __future__ import annotations

import calendar
import json
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from epcloud.errors import CorruptResultError, EpcloudError, ResultKeyError

if TYPE_CHECKING:
    from epcloud.batch.batch_result import JobResult
    from epcloud.results.sql import SQLResult
    from epcloud.study.manifest import JobEntry, VariableRequest

__all__ = ["SUMMARY_FORMAT", "check_summary", "encode_summary", "parse_summary", "summarize", "summary_token"]

log = logging.getLogger(__name__)

SUMMARY_FORMAT = 1
_ABUPS = "AnnualBuildingUtilityPerformanceSummary"
# (report, table, value prefix): every numeric cell becomes "<prefix>/<row>/<column> [<units>]".
_TABLES = (
    (_ABUPS, "End Uses", "end_use"),
    (_ABUPS, "Site and Source Energy", "site_source"),
)


def _column(prefix: str, *names: str, units: str = "") -> str:
    text = "/".join([prefix, *(n for n in names if n)])
    return f"{text} [{units}]" if units else text


def _tabular_values(sql: SQLResult) -> dict[str, float]:
    """End uses, site/source energy and the annual value of every facility meter, as flat numbers."""
    values: dict[str, float] = {}
    for report, table, prefix in _TABLES:
        for cell in sql.get_tabular_data(report_name=report, table_name=table):
            number = cell.parsed_value
            if cell.row_name and isinstance(number, float):
                values[_column(prefix, cell.row_name, cell.column_name, units=cell.units)] = number
    for cell in sql.get_tabular_data(report_name="EnergyMeters"):
        if cell.row_name.endswith(":Facility") and cell.column_name.endswith("Annual Value"):
            number = cell.parsed_value
            if isinstance(number, float):
                values[_column("meter", cell.row_name, units=cell.units)] = number
    return values


def _epoch(moment: datetime) -> int:
    """Seconds since 1970 of a naive simulation timestamp, read as UTC (EnergyPlus has no time zone)."""
    return calendar.timegm(moment.timetuple())


def _series(sql: SQLResult, requests: Iterable[VariableRequest]) -> tuple[list[dict[str, Any]], list[str]]:
    """The requested series (timestamps once per variable, values per key) and the ones not found."""
    series: list[dict[str, Any]] = []
    missing: list[str] = []
    for request in requests:
        try:
            found = sql.get_timeseries(request.name, key=request.key, frequency=request.frequency)
        except ResultKeyError as exc:
            log.warning("requested variable not in the output: %s", exc)
            missing.append(request.name)
            continue
        series.append(
            {
                "variable": found.variable_name,
                "units": found.units,
                "frequency": found.frequency,
                "timestamps": [_epoch(t) for t in found.timestamps],
                "data": {key: list(found.data[key]) for key in found.keys},
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
        summary["values"] = _tabular_values(sql)
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
