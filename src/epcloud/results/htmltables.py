"""The HTML tabular report (``eplustbl.htm``): every table with its report, its "For:" scope and its title.

EnergyPlus writes each report as ``<p>Report:<b> NAME</b></p><p>For:<b> SCOPE</b></p>``, then each table as a
bold title followed by a ``<table>`` whose first row holds the column headings (in ``<td>`` cells, like the
rest) and whose first column holds the row names. Cell texts keep EnergyPlus's digits (``"0.62"``): the
SQL output's `get_tabular_data` holds the same texts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

__all__ = ["HTMLResult", "HTMLTable"]

_TITLE_TAGS = {"b", "strong"}


@dataclass
class HTMLTable:
    """One table: ``header`` is its first row (the column headings), ``rows`` the others."""

    title: str
    header: list[str]
    rows: list[list[str]]
    report_name: str = ""
    for_string: str = ""

    def to_dict(self) -> dict[str, dict[str, str]]:
        """``{row name: {column heading: text}}``; a row name that repeats keeps its last row."""
        return {row[0]: dict(zip(self.header[1:], row[1:], strict=False)) for row in self.rows if row}

    def cell(self, row: str, column: str) -> str:
        """The text at this row name and column heading (exact); `KeyError` names the table if absent."""
        try:
            return self.to_dict()[row][column]
        except KeyError:
            raise KeyError(
                f"table {self.title!r} of {self.report_name!r} ({self.for_string}) has no cell at "
                f"row {row!r}, column {column!r}; its columns: {', '.join(self.header[1:])}"
            ) from None


@dataclass
class HTMLResult:
    """Every table of an HTML tabular report, in file order; iterate it or look tables up by name."""

    tables: list[HTMLTable] = field(default_factory=list)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], encoding: str = "latin-1") -> HTMLResult:
        return cls.from_string(Path(path).read_text(encoding=encoding, errors="replace"))

    @classmethod
    def from_string(cls, html: str) -> HTMLResult:
        reader = _TableReader()
        reader.feed(html)
        reader.close()
        return cls(reader.tables)

    def __len__(self) -> int:
        return len(self.tables)

    def __getitem__(self, index: int) -> HTMLTable:
        return self.tables[index]

    def __iter__(self) -> Iterator[HTMLTable]:
        return iter(self.tables)

    def titletable(self) -> list[tuple[str, list[list[str]]]]:
        """``(title, [header, *rows])`` for each table (the shape of eppy's ``readhtml.titletable``)."""
        return [(t.title, [t.header, *t.rows]) for t in self.tables]

    def tablebyname(self, name: str) -> HTMLTable | None:
        """The first table whose title contains ``name`` (case-insensitive), else None."""
        wanted = name.lower()
        return next((t for t in self.tables if wanted in t.title.lower()), None)

    def tablebyindex(self, index: int) -> HTMLTable | None:
        """The table at this position (from 0), None when out of range."""
        return self.tables[index] if 0 <= index < len(self.tables) else None

    def tablesbyreport(self, report_name: str) -> list[HTMLTable]:
        """The tables of every report whose name contains ``report_name`` (case-insensitive; spaces optional:
        ``"AnnualBuildingUtilityPerformanceSummary"``, the SQL output's spelling, works too)."""
        wanted = _squash(report_name)
        return [t for t in self.tables if wanted in _squash(t.report_name)]


def _squash(text: str) -> str:
    return "".join(text.split()).lower()


class _TableReader(HTMLParser):
    """Collects tables, and for each the report, scope and bold title in effect where it starts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[HTMLTable] = []
        self._report = ""
        self._for = ""
        self._title = ""
        self._label = ""  # text of the current <p> before its bold part ("Report:", "For:")
        self._bold: list[str] | None = None
        self._rows: list[list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._rows = []
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._cell = []
        elif tag in _TITLE_TAGS and self._rows is None:
            self._bold = []
        if tag in ("p", "br", "hr"):
            self._label = ""  # a label ("Report:") is the text since the last block boundary

    def handle_endtag(self, tag: str) -> None:
        if tag in ("p", "table"):
            self._label = ""
        if tag in ("td", "th") and self._cell is not None and self._rows:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._rows is not None:
            rows = [row for row in self._rows if row]
            if rows:
                self.tables.append(HTMLTable(self._title, rows[0], rows[1:], self._report, self._for))
            self._rows = None
        elif tag in _TITLE_TAGS and self._bold is not None:
            self._bolded(" ".join("".join(self._bold).split()))
            self._bold = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        elif self._bold is not None:
            self._bold.append(data)
        elif self._rows is None:
            self._label += data

    def _bolded(self, text: str) -> None:
        label = self._label.strip().lower()
        if label.startswith("report:"):
            self._report, self._for, self._title = text, "", ""
        elif label.startswith("for:"):
            self._for = text
        elif text and not label:
            self._title = text
