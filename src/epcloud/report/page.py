"""One self-contained HTML page for a study: status, runtimes, a table of jobs, end-use and series charts."""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import datetime, timezone
from html import escape
from typing import TYPE_CHECKING, Any

from epcloud.report.charts import bar_chart, histogram, line_chart, stacked_bars
from epcloud.study.collect import JOB_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["render_report"]

# Columns that describe a run rather than its results (batch tables add location and cached).
_FIXED = {*JOB_COLUMNS, "location", "cached"}
_END_USE = re.compile(r"^end_use/(?P<row>[^/]+)/(?P<fuel>[^\[]+?)\s*\[(?P<unit>[^\]]*)\]$")
_MAX_BARS = 60
_MAX_LINES = 12

# Measures each chart once the page is laid out; a browser test reads the result from the DOM.
_CHECK_SCRIPT = """
window.addEventListener("load", () => {
  for (const svg of document.querySelectorAll("svg.chart")) {
    const box = svg.getBBox();
    svg.dataset.rendered = `${Math.round(box.width)}x${Math.round(box.height)}`;
    svg.dataset.marks = svg.querySelectorAll(".mark").length;
  }
  document.body.dataset.ready = "1";
});
"""

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2rem; } .meta { color: #666; margin-top: 0; }
section { margin: 2rem 0; } table { border-collapse: collapse; font-size: 13px; }
th, td { border-bottom: 1px solid #e5e5e5; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; } .failed { color: #b00020; font-weight: 600; }
.counts span { margin-right: 1.5rem; font-size: 1.1rem; }
"""


def _end_uses(row: Any, columns: list[str]) -> dict[str, float]:
    """End uses of one job, by end use (fuels summed where the units agree), without the totals."""
    values: dict[str, float] = {}
    for column in columns:
        match = _END_USE.match(column)
        value = row[column]
        if match and match["row"] != "Total End Uses" and isinstance(value, (int, float)) and value > 0:
            values[match["row"]] = values.get(match["row"], 0.0) + float(value)
    return values


def _unit(columns: list[str]) -> str:
    units = {m["unit"] for c in columns if (m := _END_USE.match(c))}
    return units.pop() if len(units) == 1 else ""


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4g}"
    return escape(str(value))


def _table(jobs: pd.DataFrame, params: list[str], totals: list[str]) -> str:
    head = ["label", "status", "runtime s", "warnings", "severe", *params, *totals]
    rows = []
    for _, job in jobs.iterrows():
        status = str(job.get("status", ""))
        cells = [
            job.get("label") or job.get("job_id", ""),
            status,
            job.get("runtime_seconds"),
            job.get("warnings"),
            job.get("severe"),
            *(job[p] for p in params),
            *(job[t] for t in totals),
        ]
        klass = ' class="failed"' if "fail" in status.lower() else ""
        rows.append(f"<tr{klass}>" + "".join(f"<td>{_cell(c)}</td>" for c in cells) + "</tr>")
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _series_chart(series: pd.DataFrame, jobs: pd.DataFrame, variable: str | None) -> str:
    if series.empty:
        return "<p>No timeseries were collected for this study.</p>"
    chosen = variable or str(series["variable"].iloc[0])
    picked = series[series["variable"].str.lower() == chosen.lower()]
    if picked.empty:
        names = ", ".join(sorted(series["variable"].unique()))
        return f"<p>No values of {escape(chosen)} were collected (available: {escape(names)}).</p>"
    labels = dict(zip(jobs["job_id"], jobs["label"], strict=False)) if "label" in jobs else {}
    lines: dict[str, list[float]] = {}
    for (job, key), group in picked.sort_values("timestamp").groupby(["job_id", "key"], sort=False):
        if len(lines) == _MAX_LINES:
            break
        lines[f"{labels.get(job) or job} · {key}"] = [float(v) for v in group["value"]]
    unit = str(picked["units"].iloc[0]) if "units" in picked else ""
    return line_chart(f"{chosen} across jobs", lines, unit=unit)


def render_report(
    jobs: pd.DataFrame,
    series: pd.DataFrame | None = None,
    *,
    title: str = "epcloud study",
    variable: str | None = None,
) -> str:
    """The report page as one HTML string (charts are inline SVG; nothing is fetched)."""
    columns = [str(c) for c in jobs.columns]
    end_use_columns = [c for c in columns if _END_USE.match(c)]
    params = [c for c in columns if c not in _FIXED and "/" not in c]
    totals = [c for c in end_use_columns if "/Total End Uses/" in c and (jobs[c].fillna(0) != 0).any()]
    counts = Counter(str(s) for s in jobs.get("status", []))
    runtimes = [float(v) for v in jobs.get("runtime_seconds", []) if v == v]
    bars = [
        (str(job.get("label") or job.get("job_id")), _end_uses(job, end_use_columns))
        for _, job in jobs.head(_MAX_BARS).iterrows()
    ]
    more = f"<p>The first {_MAX_BARS} of {len(jobs)} jobs are shown.</p>" if len(jobs) > _MAX_BARS else ""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    count_text = "".join(f"<span><b>{n}</b> {escape(s)}</span>" for s, n in sorted(counts.items()))
    series_html = (
        _series_chart(series, jobs, variable)
        if series is not None
        else "<p>No timeseries were collected for this study.</p>"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title><style>{_STYLE}</style></head>
<body>
<h1>{escape(title)}</h1><p class="meta">{len(jobs)} jobs · report written {stamp}</p>
<section><h2>Status</h2><p class="counts">{count_text}</p>{
        bar_chart("Jobs by status", dict(counts))
    }</section>
<section><h2>Runtime</h2>{histogram("Runtime of the jobs", runtimes, unit="s")}</section>
<section><h2>Annual end uses</h2>{stacked_bars("End uses per job", bars, unit=_unit(end_use_columns))}{more}
</section>
<section><h2>Timeseries</h2>{series_html}</section>
<section><h2>Jobs</h2>{_table(jobs, params, totals)}</section>
<script>{_CHECK_SCRIPT}</script>
</body></html>
"""
