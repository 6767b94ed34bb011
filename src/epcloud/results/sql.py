"""Reading EnergyPlus's SQLite output (eplusout.sql): variables, meters, environments, tabular reports."""

from __future__ import annotations

import difflib
import logging
import math
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from epcloud.errors import (
    CorruptResultError,
    EnvironmentNotFoundError,
    ResultNotFoundError,
    TabularValueNotFoundError,
    VariableNotFoundError,
)
from epcloud.results.errfile import decode_text
from epcloud.results.tabular import TabularCell, parse_tabular_value
from epcloud.results.timeseries import TimeSeriesResult

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEFAULT_YEAR", "ENVIRONMENT_TYPES", "FREQUENCIES", "EnvironmentInfo", "SQLResult", "VariableInfo"]

logger = logging.getLogger(__name__)

#: Year given to timestamps EnergyPlus writes without one (design days have Year=0); a leap year so that
#: 29 February always exists.
DEFAULT_YEAR = 2000

#: EnvironmentPeriods.EnvironmentType codes (EnergyPlus's KindOfSim).
ENVIRONMENT_TYPES = {
    1: "DesignDay",
    2: "RunPeriodDesign",
    3: "RunPeriodWeather",
    4: "HVACSizeDesignDay",
    5: "HVACSizeRunPeriodDesign",
    6: "ReadAllWeatherData",
}

#: ReportDataDictionary.ReportingFrequency values, finest first.
FREQUENCIES = ("HVAC System Timestep", "Zone Timestep", "Hourly", "Daily", "Monthly", "Run Period", "Annual")

# Other names users give frequencies (the IDF spellings among them), after _normalize().
_FREQUENCY_ALIASES = {
    "timestep": ("Zone Timestep", "HVAC System Timestep"),
    "detailed": ("HVAC System Timestep",),
    "environment": ("Run Period",),
    "yearly": ("Annual",),
}

_MAX_PARAMETERS = 900  # SQLite builds before 3.32 accept at most 999 parameters in one statement
_REQUIRED_TABLES = ("ReportDataDictionary", "ReportData", "Time", "EnvironmentPeriods")
_TABULAR_VIEW = "TabularDataWithStrings"


@dataclass(frozen=True)
class VariableInfo:
    """One entry of the SQL data dictionary: a variable (or meter) for one key at one frequency."""

    name: str
    key: str  # a meter has no key; its name stands in for it
    frequency: str
    units: str
    is_meter: bool
    index: int
    variable_type: str = ""  # ReportDataDictionary.Type: "Avg" (a state) or "Sum" (an accumulation)

    @property
    def key_value(self) -> str:
        """idfkit's name for `key`."""
        return self.key


@dataclass(frozen=True)
class EnvironmentInfo:
    """One simulated environment: a design day or a run period."""

    index: int
    name: str
    type: str  # one of ENVIRONMENT_TYPES' values

    @property
    def environment_type(self) -> int:
        """The EnergyPlus code of `type` (1 DesignDay, 2 RunPeriodDesign, 3 RunPeriodWeather...), as idfkit
        gives it."""
        for code, name in ENVIRONMENT_TYPES.items():
            if name == self.type:
                return code
        return int(self.type)  # a code EnergyPlus added later, kept as its number


class SQLResult:
    """A read-only view of one eplusout.sql file; a context manager, and safe to share between threads."""

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, db_path: str | os.PathLike[str] | None = None
    ) -> None:
        """Open ``path`` (``db_path=`` is idfkit's name for it)."""
        if (path is None) == (db_path is None):
            raise TypeError("SQLResult() takes the .sql file's path once: SQLResult(path) or db_path=")
        self._path = Path(path if path is not None else db_path)  # type: ignore[arg-type]
        if not self._path.is_file():
            raise ResultNotFoundError(f"EnergyPlus SQL output not found: {self._path}")
        # immutable=1: a finished run's file never changes, so SQLite may skip locking (network mounts).
        uri = self._path.resolve().as_uri() + "?mode=ro&immutable=1"
        self._lock = threading.Lock()
        self._dictionary: list[VariableInfo] | None = None
        self._environment_starts: dict[int, datetime] = {}
        self._conn: sqlite3.Connection | None = None
        try:
            self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._conn.text_factory = decode_text
            names = self._conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
            self._tables = frozenset(name for (name,) in names)
        except sqlite3.Error as exc:
            self.close()
            raise CorruptResultError(f"{self._path} is not a readable SQLite file: {exc}") from exc
        missing = [table for table in _REQUIRED_TABLES if table not in self._tables]
        if missing:
            self.close()
            raise CorruptResultError(
                f"{self._path} is not an EnergyPlus SQL output: table(s) {', '.join(missing)} missing"
            )

    # -- lifetime -----------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        return self._path

    def close(self) -> None:
        """Close the database; later calls raise ValueError."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> SQLResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SQLResult {self._path}{'' if self._conn is not None else ' (closed)'}>"

    # -- raw access ---------------------------------------------------------------------------

    def query(
        self,
        sql: str,
        params: Sequence[Any] | Mapping[str, Any] = (),
        *,
        parameters: Sequence[Any] | Mapping[str, Any] | None = None,
    ) -> list[tuple[Any, ...]]:
        """Run a read-only SQL statement and return every row; SQL mistakes raise sqlite3 errors.

        ``parameters=`` is idfkit's name for ``params``.
        """
        if parameters is not None:
            if params:
                raise TypeError("query() takes params or parameters=, not both")
            params = parameters
        try:
            return self._execute(sql, params)
        except sqlite3.DatabaseError as exc:
            if type(exc) is sqlite3.DatabaseError:  # the file itself is damaged, not the statement
                raise self._corrupt(exc) from exc
            raise

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one of our own statements: a failure means the file is damaged or not what we expect."""
        try:
            return self._execute(sql, params)
        except sqlite3.Error as exc:
            raise self._corrupt(exc) from exc

    def _execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any]) -> list[tuple[Any, ...]]:
        with self._lock:
            if self._conn is None:
                raise ValueError(f"{self._path}: the SQL result is closed")
            return self._conn.execute(sql, params).fetchall()

    def _corrupt(self, exc: sqlite3.Error) -> CorruptResultError:
        return CorruptResultError(f"{self._path} cannot be read (truncated or damaged?): {exc}")

    # -- catalogue ----------------------------------------------------------------------------

    def list_variables(self) -> list[VariableInfo]:
        """Every variable and meter the run reported, one entry per key and frequency."""
        if self._dictionary is None:
            rows = self._fetch(
                "SELECT ReportDataDictionaryIndex, IsMeter, KeyValue, Name, ReportingFrequency, Units, Type "
                "FROM ReportDataDictionary ORDER BY ReportDataDictionaryIndex"
            )
            self._dictionary = [
                VariableInfo(
                    name=name or "",
                    key=key if key is not None else (name or ""),
                    frequency=frequency or "",
                    units=units or "",
                    is_meter=bool(is_meter),
                    index=index,
                    variable_type=kind or "",
                )
                for index, is_meter, key, name, frequency, units, kind in rows
            ]
        return list(self._dictionary)

    def list_environments(self) -> list[EnvironmentInfo]:
        """The simulated environments (design days, run periods) in the order they ran."""
        rows = self._fetch(
            "SELECT EnvironmentPeriodIndex, EnvironmentName, EnvironmentType FROM EnvironmentPeriods "
            "ORDER BY EnvironmentPeriodIndex"
        )
        return [
            EnvironmentInfo(index, name or "", ENVIRONMENT_TYPES.get(kind, str(kind)))
            for index, name, kind in rows
        ]

    # -- time series --------------------------------------------------------------------------

    def get_timeseries(
        self,
        variable: str | None = None,
        key: str = "*",
        frequency: str | None = None,
        environment: int | str | EnvironmentInfo | None = None,
        *,
        variable_name: str | None = None,
        key_value: str | None = None,
    ) -> TimeSeriesResult:
        """Values of a variable or meter (name case-insensitive), warmup days excluded.

        `key="*"` returns every key; `frequency=None` takes the finest one reported; `environment` (name,
        index or EnvironmentInfo) limits the series to one design day or run period, None keeps them all;
        ``"annual"`` / ``"sizing"`` (idfkit's values) keep the weather-file run periods / the design days.
        ``variable_name=`` and ``key_value=`` are idfkit's names for ``variable`` and ``key``.
        """
        variable, key = _idfkit_arguments(variable, key, variable_name, key_value)
        entries = self._entries(variable, key, frequency)
        envs = self._environments(environment) if environment is not None else None
        wanted = {entry.index: entry for entry in entries}
        if len(wanted) <= _MAX_PARAMETERS:
            among = f"({', '.join('?' * len(wanted))})"
            params: list[Any] = list(wanted)
        else:  # too many keys to name one by one: every key of the variable, unwanted rows skipped below
            among = (
                "(SELECT ReportDataDictionaryIndex FROM ReportDataDictionary "
                "WHERE Name = ? COLLATE NOCASE AND ReportingFrequency = ?)"
            )
            params = [entries[0].name, entries[0].frequency]
        sql = (
            "SELECT rd.ReportDataDictionaryIndex, rd.TimeIndex, rd.Value, t.EnvironmentPeriodIndex, "
            "t.Year, t.Month, t.Day, t.Hour, t.Minute "
            "FROM ReportData AS rd JOIN Time AS t ON t.TimeIndex = rd.TimeIndex "
            f"WHERE rd.ReportDataDictionaryIndex IN {among} AND (t.WarmupFlag IS NULL OR t.WarmupFlag = 0)"
        )
        if envs is not None:
            sql += f" AND t.EnvironmentPeriodIndex IN ({', '.join('?' * len(envs))})"
            params.extend(e.index for e in envs)
        timestamps: dict[int, datetime] = {}
        series: dict[int, dict[int, float]] = {index: {} for index in wanted}
        environments: set[int] = set()
        frequency_name = _normalize(entries[0].frequency)
        for index, time_index, value, env_index, *when in self._fetch(sql + " ORDER BY rd.TimeIndex", params):
            if index not in wanted:
                continue
            if time_index not in timestamps:
                timestamps[time_index] = self._timestamp(frequency_name, env_index, *when)
                environments.add(env_index)
            series[index][time_index] = math.nan if value is None else float(value)
        env_name = envs[0].name if envs is not None and len(envs) == 1 else None
        if env_name is None and len(environments) == 1:
            (only,) = environments
            env_name = next(e.name for e in self.list_environments() if e.index == only)
        keys = tuple(entry.key for entry in entries)
        data = {e.key: tuple(series[e.index].get(t, math.nan) for t in timestamps) for e in entries}
        first = entries[0]
        return TimeSeriesResult(
            variable_name=first.name,
            key_value=first.key if key != "*" or len(keys) == 1 else "*",
            units=first.units,
            frequency=first.frequency,
            timestamps=tuple(timestamps.values()),
            keys=keys,
            data=data,
            environment=env_name,
        )

    def _entries(self, variable: str, key: str, frequency: str | None) -> list[VariableInfo]:
        """The dictionary entries a time-series request means: one per key, all at one frequency."""
        dictionary = self.list_variables()
        asked = variable.strip().lower()
        entries = [e for e in dictionary if e.name.lower() == asked]
        if not entries:
            names = sorted({e.name for e in dictionary})
            close = _close_names(variable, names)
            hint = (
                f"Close names: {', '.join(close)}."
                if close
                else (f"It reports {len(names)} others; list_variables() shows them.")
            )
            raise VariableNotFoundError(
                f"{self._path}: no output variable or meter named {variable!r}. {hint} (A variable is in the "
                "SQL output only when the model asks for it with Output:Variable or Output:Meter.)",
                close,
            )
        name = entries[0].name
        if key != "*":
            matching = [e for e in entries if e.key.lower() == key.strip().lower()]
            if not matching:
                keys = sorted({e.key for e in entries})
                close = _close_names(key, keys)
                raise VariableNotFoundError(
                    f"{self._path}: {name!r} has no key {key!r}. Its keys: {_shorten(keys)}. "
                    "Use key='*' for all of them.",
                    close or keys,
                )
            entries = matching
        if frequency is not None:
            accepted = {_normalize(f) for f in _FREQUENCY_ALIASES.get(_normalize(frequency), (frequency,))}
            matching = [e for e in entries if _normalize(e.frequency) in accepted]
            if not matching:
                reported = sorted({e.frequency for e in entries}, key=_frequency_rank)
                raise VariableNotFoundError(
                    f"{self._path}: {name!r} is not reported at frequency {frequency!r}; it is reported "
                    f"{', '.join(reported)}. Valid frequencies: {', '.join(FREQUENCIES)}.",
                    reported,
                )
            entries = matching
        finest = min(entries, key=lambda e: _frequency_rank(e.frequency)).frequency
        chosen: dict[str, VariableInfo] = {}
        for entry in entries:
            if entry.frequency != finest:
                continue
            if entry.key.lower() in chosen:  # the same key asked for twice (e.g. with two schedules)
                logger.warning(
                    "%s: %r key %r is reported twice at %s; using the first",
                    self._path,
                    name,
                    entry.key,
                    finest,
                )
                continue
            chosen[entry.key.lower()] = entry
        left_out = sorted({e.key for e in entries} - {e.key for e in chosen.values()})
        if left_out:
            logger.warning(
                "%s: %r is reported %s for some keys only; left out: %s",
                self._path,
                name,
                finest,
                _shorten(left_out),
            )
        return list(chosen.values())

    def _environments(self, environment: int | str | EnvironmentInfo) -> list[EnvironmentInfo]:
        """One environment, or for idfkit's ``"annual"`` / ``"sizing"`` every environment of those types."""
        kind = environment.strip().lower() if isinstance(environment, str) else None
        if kind not in _ENVIRONMENT_KINDS or any(e.name.lower() == kind for e in self.list_environments()):
            return [self._environment(environment)]
        found = [e for e in self.list_environments() if e.type in _ENVIRONMENT_KINDS[kind]]
        if not found:
            known = "; ".join(f"{e.index}: {e.name} ({e.type})" for e in self.list_environments()) or "none"
            raise EnvironmentNotFoundError(
                f"{self._path}: environment={environment!r} means {' or '.join(_ENVIRONMENT_KINDS[kind])} "
                f"environments, and this run simulated none. Environments: {known}.",
                [e.name for e in self.list_environments()],
            )
        return found

    def _environment(self, environment: int | str | EnvironmentInfo) -> EnvironmentInfo:
        environments = self.list_environments()
        for env in environments:
            if isinstance(environment, EnvironmentInfo):
                if env.index == environment.index:
                    return env
            elif isinstance(environment, int):
                if env.index == environment:
                    return env
            elif env.name.lower() == environment.strip().lower():
                return env
        known = "; ".join(f"{e.index}: {e.name} ({e.type})" for e in environments) or "none"
        raise EnvironmentNotFoundError(
            f"{self._path}: no environment {environment!r}. Environments: {known}.",
            [e.name for e in environments],
        )

    def _timestamp(
        self,
        frequency: str,
        env_index: int,
        year: int | None,
        month: int | None,
        day: int | None,
        hour: int | None,
        minute: int | None,
    ) -> datetime:
        """When a value happened: the interval end for timestep and hourly data (EnergyPlus's own stamp,
        so the last hour of a day is Hour=24), the start of the period covered for coarser data."""
        # Run-period and annual rows carry no date, and EnergyPlus reuses one Time row for the values
        # of every frequency that ends at the same moment: the frequency decides, not Time.IntervalType.
        if frequency == "annual":
            return max(datetime(year or DEFAULT_YEAR, 1, 1), self._environment_start(env_index))
        if frequency == "runperiod" or month is None or day is None:
            return self._environment_start(env_index)
        year = year or DEFAULT_YEAR
        if frequency == "monthly":
            return max(datetime(year, month, 1), self._environment_start(env_index))
        if frequency == "daily":
            return datetime(year, month, day)
        return datetime(year, month, day) + timedelta(hours=hour or 0, minutes=minute or 0)

    def _environment_start(self, env_index: int) -> datetime:
        """Midnight of an environment's first day."""
        if env_index not in self._environment_starts:
            rows = self._fetch(
                "SELECT Year, Month, Day FROM Time WHERE EnvironmentPeriodIndex = ? "
                "AND Month IS NOT NULL AND Day IS NOT NULL ORDER BY TimeIndex LIMIT 1",
                [env_index],
            )
            year, month, day = rows[0] if rows else (None, 1, 1)
            self._environment_starts[env_index] = datetime(year or DEFAULT_YEAR, month, day)
        return self._environment_starts[env_index]

    # -- tabular reports ----------------------------------------------------------------------

    def get_tabular_data(
        self,
        report_name: str | None = None,
        table_name: str | None = None,
        row_name: str | None = None,
        column_name: str | None = None,
        report_for: str | None = None,
    ) -> list[TabularCell]:
        """Cells of the tabular reports matching every filter given (case-insensitive), in report order."""
        if _TABULAR_VIEW not in self._tables:
            logger.info("%s has no tabular reports (Output:SQLite needs SimpleAndTabular)", self._path)
            return []
        where, params = _tabular_filters(report_name, report_for, table_name, row_name, column_name)
        rows = self._fetch(
            "SELECT ReportName, ReportForString, TableName, RowName, ColumnName, Units, Value "
            f"FROM {_TABULAR_VIEW} WHERE {where} ORDER BY TabularDataIndex",
            params,
        )
        return [
            TabularCell(
                report or "",
                report_for_ or "",
                table or "",
                row or "",
                column or "",
                units or "",
                (value or "").strip(),
            )
            for report, report_for_, table, row, column, units, value in rows
        ]

    def get_tabular_value(
        self,
        report_name: str,
        table_name: str,
        row_name: str,
        column_name: str,
        report_for: str = "Entire Facility",
    ) -> float | str:
        """One cell of a tabular report: a float when numeric, else its text; absent → KeyError."""
        cells = self.get_tabular_data(report_name, table_name, row_name, column_name, report_for)
        if not cells:
            raise TabularValueNotFoundError(
                f"{self._path}: no tabular value for report {report_name!r} ({report_for}), table "
                f"{table_name!r}, row {row_name!r}, column {column_name!r}: "
                + self._tabular_hint(report_name, report_for, table_name, row_name, column_name)
            )
        if len({cell.value for cell in cells}) > 1:
            raise ValueError(
                f"{self._path}: {len(cells)} different cells match report {report_name!r}, table "
                f"{table_name!r}, row {row_name!r}, column {column_name!r}; see get_tabular_data(...)"
            )
        return parse_tabular_value(cells[0].value)

    # -- idfkit names (docs/idfkit.md) ----------------------------------------------------------

    def get_environments(self) -> list[EnvironmentInfo]:
        """`list_environments` under the name idfkit's SQL guide uses."""
        return self.list_environments()

    def list_reports(self) -> list[str]:
        """The names of the tabular reports in the file, sorted."""
        if _TABULAR_VIEW not in self._tables:
            return []
        rows = self._fetch(f"SELECT DISTINCT ReportName FROM {_TABULAR_VIEW} ORDER BY ReportName")
        return [name for (name,) in rows]

    def to_dataframe(
        self,
        variable: str | None = None,
        key: str = "*",
        frequency: str | None = None,
        environment: int | str | EnvironmentInfo | None = None,
        *,
        variable_name: str | None = None,
        key_value: str | None = None,
    ) -> pd.DataFrame:
        """``get_timeseries(...).to_dataframe()`` in one call, as idfkit offers it."""
        series = self.get_timeseries(
            variable, key, frequency, environment, variable_name=variable_name, key_value=key_value
        )
        return series.to_dataframe()

    def _tabular_hint(self, *path: str) -> str:
        """Which level of report → report_for → table → row → column does not exist, with close names."""
        if _TABULAR_VIEW not in self._tables:
            return "this SQL output has no tabular reports (Output:SQLite needs SimpleAndTabular)."
        labels = ("report", "report_for", "table", "row", "column")
        for depth, (label, asked) in enumerate(zip(labels, path, strict=True)):
            where, params = _tabular_filters(*path[:depth])
            column = _TABULAR_COLUMNS[depth]
            known = [
                name
                for (name,) in self._fetch(
                    f"SELECT DISTINCT {column} FROM {_TABULAR_VIEW} WHERE {where} ORDER BY {column}", params
                )
            ]
            if asked.lower() not in {name.lower() for name in known if name is not None}:
                close = _close_names(asked, [name for name in known if name]) or known
                return f"there is no {label} {asked!r}; try {_shorten(close)}."
        return "the cell is empty."


# idfkit's environment= values, as the ENVIRONMENT_TYPES they select.
_ENVIRONMENT_KINDS = {"annual": ("RunPeriodWeather",), "sizing": ("DesignDay", "RunPeriodDesign")}


def _idfkit_arguments(
    variable: str | None, key: str, variable_name: str | None, key_value: str | None
) -> tuple[str, str]:
    """``variable`` and ``key`` from either epcloud's names or idfkit's (``variable_name``, ``key_value``)."""
    if variable_name is not None:
        if variable is not None:
            raise TypeError("get_timeseries() takes the variable once: variable or variable_name=")
        variable = variable_name
    if variable is None:
        raise TypeError(
            "get_timeseries() needs the variable's name: get_timeseries('Zone Mean Air Temperature')"
        )
    if key_value is not None:
        if key != "*":
            raise TypeError("get_timeseries() takes the key once: key or key_value=")
        key = key_value
    return variable, key


_TABULAR_COLUMNS = ("ReportName", "ReportForString", "TableName", "RowName", "ColumnName")


def _tabular_filters(*values: str | None) -> tuple[str, list[str]]:
    """A WHERE clause matching, in _TABULAR_COLUMNS order, each value that is not None."""
    clauses = [
        f"{column} = ? COLLATE NOCASE"
        for column, value in zip(_TABULAR_COLUMNS, values, strict=False)
        if value is not None
    ]
    return " AND ".join(clauses) or "1", [value for value in values if value is not None]


def _normalize(text: str) -> str:
    return re.sub(r"[\s_-]+", "", text).lower()


def _frequency_rank(frequency: str) -> int:
    normalized = [_normalize(f) for f in FREQUENCIES]
    key = _normalize(frequency)
    return normalized.index(key) if key in normalized else len(normalized)


def _close_names(asked: str, names: Iterable[str]) -> list[str]:
    """Names resembling `asked`: the closest spellings first, then those containing it."""
    by_lower = {name.lower(): name for name in names}
    wanted = asked.strip().lower()
    close = difflib.get_close_matches(wanted, list(by_lower), n=5, cutoff=0.6)
    containing = [lower for lower in by_lower if wanted and (wanted in lower or lower in wanted)]
    return [by_lower[lower] for lower in dict.fromkeys(close + containing)][:8]


def _shorten(names: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... and {len(names) - limit} more"
