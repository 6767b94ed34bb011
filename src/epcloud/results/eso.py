"""The .eso and .mtr outputs: a data dictionary (report id → variable) and then records by environment.

Both files share one format: lines ``ID,VALUE[,...]`` grouped under time markers (id 1 starts an
environment, 2 a timestep or hour, 3 a day, 4 a month, 5 the run period, 6 a year). The dictionary is read
when the file is opened; the records are read once, on first use. Timestamps follow `SQLResult`'s rules
(interval end for timestep and hourly values, period start for coarser ones), so the same series read from
the ESO and from the SQL output has the same timestamps, but for the year: the ESO has none, so it is
`DEFAULT_YEAR` (the SQL output of a weather-file run period has the run's year).
"""

from __future__ import annotations

import os
import re
import threading
from array import array
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from epcloud.errors import CorruptResultError, VariableNotFoundError
from epcloud.results.sql import DEFAULT_YEAR

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ESOColumn", "ESOEnvironment", "ESOResult", "ESOVariable"]

_END_OF_DICTIONARY = b"End of Data Dictionary"
_END_OF_DATA = b"End of Data"
_MARKERS = {1, 2, 3, 4, 5, 6}
# The marker whose timestamp a record of each frequency carries.
_MARKER_OF = {"Timestep": 2, "Hourly": 2, "Daily": 3, "Monthly": 4, "RunPeriod": 5, "Annual": 6}
_FREQUENCIES = {"each call": "Timestep", "timestep": "Timestep", "hourly": "Hourly", "daily": "Daily"}
_FREQUENCIES.update(monthly="Monthly", runperiod="RunPeriod", annual="Annual")
# `ID,COUNT,[KEY,]NAME [UNITS] !FREQUENCY[ [Value,Min,...]]`
_ENTRY = re.compile(r"^(\d+),(\d+),(.*?)\s*\[([^\]]*)\]\s*!\s*([A-Za-z ]+?)\s*(?:\[.*\])?\s*$")


@dataclass(frozen=True)
class ESOVariable:
    """One entry of the data dictionary; a meter has no key (``key_value == ""``)."""

    report_id: int
    variable_name: str
    key_value: str
    units: str
    frequency: str  # "Timestep", "Hourly", "Daily", "Monthly", "RunPeriod" or "Annual"
    num_values: int  # values per record: 1, or the value with its minimum and maximum and when


@dataclass(frozen=True)
class ESOEnvironment:
    """One environment (design day or run period) in the order EnergyPlus ran them; `index` from 0."""

    index: int
    title: str
    latitude: float
    longitude: float
    time_zone: float
    elevation: float


@dataclass(frozen=True)
class ESOColumn:
    """One variable's values in one environment (the first value of each record: the period's value)."""

    variable: ESOVariable
    environment_index: int
    timestamps: tuple[datetime, ...]
    values: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.values)

    def to_dataframe(self) -> pd.DataFrame:
        """A DataFrame indexed by ``timestamp``, one column named after the variable (``tables`` extra)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("ESOColumn.to_dataframe() needs pandas: pip install 'epcloud[tables]'") from exc
        frame: pd.DataFrame = pd.DataFrame(
            {self.variable.variable_name: list(self.values)},
            index=pd.DatetimeIndex(list(self.timestamps), name="timestamp"),
        )
        frame.attrs.update(units=self.variable.units, frequency=self.variable.frequency)
        return frame

    def plot(self, *, backend: Any = None, title: str | None = None, **layout: Any) -> Any:
        """A line chart of this column, drawn as `TimeSeriesResult.plot` draws (same ``backend=``)."""
        return self.to_timeseries().plot(backend=backend, title=title, **layout)

    def to_timeseries(self) -> Any:
        """The same values as a `TimeSeriesResult` (the type `SQLResult.get_timeseries` returns)."""
        from epcloud.results.timeseries import TimeSeriesResult

        var = self.variable
        key = var.key_value or var.variable_name  # a meter's name stands for its key, as in the SQL output
        return TimeSeriesResult(
            variable_name=var.variable_name,
            key_value=key,
            units=var.units,
            frequency=var.frequency,
            timestamps=self.timestamps,
            keys=(key,),
            data={key: self.values},
        )


class ESOResult:
    """A parsed .eso or .mtr file. `get_column` finds a series; `columns` has every one."""

    def __init__(self, data: bytes, source: str = "<eso>", *, eager: bool = False) -> None:
        """Read the data dictionary of ``data`` (and its records too with ``eager=True``); ``source`` names
        the file in error messages."""
        self.source = source
        self._data = data.replace(b"\r\n", b"\n") if b"\r\n" in data else data
        self.program_version, self._by_id, self._data_start = _dictionary(self._data, source)
        self.variables: tuple[ESOVariable, ...] = tuple(self._by_id.values())
        self._parsed: tuple[tuple[ESOEnvironment, ...], dict[tuple[int, int], ESOColumn]] | None = None
        self._lock = threading.Lock()
        if eager:
            self._records()

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "<eso>", *, eager: bool = False) -> ESOResult:
        return cls(data, source, eager=eager)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, eager: bool = False) -> ESOResult:
        return cls(Path(path).read_bytes(), str(path), eager=eager)

    @classmethod
    def from_string(cls, text: str, source: str = "<eso>", *, eager: bool = False) -> ESOResult:
        return cls(text.encode("latin-1"), source, eager=eager)

    def __getstate__(self) -> dict[str, Any]:
        """Pickles without its lock (a result shipped between processes may carry a parsed ESO)."""
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<ESOResult {self.source}: {len(self.variables)} variables>"

    @property
    def environments(self) -> tuple[ESOEnvironment, ...]:
        """The environments in the file, in the order they ran."""
        return self._records()[0]

    @property
    def columns(self) -> tuple[ESOColumn, ...]:
        """Every variable's column in every environment, in dictionary then environment order."""
        columns = self._records()[1]
        order = {var.report_id: n for n, var in enumerate(self.variables)}
        return tuple(columns[key] for key in sorted(columns, key=lambda k: (order[k[0]], k[1])))

    def get_variable(
        self, variable_name: str, key_value: str | None = None, frequency: str | None = None
    ) -> ESOVariable | None:
        """The first dictionary entry with this name (and key, and frequency), case-insensitive; else None."""
        return next(iter(self._matching(variable_name, key_value, frequency)), None)

    def get_column(
        self,
        variable_name: str,
        key_value: str | None = None,
        frequency: str | None = None,
        environment_index: int | None = None,
    ) -> ESOColumn | None:
        """One variable's values in one environment (default: the last, the run period); None if absent."""
        var = self.get_variable(variable_name, key_value, frequency)
        if var is None:
            return None
        columns = self._records()[1]
        if environment_index is None:
            found = [col for (rid, _), col in columns.items() if rid == var.report_id]
            return max(found, key=lambda col: col.environment_index) if found else None
        return columns.get((var.report_id, environment_index))

    def to_dataframe(
        self,
        variable_name: str,
        key_value: str | None = None,
        frequency: str | None = None,
        environment_index: int | None = None,
    ) -> pd.DataFrame:
        """`get_column(...).to_dataframe()`; `VariableNotFoundError` (a `KeyError`) when there is none."""
        column = self.get_column(variable_name, key_value, frequency, environment_index)
        if column is None:
            known = sorted({v.variable_name for v in self.variables})
            raise VariableNotFoundError(
                f"{self.source} has no values of {variable_name!r}"
                + (f" for key {key_value!r}" if key_value else "")
                + (f" at {frequency!r}" if frequency else "")
                + (f" in environment {environment_index}" if environment_index is not None else "")
                + f". Its variables: {', '.join(known[:12])}{' ...' if len(known) > 12 else ''}",
                known,
            )
        return column.to_dataframe()

    # -- reading the records --------------------------------------------------------------------

    def _matching(self, name: str, key: str | None, frequency: str | None) -> list[ESOVariable]:
        name, key, freq = name.strip().lower(), (key or "").strip().lower(), (frequency or "").strip().lower()
        freq = _FREQUENCIES.get(freq.replace(" ", ""), freq).lower() if freq else ""
        return [
            var
            for var in self.variables
            if var.variable_name.lower() == name
            and (not key or key == "*" or var.key_value.lower() == key)
            and (not freq or var.frequency.lower() == freq)
        ]

    def _records(self) -> tuple[tuple[ESOEnvironment, ...], dict[tuple[int, int], ESOColumn]]:
        with self._lock:
            if self._parsed is None:
                self._parsed = _records(self._data, self._data_start, self._by_id, self.source)
                self._data = b""  # every record is parsed: the file's text is no longer needed
            return self._parsed


def _dictionary(data: bytes, source: str) -> tuple[str, dict[int, ESOVariable], int]:
    """The program version line, the variables by report id, and where the records start."""
    end = data.find(_END_OF_DICTIONARY)
    if end < 0:
        raise CorruptResultError(f"{source} has no 'End of Data Dictionary' line: it is not an ESO/MTR file")
    start = data.find(b"\n", end)
    version = ""
    by_id: dict[int, ESOVariable] = {}
    for number, raw in enumerate(data[:end].split(b"\n"), start=1):
        line = raw.decode("latin-1").strip()
        if not line:
            continue
        if line.startswith("Program Version"):
            version = line
            continue
        head = line.split(",", 1)[0]
        if head.isdigit() and int(head) in _MARKERS:
            continue
        match = _ENTRY.match(line)
        if match is None:
            raise CorruptResultError(
                f"{source}, line {number}: {line[:120]!r} is not a data dictionary entry"
            )
        report_id, count, body, units, frequency = match.groups()
        key, _, name = body.rpartition(",") if "," in body else ("", "", body)
        by_id[int(report_id)] = ESOVariable(
            int(report_id),
            name.strip(),
            key.strip(),
            units.strip(),
            _FREQUENCIES.get(frequency.strip().lower(), frequency.strip()),
            int(count),
        )
    return version, by_id, (start + 1 if start >= 0 else len(data))


class _Clock:
    """The time markers read so far in the current environment: the stamp each frequency's records get."""

    def __init__(self) -> None:
        self.start: datetime | None = None
        self.stamp: dict[int, datetime] = {}

    def mark(self, marker: int, fields: list[bytes]) -> None:
        if marker == 2:  # day of simulation, month, day, DST, hour, start minute, end minute, day type
            month, day, hour, end = int(fields[2]), int(fields[3]), int(fields[5]), float(fields[7])
            when = datetime(DEFAULT_YEAR, month, day) + timedelta(hours=hour - 1, minutes=end)
            self._started(datetime(DEFAULT_YEAR, month, day))
        elif marker == 3:  # cumulative day, month, day, DST, day type
            when = datetime(DEFAULT_YEAR, int(fields[2]), int(fields[3]))
            self._started(when)
        elif marker == 4:  # cumulative days, month
            when = self._at_least(datetime(DEFAULT_YEAR, int(fields[2]), 1))
        elif marker == 5:  # cumulative days
            when = self.start or datetime(DEFAULT_YEAR, 1, 1)
        else:  # calendar year
            year = int(fields[1])
            when = self._at_least(datetime(year if year > 0 else DEFAULT_YEAR, 1, 1))
        self.stamp[marker] = when

    def _started(self, day: datetime) -> None:
        if self.start is None:
            self.start = day

    def _at_least(self, when: datetime) -> datetime:
        return max(when, self.start) if self.start is not None else when


def _records(
    data: bytes, start: int, by_id: dict[int, ESOVariable], source: str
) -> tuple[tuple[ESOEnvironment, ...], dict[tuple[int, int], ESOColumn]]:
    """One pass over the records: every variable's timestamps and first values, by environment."""
    marker_of = {rid: _MARKER_OF.get(var.frequency, 2) for rid, var in by_id.items()}
    environments: list[ESOEnvironment] = []
    stamps: dict[tuple[int, int], list[datetime]] = {}
    values: dict[tuple[int, int], array[float]] = {}
    clock = _Clock()
    env = -1
    number = data.count(b"\n", 0, start)
    for raw in data[start:].split(b"\n"):
        number += 1
        fields = raw.split(b",")
        try:
            report_id = int(fields[0])
        except ValueError:
            if not raw.strip() or raw.startswith((_END_OF_DATA, b" Number of Records")):
                continue  # a blank line, or the file's last two lines
            raise CorruptResultError(
                f"{source}, line {number}: {raw.decode('latin-1')[:120]!r} is not a record"
            ) from None
        try:
            if report_id in _MARKERS:
                if report_id == 1:
                    env += 1
                    environments.append(_environment(env, fields))
                    clock = _Clock()
                else:
                    clock.mark(report_id, fields)
                continue
            var_marker = marker_of.get(report_id)
            if var_marker is None:
                raise CorruptResultError(
                    f"{source}, line {number}: report id {report_id} is not in the dictionary"
                )
            key = (report_id, env)
            if key not in values:
                values[key], stamps[key] = array("d"), []
            values[key].append(float(fields[1]))
            stamps[key].append(clock.stamp[var_marker])
        except (ValueError, IndexError, KeyError) as exc:
            shown = raw.decode("latin-1")[:120]
            raise CorruptResultError(f"{source}, line {number}: cannot read {shown!r} ({exc!r})") from exc
    columns = {
        key: ESOColumn(by_id[key[0]], key[1], tuple(stamps[key]), tuple(values[key])) for key in values
    }
    return tuple(environments), columns


def _environment(index: int, fields: list[bytes]) -> ESOEnvironment:
    """``1,TITLE,LATITUDE,LONGITUDE,TIME ZONE,ELEVATION``; a title may itself contain commas."""
    title = b",".join(fields[1:-4]).decode("latin-1").strip()
    latitude, longitude, time_zone, elevation = (float(f) for f in fields[-4:])
    return ESOEnvironment(index, title, latitude, longitude, time_zone, elevation)
