"""`StudyTables.plot(...)`: one of the report's charts as a plotly figure, for notebooks and scripts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from epcloud.report.measures import energy, job_labels
from epcloud.report.sections import (
    Charts,
    design_days_only,
    design_load_section,
    energy_section,
    runtime_section,
    series_section,
)

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

__all__ = ["WHAT", "study_figure"]

#: The charts `study_figure` draws besides a requested series (by its variable name).
WHAT = ("eui", "site_energy", "end_uses", "design_loads", "runtime")


class _Collect(Charts):
    """Keeps the figures instead of writing them into a page."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[Any] = []

    def div(self, fig: Any) -> str:
        self.count += 1
        self.figures.append(fig)
        return ""


def study_figure(
    jobs: pd.DataFrame, series: pd.DataFrame | None, what: str = "eui", *, kind: str = "monthly"
) -> go.Figure:
    """The report's chart of ``what``: "eui", "site_energy", "end_uses", "design_loads", "runtime", or a
    requested series by name (``kind`` "monthly" for monthly totals or means, "day" for the average day)."""
    if kind not in ("monthly", "day"):
        raise ValueError(f"kind must be 'monthly' or 'day', not {kind!r}")
    jobs = jobs.reset_index(drop=True)
    labels = job_labels(jobs)
    charts = _Collect()
    key = what.lower()
    if key in ("eui", "site_energy", "end_uses"):
        found = energy(jobs)
        if not found.any:
            raise ValueError("no job simulated a run period: there is no energy to plot (try 'design_loads')")
        energy_section(charts, jobs, labels, found)
        has_eui = found.eui.notna().any()
        index = {"eui": 0, "site_energy": 1 if has_eui else 0, "end_uses": 2 if has_eui else 1}[key]
        if key == "eui" and not has_eui:
            raise ValueError("no building area was collected: EUI needs the tabular reports' building area")
    elif key == "design_loads":
        design_load_section(charts, jobs, labels)
        index = 0
    elif key == "runtime":
        runtime_section(charts, jobs)
        index = 0
    else:
        if series is None or series.empty:
            raise ValueError(f"no series were collected; {what!r} is not one of {', '.join(WHAT)}")
        names = {str(n).lower(): str(n) for n in series["variable"].unique()}
        if key not in names:
            raise ValueError(
                f"{what!r} is none of {', '.join(WHAT)} nor a collected series ({', '.join(names.values())})"
            )
        series_section(charts, series, jobs, names[key])
        if design_days_only(jobs) and kind == "monthly":
            raise ValueError("only design days were simulated: they have no monthly values; use kind='day'")
        index = 0 if kind == "monthly" or design_days_only(jobs) else 1
    if index >= len(charts.figures):
        raise ValueError(f"there is nothing to plot for {what!r} (kind={kind!r}) in these tables")
    return charts.figures[index]
