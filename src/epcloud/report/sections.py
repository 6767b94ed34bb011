"""The report's charts, one function per question a modeller asks of a study; each returns HTML.

Up to `MAX_BARS` jobs get one bar each (labels shortened, the full label on hover); larger studies get
distributions instead, so the page stays readable and small at 1,000+ jobs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from epcloud.report.figures import (
    MONTHS,
    PALETTE,
    axis_title,
    binned,
    energy_unit,
    figure,
    figure_json,
    quartiles,
    rounded,
    short_labels,
)
from epcloud.report.measures import Energy, design_loads, end_uses

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MAX_BARS",
    "Charts",
    "design_days_only",
    "design_load_section",
    "energy_section",
    "parameter_section",
    "runtime_section",
    "series_section",
]

MAX_BARS = 40
MAX_PARAMETERS = 8
MAX_VARIABLES = 4
_BAR_HEIGHT = 22
_ENERGY_UNITS = {"J": 1 / 3.6e6, "kWh": 1.0, "Wh": 1e-3, "GJ": 1e9 / 3.6e6}


class Charts:
    """Numbers the page's charts (``chart-1``, ``chart-2``, ...) and counts them."""

    def __init__(self) -> None:
        self.count = 0

    def div(self, fig: Any) -> str:
        """A placeholder the page's script draws ``fig`` into, and the figure as JSON."""
        self.count += 1
        name = f"chart-{self.count}"
        return (
            f'<div class="chart" id="{name}" data-figure="{name}-data" '
            f'style="height:{int(fig.layout.height or 360)}px"></div>'
            f'<script type="application/json" id="{name}-data">{figure_json(fig)}</script>'
        )


def _bar_height(rows: int) -> int:
    return max(180, 70 + _BAR_HEIGHT * rows)


def _per_job_bars(
    charts: Charts, labels: Sequence[str], values: Sequence[float], title: str, unit: str
) -> str:
    """Horizontal bars, one per job, largest at the top."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    shown = short_labels([labels[i] for i in order])
    fig = figure(_bar_height(len(order)), legend=False)
    fig.add_bar(
        x=[values[i] for i in order],
        y=shown,
        orientation="h",
        marker_color=PALETTE[0],
        customdata=[labels[i] for i in order],
        hovertemplate="%{customdata}<br>%{x:,.4g} " + unit + "<extra></extra>",
    )
    fig.update_xaxes(
        title_text=axis_title(title, unit), tickformat="~s" if max(values, default=0) > 1e4 else ""
    )
    fig.update_yaxes(title_text="job", type="category")
    return charts.div(fig)


def _histogram(charts: Charts, values: Sequence[float], title: str, unit: str) -> str:
    fig = figure(280, legend=False)
    _add_histogram(fig, values, title, PALETTE[0])
    fig.update_xaxes(title_text=axis_title(title, unit))
    fig.update_yaxes(title_text="number of jobs (count)", **_count_ticks(values))
    return charts.div(fig)


def _count_ticks(values: Sequence[float]) -> dict[str, Any]:
    """Whole-number ticks for a count axis (no "0.2 jobs")."""
    return {"dtick": 1, "rangemode": "tozero"} if len(values) <= 10 else {"rangemode": "tozero"}


def _add_histogram(fig: Any, values: Sequence[float], name: str, colour: str, opacity: float = 1.0) -> None:
    centres, counts, width = binned(values)
    fig.add_bar(
        x=rounded(centres),
        y=counts,
        width=width,
        name=name,
        marker={"color": colour, "line": {"width": 0.5, "color": "white"}},
        opacity=opacity,
        hovertemplate="%{x:,.4g}: %{y} jobs<extra></extra>",
    )


def _add_box(fig: Any, values: Sequence[float], name: str, colour: str, horizontal: bool) -> None:
    stats = quartiles(values)
    if not stats:
        return
    where = {"y": [name]} if horizontal else {"x": [name]}
    fig.add_box(
        **where,
        **{k: rounded(v) for k, v in stats.items()},
        name=name,
        marker_color=colour,
        orientation="h" if horizontal else "v",
        showlegend=False,
    )


def energy_section(charts: Charts, jobs: pd.DataFrame, labels: Sequence[str], found: Energy) -> str:
    """Total site energy and EUI per job, and the end uses stacked per job (or their spread)."""
    done = [i for i, v in enumerate(found.site_gj) if v == v]
    unit, factor = energy_unit(max(found.site_gj.iloc[done]))
    site = [float(found.site_gj.iloc[i]) * factor for i in done]
    eui = [float(found.eui.iloc[i]) for i in done]
    names = [labels[i] for i in done]
    period = "per year" if found.annual else f"over the run period ({', '.join(found.run_periods)})"
    parts = [
        f"<p>Energy use intensity is the total site energy {period} divided by the total building area "
        f"from EnergyPlus's tabular reports, in {escape(found.eui_unit)}. Energies are in {unit}.</p>"
    ]
    has_eui = any(v == v for v in eui)
    if len(done) <= MAX_BARS:
        if has_eui:
            parts.append(_per_job_bars(charts, names, eui, "energy use intensity", found.eui_unit))
        parts.append(_per_job_bars(charts, names, site, "total site energy", unit))
    else:
        if has_eui:
            parts.append(
                _histogram(charts, [v for v in eui if v == v], "energy use intensity", found.eui_unit)
            )
        parts.append(_histogram(charts, site, "total site energy", unit))
    uses = end_uses(jobs).iloc[done]
    if not uses.empty:
        parts.append(f"<h3>End uses</h3><p>Site energy by end use (fuels added together), in {unit}.</p>")
        parts.append(_end_use_chart(charts, uses * factor, names, unit))
    return "".join(parts)


def _end_use_chart(charts: Charts, uses: pd.DataFrame, labels: Sequence[str], unit: str) -> str:
    if len(uses) <= MAX_BARS:
        totals = uses.fillna(0).sum(axis=1).tolist()
        order = sorted(range(len(totals)), key=lambda i: totals[i])
        shown = short_labels([labels[i] for i in order])
        fig = figure(_bar_height(len(order)) + 40)
        for n, use in enumerate(uses.columns):
            values = uses[use].fillna(0).tolist()
            fig.add_bar(
                x=[values[i] for i in order],
                y=shown,
                name=use,
                orientation="h",
                marker_color=PALETTE[n % len(PALETTE)],
                customdata=[labels[i] for i in order],
                hovertemplate="%{customdata}<br>" + escape(use) + ": %{x:,.4g} " + unit + "<extra></extra>",
            )
        fig.update_layout(barmode="stack")
        fig.update_xaxes(title_text=axis_title("site energy", unit))
        fig.update_yaxes(title_text="job", type="category")
        return charts.div(fig)
    fig = figure(120 + 34 * len(uses.columns), legend=False)
    for n, use in enumerate(uses.columns):
        _add_box(fig, uses[use].dropna().tolist(), use, PALETTE[n % len(PALETTE)], horizontal=True)
    fig.update_xaxes(title_text=axis_title("site energy per job", unit))
    fig.update_yaxes(title_text="end use", type="category")
    return charts.div(fig)


def design_load_section(charts: Charts, jobs: pd.DataFrame, labels: Sequence[str]) -> str:
    """Facility peak heating and cooling design loads per job (or their spread)."""
    loads, zones = design_loads(jobs)
    loads = loads.dropna(how="all")
    if loads.empty:
        return (
            "<p>No design loads were collected: the model does not size its zones (Sizing:Zone and "
            "SimulationControl's zone sizing), so the design days produced only the series below.</p>"
        )
    names = [labels[int(i)] for i in loads.index]  # the jobs' index is 0..n-1 (render_report resets it)
    intro = (
        f"<p>The peak sensible design loads of the sizing calculation, in kW: the sum over the {zones} "
        "zones' peaks (they need not coincide).</p>"
    )
    if len(loads) <= MAX_BARS:
        peaks = loads.max(axis=1).tolist()
        order = sorted(range(len(loads)), key=lambda i: peaks[i])
        shown = short_labels([names[i] for i in order])
        fig = figure(_bar_height(len(order) * len(loads.columns)) + 40)
        for n, mode in enumerate(loads.columns):
            values = loads[mode].tolist()
            fig.add_bar(
                x=[values[i] for i in order],
                y=shown,
                name=f"peak {mode.lower()}",
                orientation="h",
                marker_color=PALETTE[1 if mode == "Heating" else 0] if n < 2 else PALETTE[n],
                customdata=[names[i] for i in order],
                hovertemplate="%{customdata}<br>" + mode + ": %{x:,.4g} kW<extra></extra>",
            )
        fig.update_layout(barmode="group")
        fig.update_xaxes(title_text=axis_title("facility peak design load", "kW"))
        fig.update_yaxes(title_text="job", type="category")
        return intro + charts.div(fig)
    fig = figure(300)
    for mode in loads.columns:
        colour = PALETTE[1 if mode == "Heating" else 0]
        _add_histogram(fig, loads[mode].dropna().tolist(), f"peak {mode.lower()}", colour, opacity=0.7)
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title_text=axis_title("facility peak design load", "kW"))
    fig.update_yaxes(title_text="number of jobs (count)")
    return intro + charts.div(fig)


def parameter_section(
    charts: Charts,
    jobs: pd.DataFrame,
    parameters: Sequence[str],
    target: tuple[str, str, pd.Series],
    sensitivity: Mapping[str, float] | None,
    method: str | None = None,
) -> str:
    """One small chart of the target against each parameter, and the sensitivity ranking when given."""
    import pandas as pd

    name, unit, values = target
    long_names = {"EUI": "energy use intensity", "site energy": "total site energy"}
    what = long_names.get(name, f"the facility's {name} (design)")
    parts = [f"<p>The response of {escape(what)} [{escape(unit)}] to each parameter, one chart each.</p>"]
    cells = []
    for parameter in list(parameters)[:MAX_PARAMETERS]:
        column = jobs[parameter]
        numeric = pd.to_numeric(column, errors="coerce")
        fig = figure(260, legend=False)
        if numeric.notna().all():
            fig.add_scatter(
                x=rounded(numeric),
                y=rounded(values),
                mode="markers",
                marker={"color": PALETTE[0], "size": 7, "opacity": 0.75},
                hovertemplate=escape(parameter) + " %{x}<br>%{y:,.4g} " + unit + "<extra></extra>",
            )
        else:
            fig.add_box(
                x=column.astype(str).tolist(), y=rounded(values), marker_color=PALETTE[0], boxpoints="all"
            )
            fig.update_xaxes(type="category")
        fig.update_xaxes(title_text=f"{parameter} (parameter)")
        fig.update_yaxes(title_text=axis_title(name, unit))
        cells.append(charts.div(fig))
    parts.append(f'<div class="grid">{"".join(cells)}</div>')
    if len(parameters) > MAX_PARAMETERS:
        parts.append(f"<p>The first {MAX_PARAMETERS} of {len(parameters)} parameters are shown.</p>")
    if sensitivity:
        ranked = sorted(sensitivity.items(), key=lambda item: abs(item[1]))
        fig = figure(_bar_height(len(ranked)), legend=False)
        fig.add_bar(
            x=[abs(v) for _, v in ranked],
            y=short_labels([k for k, _ in ranked]),
            customdata=[k for k, _ in ranked],
            orientation="h",
            marker_color=PALETTE[2],
            hovertemplate="%{customdata}: %{x:.3g}<extra></extra>",
        )
        fig.update_xaxes(title_text=axis_title("sensitivity of the total site energy", "index"))
        fig.update_yaxes(title_text="parameter", type="category")
        how = f" by {escape(method)}" if method else ""
        parts.append(
            f"<h3>Sensitivity ranking</h3><p>The parameters ranked for the total site energy{how}, "
            "most influential at the top.</p>" + charts.div(fig)
        )
    return "".join(parts)


def runtime_section(charts: Charts, jobs: pd.DataFrame) -> str:
    import pandas as pd

    runtimes = pd.to_numeric(
        jobs.get("runtime_seconds", pd.Series(dtype="float64")), errors="coerce"
    ).dropna()
    if runtimes.empty:
        return "<p>No job has finished yet.</p>"
    text = (
        f"<p>{len(runtimes)} runs: median {runtimes.median():.3g} s, longest {runtimes.max():.3g} s, "
        f"{runtimes.sum() / 3600:.3g} h of engine time in all.</p>"
    )
    return text + _histogram(charts, runtimes.tolist(), "runtime", "s")


def _month_hour(frame: pd.DataFrame) -> pd.DataFrame:
    """Month and hour of day of each value: EnergyPlus stamps an interval at its end, so 01:00 is the
    hour from midnight and 1 January 00:00 of the next year is 31 December's last hour."""
    import pandas as pd

    start = pd.to_datetime(frame["timestamp"]) - pd.Timedelta(seconds=1)
    dated: pd.DataFrame = frame.assign(month=start.dt.month, hour=start.dt.hour)
    return dated


def series_section(
    charts: Charts, series: pd.DataFrame | None, jobs: pd.DataFrame, variable: str | None
) -> str:
    """Each requested series as monthly totals (energy) or means (anything else) per job, and its
    average day in each month: months and hours, never a line across the gaps between environments."""
    if series is None or series.empty:
        return "<p>No series were requested for this study, or none was collected.</p>"
    names = sorted(series["variable"].unique())
    if variable is not None:
        chosen = [n for n in names if n.lower() == variable.lower()]
        if not chosen:
            found = escape(", ".join(names))
            return f"<p>No values of {escape(variable)} were collected (collected: {found}).</p>"
        names = chosen
    parts = []
    labels = dict(zip(jobs["job_id"], _labels(jobs), strict=True)) if "job_id" in jobs else {}
    design_days = design_days_only(jobs)
    for name in names[:MAX_VARIABLES]:
        parts.append(_one_series(charts, series[series["variable"] == name], name, labels, design_days))
    if len(names) > MAX_VARIABLES:
        parts.append(f"<p>The first {MAX_VARIABLES} of {len(names)} series are shown.</p>")
    return "".join(parts)


def _labels(jobs: pd.DataFrame) -> list[str]:
    from epcloud.report.measures import job_labels

    return job_labels(jobs)


def design_days_only(jobs: pd.DataFrame) -> bool:
    """Whether every finished job simulated design days only (their series are days, not months)."""
    periods = [p for p in jobs.get("run_period", []) if isinstance(p, str)]
    return bool(periods) and all(p == "design days" for p in periods)


def _one_series(
    charts: Charts, rows: pd.DataFrame, name: str, labels: Mapping[str, str], design_days: bool = False
) -> str:
    units = str(rows["units"].iloc[0]) if "units" in rows else ""
    frequency = str(rows["frequency"].iloc[0]) if "frequency" in rows else ""
    energy = units in _ENERGY_UNITS
    unit = "kWh" if energy else units
    values = rows["value"] * _ENERGY_UNITS[units] if energy else rows["value"]
    frame = _month_hour(rows.assign(value=values))
    # Energy adds up over keys (zones) and time; anything else (temperatures, rates) is averaged.
    per_step = frame.groupby(["job_id", "timestamp", "month", "hour"])["value"]
    steps = (per_step.sum() if energy else per_step.mean()).reset_index()
    monthly_by_job = steps.groupby(["job_id", "month"])["value"]
    monthly = (monthly_by_job.sum() if energy else monthly_by_job.mean()).reset_index()
    jobs_seen = list(dict.fromkeys(monthly["job_id"]))
    how = "total" if energy else "mean"
    hourly = frequency.lower() in ("hourly", "zone timestep", "hvac system timestep", "timestep")
    if design_days and hourly:  # a month of one design day is no monthly value: the days, hour by hour
        text = f"{escape(frequency)} values, in {escape(unit)}, of each design day (the mean over the jobs)."
        return f"<h3>{escape(name)}</h3><p>{text}</p>" + _average_day(charts, steps, unit, energy, True)
    parts = [
        f"<h3>{escape(name)}</h3><p>{escape(frequency)} values, in {escape(unit)}: monthly {how} per job"
    ]
    months = sorted(monthly["month"].unique())
    fig = figure(320)
    if len(jobs_seen) <= 8:
        for n, job in enumerate(jobs_seen):
            mine = monthly[monthly["job_id"] == job]
            full = labels.get(job, job)
            fig.add_bar(
                x=[MONTHS[m - 1] for m in mine["month"]],
                y=rounded(mine["value"]),
                name=short_labels([full])[0],
                marker_color=PALETTE[n % len(PALETTE)],
                hovertemplate=escape(full) + " %{x}: %{y:,.4g} " + unit + "<extra></extra>",
            )
        fig.update_layout(barmode="group")
    else:
        parts[0] = parts[0].replace("per job", f"across the {len(jobs_seen)} jobs (spread)")
        for m in months:
            _add_box(
                fig, monthly.loc[monthly["month"] == m, "value"].tolist(), MONTHS[m - 1], PALETTE[0], False
            )
    fig.update_xaxes(
        title_text="month",
        type="category",
        categoryorder="array",
        categoryarray=[MONTHS[m - 1] for m in months],
    )
    fig.update_yaxes(title_text=axis_title(f"monthly {how}", unit))
    parts[0] += ", and the average day of each month (all jobs).</p>" if hourly else ".</p>"
    parts.append(charts.div(fig))
    if hourly:
        parts.append(_average_day(charts, steps, unit, energy))
    return "".join(parts)


def _average_day(
    charts: Charts, steps: pd.DataFrame, unit: str, energy: bool, design_days: bool = False
) -> str:
    """Mean value by month and hour of day over every job: lines for a few months, else a heatmap."""
    by_hour = steps.groupby(["job_id", "month", "hour"])["value"]
    per_job = (by_hour.sum() if energy else by_hour.mean()).reset_index()
    if energy:  # an hour's energy per day: divide by the days of that month that were simulated
        days = steps.assign(day=steps["timestamp"].astype("datetime64[s]").dt.floor("D"))
        count = days.groupby(["job_id", "month"])["day"].nunique().rename("days").reset_index()
        per_job = per_job.merge(count, on=["job_id", "month"])
        per_job["value"] = per_job["value"] / per_job["days"]
    profile = per_job.groupby(["month", "hour"])["value"].mean().reset_index()
    months = sorted(profile["month"].unique())
    what = axis_title("hourly energy" if energy else "mean", unit)
    if len(months) <= 3:
        fig = figure(300)
        for n, m in enumerate(months):
            mine = profile[profile["month"] == m]
            fig.add_scatter(
                x=mine["hour"].tolist(),
                y=rounded(mine["value"]),
                mode="lines+markers",
                name=f"{MONTHS[m - 1]} design day" if design_days else MONTHS[m - 1],
                line={"color": PALETTE[n % len(PALETTE)]},
            )
        fig.update_xaxes(title_text="hour of day", dtick=3, range=[-0.5, 23.5])
        fig.update_yaxes(title_text=what)
        return charts.div(fig)
    grid = profile.pivot(index="month", columns="hour", values="value").sort_index()
    fig = figure(80 + 26 * len(grid), legend=False)
    fig.add_heatmap(
        z=[rounded(row) for row in grid.to_numpy(dtype=float)],
        x=[int(h) for h in grid.columns],
        y=[MONTHS[m - 1] for m in grid.index],
        colorscale="Viridis",
        colorbar={"title": {"text": unit, "side": "right"}, "thickness": 12},
        hovertemplate="%{y} %{x}:00: %{z:,.4g} " + unit + "<extra></extra>",
    )
    fig.update_xaxes(title_text="hour of day", dtick=3)
    fig.update_yaxes(title_text="month", type="category", autorange="reversed")
    return charts.div(fig)
