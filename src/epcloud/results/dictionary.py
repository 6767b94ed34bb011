"""The .rdd / .mdd index: every output variable and meter EnergyPlus says a model can report.

EnergyPlus writes these dictionaries when the model has an ``Output:VariableDictionary`` object, in one of
two forms: ``IDF`` (ready-made ``Output:Variable,*,NAME,hourly; !- Zone Average [C]`` lines) or
``Regular`` (``Zone,Average,NAME [C]``). Both are read; lines of neither form raise `CorruptResultError`
with the file and line, so a format change is never taken for an empty dictionary.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from epcloud.errors import CorruptResultError, ResultNotFoundError

if TYPE_CHECKING:
    from epcloud.model import IDFDocument
    from epcloud.results.simulation_result import SimulationResult

__all__ = [
    "REPORTING_FREQUENCIES",
    "OutputMeter",
    "OutputVariable",
    "OutputVariableIndex",
    "parse_mdd",
    "parse_rdd",
]

logger = logging.getLogger(__name__)

#: The reporting frequencies `Output:Variable` and `Output:Meter` accept (any case).
REPORTING_FREQUENCIES = (
    "Detailed",
    "Timestep",
    "Hourly",
    "Daily",
    "Monthly",
    "RunPeriod",
    "Environment",
    "Annual",
)

# `Output:Variable,KEY,NAME,FREQUENCY; !- Zone Average [UNITS]` (the descriptor is optional)
_IDF_VARIABLE = re.compile(
    r"^Output:Variable,([^,]*),([^,]*),([^;]*);\s*!-\s*(\w*)\s*(\w*)\s*\[([^\]]*)\]\s*$"
)
# `Output:Meter[:Cumulative][:MeterFileOnly],NAME,FREQUENCY; !- [UNITS]`
_IDF_METER = re.compile(
    r"^Output:Meter(:Cumulative)?(:MeterFileOnly)?,([^;]*),([^;]*);\s*!-[^\[]*\[([^\]]*)\]\s*$"
)
# `Zone,Average,NAME [UNITS]` and `Zone,Meter,NAME [UNITS]`
_REGULAR = re.compile(r"^(\w+),(\w+),(.+?)\s*\[([^\]]*)\]\s*$")
_REGULAR_HEADING = "Var Type (reported time step),Var Report Type,Variable Name [Units]"
_TYPES = {"Average": "Avg", "Sum": "Sum"}


@dataclass(frozen=True)
class OutputVariable:
    """A variable the model can report: its key (``*`` for every one), name, frequency and units.

    `time_step` is ``"Zone"`` or ``"HVAC"`` (the time step it is computed at) and `variable_type`
    ``"Avg"`` or ``"Sum"``, as in `VariableInfo.variable_type`; both are empty when the file does not say.
    A ``Regular`` dictionary names no key or frequency: they read ``"*"`` and ``"hourly"``.
    """

    key: str
    name: str
    frequency: str
    units: str
    time_step: str = ""
    variable_type: str = ""


@dataclass(frozen=True)
class OutputMeter:
    """A meter the model can report (``Electricity:Facility``): its name, frequency and units."""

    name: str
    frequency: str
    units: str


OutputItem = OutputVariable | OutputMeter


@dataclass(frozen=True)
class OutputVariableIndex:
    """Every variable (.rdd) and meter (.mdd) of a model, with search and a way to request them."""

    variables: tuple[OutputVariable, ...]
    meters: tuple[OutputMeter, ...]

    @classmethod
    def from_files(
        cls, rdd_path: str | os.PathLike[str], mdd_path: str | os.PathLike[str] | None = None
    ) -> OutputVariableIndex:
        """The index of an .rdd file and, optionally, its .mdd file."""
        variables = parse_rdd(_read(rdd_path), str(rdd_path))
        meters = parse_mdd(_read(mdd_path), str(mdd_path)) if mdd_path is not None else ()
        return cls(variables, meters)

    @classmethod
    def from_simulation(cls, result: SimulationResult) -> OutputVariableIndex:
        """The index of a finished run; `ResultNotFoundError` if the run has no .rdd file."""
        index = result.variables
        if index is None:
            raise ResultNotFoundError(
                f"{result.location} has no {result.output_prefix}out.rdd: add `Output:VariableDictionary, "
                "IDF;` to the model and run it again"
            )
        return index

    def __len__(self) -> int:
        return len(self.variables) + len(self.meters)

    def search(self, pattern: str) -> list[OutputItem]:
        """Variables then meters whose name matches the regular expression (case-insensitive, anywhere)."""
        regex = _compile(pattern)
        return [item for item in self._items() if regex.search(item.name)]

    def filter_by_units(self, units: str) -> list[OutputItem]:
        """Variables then meters in these units (``"C"``, ``"J"``; case-insensitive)."""
        wanted = units.strip().lower()
        return [item for item in self._items() if item.units.lower() == wanted]

    def add_all_to_model(
        self,
        model: IDFDocument,
        *,
        frequency: str | None = None,
        filter_pattern: str | None = None,
        reporting_frequency: str | None = None,
    ) -> int:
        """Request every variable and meter (or those matching ``filter_pattern``) in ``model``.

        Adds one ``Output:Variable`` (key ``*``) or ``Output:Meter`` per entry that the model does not
        already request at that frequency, and returns how many it added.

        Args:
            model: the model to change (an `IDFDocument`, e.g. from `epcloud.load_idf`).
            frequency: the reporting frequency (default ``"Timestep"``), one of `REPORTING_FREQUENCIES`.
            filter_pattern: a regular expression on the names, as in `search`.
            reporting_frequency: the same as ``frequency`` (the keyword idfkit's guide uses).
        """
        from epcloud.model import IDFDocument

        if frequency is not None and reporting_frequency is not None:
            raise TypeError("add_all_to_model() takes frequency= or reporting_frequency=, not both")
        chosen = _frequency(frequency or reporting_frequency or "Timestep")
        if not isinstance(model, IDFDocument):
            raise TypeError(
                f"add_all_to_model() needs an IDFDocument, not {type(model).__name__}: "
                "load the model with epcloud.load_idf(path) first"
            )
        items = self.search(filter_pattern) if filter_pattern is not None else self._items()
        requested = _requested(model)
        added = 0
        for item in items:
            if isinstance(item, OutputVariable):
                marker = ("variable", "*", item.name.upper(), chosen.upper())
                if marker not in requested:
                    model.add(
                        "Output:Variable", key_value="*", variable_name=item.name, reporting_frequency=chosen
                    )
            else:
                marker = ("meter", "", item.name.upper(), chosen.upper())
                if marker not in requested:
                    model.add("Output:Meter", key_name=item.name, reporting_frequency=chosen)
            if marker not in requested:
                requested.add(marker)
                added += 1
        return added

    def _items(self) -> list[OutputItem]:
        return [*self.variables, *self.meters]


def parse_rdd(text: str, source: str = "<rdd>") -> tuple[OutputVariable, ...]:
    """The variables of an .rdd file's text (either form); ``source`` names the file in errors."""
    found: list[OutputVariable] = []
    for number, line in _lines(text):
        match = _IDF_VARIABLE.match(line)
        if match:
            key, name, frequency, time_step, kind, units = (part.strip() for part in match.groups())
            found.append(OutputVariable(key, name, frequency, units, time_step, _TYPES.get(kind, kind)))
            continue
        match = _REGULAR.match(line)
        if match is None or match.group(2) == "Meter":
            raise _unreadable(source, number, line, "an Output:Variable line or `Zone,Average,NAME [UNITS]`")
        time_step, kind, name, units = (part.strip() for part in match.groups())
        found.append(OutputVariable("*", name, "hourly", units, time_step, _TYPES.get(kind, kind)))
    return tuple(found)


def parse_mdd(text: str, source: str = "<mdd>") -> tuple[OutputMeter, ...]:
    """The meters of an .mdd file's text (either form), each once: cumulative variants are left out."""
    found: dict[str, OutputMeter] = {}
    for number, line in _lines(text):
        match = _IDF_METER.match(line)
        if match:
            cumulative, _file_only, name, frequency, units = match.groups()
            if not cumulative:
                found.setdefault(
                    name.strip().upper(), OutputMeter(name.strip(), frequency.strip(), units.strip())
                )
            continue
        match = _REGULAR.match(line)
        if match is None or match.group(2) != "Meter":
            raise _unreadable(source, number, line, "an Output:Meter line or `Zone,Meter,NAME [UNITS]`")
        name, units = match.group(3).strip(), match.group(4).strip()
        found.setdefault(name.upper(), OutputMeter(name, "hourly", units))
    return tuple(found.values())


def _read(path: str | os.PathLike[str]) -> str:
    return Path(path).read_text(encoding="latin-1")


def _lines(text: str) -> Iterable[tuple[int, str]]:
    """Numbered lines that carry an entry: not blank, not a ``!`` comment, not the Regular heading."""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if (
            line
            and not line.startswith("!")
            and line != _REGULAR_HEADING
            and not line.startswith("Program Version")
        ):
            yield number, line


def _unreadable(source: str, number: int, line: str, expected: str) -> CorruptResultError:
    shown = line if len(line) <= 120 else line[:117] + "..."
    return CorruptResultError(f"{source}, line {number}: {shown!r} is not {expected}")


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from exc


def _frequency(value: str) -> str:
    for known in REPORTING_FREQUENCIES:
        if value.strip().lower() == known.lower():
            return known
    raise ValueError(f"unknown reporting frequency {value!r}; use one of {', '.join(REPORTING_FREQUENCIES)}")


def _requested(model: IDFDocument) -> set[tuple[str, str, str, str]]:
    """What the model already asks for, as (kind, key, NAME, FREQUENCY) markers."""
    markers: set[tuple[str, str, str, str]] = set()
    for obj in model["Output:Variable"]:
        key = str(obj.key_value or "*").strip()
        frequency = str(obj.reporting_frequency or "Hourly").strip().upper()
        markers.add(("variable", key, str(obj.variable_name or "").strip().upper(), frequency))
    for obj in model["Output:Meter"]:
        frequency = str(obj.reporting_frequency or "Hourly").strip().upper()
        markers.add(("meter", "", str(obj.key_name or "").strip().upper(), frequency))
    return markers
