"""What the report reads from a collected jobs table: energy, EUI, end uses, design loads, by job.

Pure pandas, no charts: the page and the charts take these numbers with their units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from epcloud.report.figures import GJ_TO_KWH
from epcloud.study.collect import JOB_COLUMNS
from epcloud.study.summary import BUILDING_AREA, TOTAL_SITE_ENERGY

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Energy", "design_loads", "end_uses", "energy", "job_labels", "parameter_columns"]

_TABLE_SITE = "site_source/Total Site Energy/Total Energy [GJ]"
_END_USE = re.compile(r"^end_use/(?P<row>[^/]+)/(?P<fuel>[^\[]+?)\s*\[GJ\]$")
_FACILITY_LOAD = re.compile(r"^design_load/Facility/(?P<mode>Cooling|Heating) \[W\]$")
_ZONE_LOAD = re.compile(r"^design_load/(?P<zone>.+)/(?P<mode>Cooling|Heating) \[W\]$")
# Columns of a run, not parameters (batch tables add location and cached).
_FIXED = {*JOB_COLUMNS, "location", "cached", "missing_variables"}


def job_labels(jobs: pd.DataFrame) -> list[str]:
    """Each job's label, else its id."""
    labels = jobs["label"] if "label" in jobs else jobs.get("job_id")
    ids = jobs["job_id"] if "job_id" in jobs else range(len(jobs))
    if labels is None:
        return [str(i) for i in ids]
    return [
        str(label) if isinstance(label, str) and label else str(i)
        for label, i in zip(labels, ids, strict=True)
    ]


def parameter_columns(jobs: pd.DataFrame) -> list[str]:
    """Columns that are neither a run's fixed columns nor a value column (``group/name [unit]``)."""
    return [str(c) for c in jobs.columns if str(c) not in _FIXED and "/" not in str(c)]


@dataclass(frozen=True)
class Energy:
    """Site energy and EUI of the jobs that simulated a run period (NaN for the others)."""

    site_gj: pd.Series
    eui: pd.Series  # kWh/m2 over the run period (per year when `annual`)
    annual: bool
    run_periods: tuple[str, ...]

    @property
    def eui_unit(self) -> str:
        return "kWh/m²·yr" if self.annual else "kWh/m²"

    @property
    def any(self) -> bool:
        return bool(self.site_gj.notna().any())


def energy(jobs: pd.DataFrame) -> Energy:
    """Total site energy (full precision when collected so) and EUI from the total building area."""
    import pandas as pd

    nan = pd.Series(float("nan"), index=jobs.index)
    site = jobs[TOTAL_SITE_ENERGY] if TOTAL_SITE_ENERGY in jobs else jobs.get(_TABLE_SITE, nan)
    site = pd.to_numeric(site, errors="coerce").astype("float64")
    area = pd.to_numeric(jobs.get(BUILDING_AREA, nan), errors="coerce").astype("float64")
    eui = site * GJ_TO_KWH / area.where(area > 0)
    periods = jobs.get("run_period")
    simulated = (
        tuple(sorted({str(p) for p, s in zip(periods, site, strict=True) if s == s and isinstance(p, str)}))
        if periods is not None
        else ()
    )
    return Energy(site, eui, simulated == ("annual",), simulated)


def end_uses(jobs: pd.DataFrame) -> pd.DataFrame:
    """Energy by end use (fuels summed, totals left out) in GJ: a row per job, a column per end use that
    any job used."""
    import pandas as pd

    by_use: dict[str, pd.Series] = {}
    for column in jobs.columns:
        match = _END_USE.match(str(column))
        if match is None or match["row"] == "Total End Uses":
            continue
        values = pd.to_numeric(jobs[column], errors="coerce").astype("float64")
        row = match["row"]
        by_use[row] = by_use[row].add(values, fill_value=0.0) if row in by_use else values
    frame = pd.DataFrame(by_use, index=jobs.index)
    used = [c for c in frame.columns if (frame[c].fillna(0) > 0).any()]
    totals: dict[Any, float] = {c: float(frame[c].fillna(0).to_numpy().sum()) for c in used}
    ranked: pd.DataFrame = frame[sorted(used, key=lambda c: -totals[c])]
    return ranked


def design_loads(jobs: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Facility peak design loads in kW (columns Heating, Cooling; NaN where sizing did not run) and the
    number of zones whose loads were collected."""
    import pandas as pd

    frame = pd.DataFrame(index=jobs.index)
    zones: set[str] = set()
    for column in jobs.columns:
        text = str(column)
        if match := _FACILITY_LOAD.match(text):
            frame[match["mode"]] = pd.to_numeric(jobs[column], errors="coerce").astype("float64") / 1000.0
        elif match := _ZONE_LOAD.match(text):
            zones.add(match["zone"])
    ordered = [mode for mode in ("Heating", "Cooling") if mode in frame]
    return frame[ordered], len(zones)
