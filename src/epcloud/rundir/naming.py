"""EnergyPlus's three output namings (``--output-suffix``) and the file names of a run's outputs.

With prefix ``eplus``: ``L`` (legacy) writes ``eplusout.sql``, ``eplustbl.htm``, ``eplusmtr.csv``;
``C`` (capital) writes ``eplus.sql``, ``eplusTable.htm``, ``eplusMeter.csv``; ``D`` (dash) writes
``eplus.sql``, ``eplus-table.htm``, ``eplus-meter.csv``. A run records its naming in run-status.json;
runs written before that was recorded use ``L``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from epcloud.rundir.upload import UploadPolicy

__all__ = [
    "LEGACY",
    "OUTPUT_SUFFIXES",
    "check_output_suffix",
    "guess_naming",
    "named_policy",
    "output_name",
    "translate_pattern",
]

LEGACY = "L"
OUTPUT_SUFFIXES = ("L", "C", "D")
_COLUMN = {"L": 0, "C": 1, "D": 2}
# The part after the prefix of the legacy names, and its capital and dash forms.
_STEMS = {
    "out": ("out", "", ""),
    "tbl": ("tbl", "Table", "-table"),
    "mtr": ("mtr", "Meter", "-meter"),
    "zsz": ("zsz", "Zsz", "-zsz"),
    "ssz": ("ssz", "Ssz", "-ssz"),
    "map": ("map", "Map", "-map"),
    "screen": ("screen", "Screen", "-screen"),
    "shading": ("shading", "Shading", "-shading"),
}
# Standard outputs by kind: (legacy stem, extension).
_KINDS = {
    "sql": ("out", ".sql"),
    "err": ("out", ".err"),
    "end": ("out", ".end"),
    "eso": ("out", ".eso"),
    "mtr": ("out", ".mtr"),
    "eio": ("out", ".eio"),
    "rdd": ("out", ".rdd"),
    "mdd": ("out", ".mdd"),
    "csv": ("out", ".csv"),
    "expidf": ("out", ".expidf"),
    "experr": ("out", ".experr"),
    "meter_csv": ("mtr", ".csv"),
    "html": ("tbl", ".htm"),
    "table_csv": ("tbl", ".csv"),
}


def check_output_suffix(value: object, parameter: str = "output_suffix") -> str:
    """The naming letter, upper case; anything but L, C or D is a `ValueError` naming the parameter."""
    text = str(value).strip().upper() if isinstance(value, str) else ""
    if text not in OUTPUT_SUFFIXES:
        raise ValueError(
            f"{parameter} must be 'L' (eplusout.sql, eplustbl.htm), 'C' (eplus.sql, eplusTable.htm) or "
            f"'D' (eplus.sql, eplus-table.htm), got {value!r}"
        )
    return text


def output_name(kind: str, output_prefix: str = "eplus", output_suffix: str = LEGACY) -> str:
    """File name of a standard output (``"sql"`` → ``eplusout.sql``, or ``eplus.sql`` with "C")."""
    stem, extension = _KINDS[kind]
    return output_prefix + _STEMS[stem][_COLUMN[output_suffix]] + extension


def translate_pattern(pattern: str, output_suffix: str) -> str:
    """A file-name pattern written for legacy names (``{p}tbl.htm``) in the given naming (``{p}Table.htm``).

    Only patterns that start with ``{p}`` and a legacy stem change; ``*.sql`` and the like stay as they are.
    """
    if output_suffix == LEGACY or not pattern.startswith("{p}"):
        return pattern
    rest = pattern[3:]
    for stem, forms in _STEMS.items():
        if rest.startswith(stem) and rest[len(stem) : len(stem) + 1] in (".", "*"):
            return "{p}" + forms[_COLUMN[output_suffix]] + rest[len(stem) :]
    return pattern


def named_policy(policy: UploadPolicy, output_suffix: str) -> UploadPolicy:
    """An upload policy whose legacy-name patterns (the default set's ``{p}out.sql``...) name the outputs
    of a run with this naming; the policy itself for legacy runs."""
    if output_suffix == LEGACY:
        return policy

    def named(patterns: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(translate_pattern(p, output_suffix) for p in patterns)

    return dataclasses.replace(
        policy, include=named(policy.include), exclude=named(policy.exclude), gzip=named(policy.gzip)
    )


_NOT_MAIN_ERR = ("sqlite.err", "Sqlite.err", "-sqlite.err", "expandedidf.err")


def guess_naming(names: Iterable[str]) -> tuple[str, str]:
    """The (prefix, naming) of a run folder that has no run-status.json, from its .err file's name."""
    names = list(names)
    legacy = [n[: -len("out.err")] for n in names if n.endswith("out.err")]
    if len(legacy) == 1:
        return legacy[0], LEGACY
    errs = [n[: -len(".err")] for n in names if n.endswith(".err") and not n.endswith(_NOT_MAIN_ERR)]
    if len(errs) == 1 and not legacy:
        prefix = errs[0]
        dashed = any(n.startswith(prefix + "-") for n in names)
        return prefix, "D" if dashed else "C"
    return "eplus", LEGACY
