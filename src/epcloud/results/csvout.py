"""The readvars CSV outputs (``eplusout.csv``, ``eplusmtr.csv``): a row per time step, a column per series.

A heading reads ``KEY:NAME [UNITS](FREQUENCY)`` for a variable and ``NAME [UNITS](FREQUENCY)`` for a meter,
whose name has colons of its own (``Electricity:Facility``, ``Electricity:Zone:OFFICE``). A meter is told
apart by its form: the part after the last colon has no space (``Facility``), or the segment before it is
``Zone``/``Space``/``SpaceType``; a variable name always has spaces. A blank cell (a daily value on an hourly
row) is NaN; any other cell that is not a number raises `CorruptResultError` naming the file, line and column.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from epcloud.errors import CorruptResultError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CSVColumn", "CSVResult", "split_heading"]

_HEADING = re.compile(r"^(.*?)\s*\[([^\]]*)\]\s*\(([^)]*)\)$")
_METER_GROUPS = {"ZONE", "SPACE", "SPACETYPE"}


@dataclass(frozen=True)
class CSVColumn:
    """One column: its heading, what it parses to (``key_value`` is empty for a meter) and its values."""

    header: str
    variable_name: str
    key_value: str
    units: str
    values: tuple[float, ...]
    frequency: str = ""

    @property
    def is_meter(self) -> bool:
        return self.key_value == ""


@dataclass(frozen=True)
class CSVResult:
    """A parsed readvars CSV file: the ``Date/Time`` texts and the columns, in file order."""

    timestamps: tuple[str, ...]
    columns: tuple[CSVColumn, ...]

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> CSVResult:
        return cls.from_string(Path(path).read_text(encoding="latin-1"), str(path))

    @classmethod
    def from_string(cls, text: str, source: str = "<csv>") -> CSVResult:
        """Parse the text of a readvars CSV file; ``source`` names it in error messages."""
        rows = csv.reader(io.StringIO(text))
        heading = next(rows, None)
        if heading is None:
            return cls((), ())
        names = [h.strip() for h in heading[1:]]
        while names and not names[-1]:  # readvars ends every line with a space, sometimes a comma
            names.pop()
        stamps: list[str] = []
        values: list[list[float]] = [[] for _ in names]
        for number, row in enumerate(rows, start=2):
            if not row or not row[0].strip():
                continue
            stamps.append(row[0].strip())
            cells = row[1:]
            for i, column in enumerate(values):
                cell = cells[i].strip() if i < len(cells) else ""
                column.append(_number(cell, source, number, names[i]))
        columns = []
        for name, column in zip(names, values, strict=True):
            key, variable, units, frequency = split_heading(name)
            columns.append(CSVColumn(name, variable, key, units, tuple(column), frequency))
        return cls(tuple(stamps), tuple(columns))

    def __len__(self) -> int:
        return len(self.timestamps)

    def __iter__(self) -> Iterator[CSVColumn]:
        return iter(self.columns)

    def get_column(self, variable_name: str, key_value: str | None = None) -> CSVColumn | None:
        """The first column of this variable (and key), case-insensitive; None if there is none."""
        name, key = variable_name.strip().lower(), (key_value or "").strip().lower()
        for column in self.columns:
            if column.variable_name.lower() == name and (not key or column.key_value.lower() == key):
                return column
        return None

    def get_column_values(self, variable_name: str, key_value: str | None = None) -> tuple[float, ...] | None:
        """The values of `get_column(...)`, None if there is no such column."""
        column = self.get_column(variable_name, key_value)
        return column.values if column is not None else None

    def to_dataframe(self) -> pd.DataFrame:
        """A DataFrame with one column per heading, indexed by the ``Date/Time`` text (``tables`` extra)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("CSVResult.to_dataframe() needs pandas: pip install 'epcloud[tables]'") from exc
        frame: pd.DataFrame = pd.DataFrame(
            {column.header: list(column.values) for column in self.columns},
            index=pd.Index(list(self.timestamps), name="Date/Time"),
        )
        return frame


def split_heading(heading: str) -> tuple[str, str, str, str]:
    """``(key, name, units, frequency)`` of a readvars heading; a meter's key is ``""``."""
    match = _HEADING.match(heading)
    if match is None:
        return "", heading, "", ""
    body, units, frequency = match.groups()
    head, _, tail = body.rpartition(":")
    parts = body.split(":")
    meter = not head or " " not in tail or any(p.strip().upper() in _METER_GROUPS for p in parts[1:-1])
    if meter:
        return "", body.strip(), units.strip(), frequency.strip()
    return head.strip(), tail.strip(), units.strip(), frequency.strip()


def _number(cell: str, source: str, line: int, column: str) -> float:
    if not cell:
        return math.nan
    try:
        return float(cell)
    except ValueError:
        raise CorruptResultError(
            f"{source}, line {line}, column {column!r}: {cell!r} is not a number"
        ) from None
