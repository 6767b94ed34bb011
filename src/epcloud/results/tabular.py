"""Cells of EnergyPlus's tabular reports (the SQL view TabularDataWithStrings) and their values."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TabularCell", "parse_tabular_value"]


@dataclass(frozen=True)
class TabularCell:
    """One cell of a tabular report; `value` is EnergyPlus's text, stripped of its padding."""

    report_name: str
    report_for: str
    table_name: str
    row_name: str
    column_name: str
    units: str
    value: str

    @property
    def parsed_value(self) -> float | str:
        """The value as a float when it reads as a number, else the text."""
        return parse_tabular_value(self.value)


def parse_tabular_value(text: str) -> float | str:
    """A report value as a float when it is numeric ("  82.41" → 82.41), else the stripped text."""
    stripped = text.strip()
    try:
        return float(stripped)
    except ValueError:
        return stripped
