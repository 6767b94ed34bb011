"""One self-contained HTML page for a study: status and failures, energy and EUI, end uses or design loads,
parameter responses, series by month and hour, a sortable table of jobs, runtimes and provenance.

Charts are plotly figures drawn by plotly.js, which the page carries gzip-compressed (1.4 MB of its 4.8 MB)
and unpacks with the browser's DecompressionStream, so the page opens offline and stays near 2 MB.
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from html import escape
from typing import TYPE_CHECKING, Any

from epcloud import __version__
from epcloud.report.figures import energy_unit, needs_plotly, rounded
from epcloud.report.measures import design_loads, energy, job_labels, parameter_columns
from epcloud.report.sections import (
    Charts,
    design_load_section,
    energy_section,
    parameter_section,
    runtime_section,
    series_section,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["render_report"]

_MAX_FAILED = 50
_MAX_TABLE = 1000  # rows in the page's table (about 100 bytes each); `epcloud query` has them all

_STYLE = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #222; }
main { max-width: 1200px; margin: 0 auto; padding: 1rem 1.25rem 3rem; }
h1 { font-size: 1.6rem; margin: 0.5rem 0 0.2rem; overflow-wrap: anywhere; }
h2 { font-size: 1.25rem; margin: 2.2rem 0 0.4rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 0.3rem; }
p { line-height: 1.45; max-width: 80ch; } .meta { color: #555; margin-top: 0; overflow-wrap: anywhere; }
.counts { display: flex; flex-wrap: wrap; gap: 0.6rem; margin: 0.6rem 0; }
.counts div { border: 1px solid #ddd; border-radius: 6px; padding: 0.4rem 0.9rem; min-width: 6rem; }
.counts b { display: block; font-size: 1.5rem; } .failed b { color: #b00020; } .done b { color: #1b7a3a; }
.chart { width: 100%; margin: 0.4rem 0 1rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 0 1rem; }
.scroll { overflow-x: auto; max-width: 100%; }
td.wrap { white-space: normal; overflow-wrap: anywhere; min-width: 12rem; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #e5e5e5; padding: 4px 8px; text-align: right; white-space: nowrap; }
th { background: #f6f6f6; position: sticky; top: 0; }
th[data-sort] { cursor: pointer; } th[aria-sort="ascending"]::after { content: " ▲"; }
th[aria-sort="descending"]::after { content: " ▼"; }
td.text, th.text { text-align: left; }
td.label { max-width: 22rem; overflow: hidden; text-overflow: ellipsis; }
tr.failed td { color: #b00020; } td.message { white-space: pre-line; min-width: 20rem; text-align: left; }
"""

# Builds the jobs table from its JSON and sorts it by the clicked column.
_TABLE_SCRIPT = """
(() => {
  const data = JSON.parse(document.getElementById("jobs-data").textContent);
  const table = document.getElementById("jobs");
  const body = table.tBodies[0];
  const fmt = new Intl.NumberFormat(undefined, {maximumSignificantDigits: 4});
  const cell = (value, kind) => {
    const td = document.createElement("td");
    if (kind === "text") { td.className = "text"; td.textContent = value ?? ""; td.title = value ?? ""; }
    else if (kind === "label") { td.className = "text label"; td.textContent = value; td.title = value; }
    else { td.textContent = value === null ? "" : fmt.format(value); }
    return td;
  };
  const draw = () => {
    body.replaceChildren(...data.rows.map((row) => {
      const tr = document.createElement("tr");
      if (row[1] === "failed") tr.className = "failed";
      row.forEach((value, i) => tr.append(cell(value, data.kinds[i])));
      return tr;
    }));
  };
  table.tHead.querySelectorAll("th").forEach((th, i) => {
    th.dataset.sort = "1";
    th.addEventListener("click", () => {
      const up = th.getAttribute("aria-sort") !== "ascending";
      table.tHead.querySelectorAll("th").forEach((h) => h.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      const key = (row) => row[i];
      data.rows.sort((a, b) => {
        const x = key(a), y = key(b);
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        const order = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
        return up ? order : -order;
      });
      draw();
    });
  });
  draw();
})();
"""


# Unpacks plotly.js, then draws every chart from its JSON; says so on the page if the browser cannot.
_CHART_SCRIPT = """
(async () => {
  const note = document.getElementById("charts-note");
  try {
    const packed = atob(document.getElementById("plotly-gzip").textContent.trim());
    const bytes = Uint8Array.from(packed, (c) => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    const code = document.createElement("script");
    code.textContent = await new Response(stream).text();
    document.head.append(code);
    const config = {responsive: true, displayModeBar: false};  // drag to zoom, double-click to reset
    for (const div of document.querySelectorAll("div.chart[data-figure]")) {
      const figure = JSON.parse(document.getElementById(div.dataset.figure).textContent);
      await Plotly.newPlot(div, figure.data, figure.layout, config);
    }
    note.remove();
    document.body.dataset.charts = "drawn";
  } catch (error) {
    note.textContent = `The charts could not be drawn (${error}); they need a browser from 2023 or later.`;
    document.body.dataset.charts = "failed";
  }
})();
"""


@functools.cache
def _plotly_gzip() -> str:
    """plotly.js, gzip-compressed and base64-encoded (computed once per process)."""
    from plotly.offline import get_plotlyjs

    return base64.b64encode(gzip.compress(get_plotlyjs().encode("utf-8"), compresslevel=6, mtime=0)).decode()


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _text(value: Any) -> str | None:
    """A cell of a text column: None for a missing value (None, NaN, pandas NA)."""
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _status_section(jobs: pd.DataFrame, labels: Sequence[str]) -> str:
    counts = Counter(str(s) for s in jobs.get("status", ["pending"] * len(jobs)))
    boxes = [("done", "succeeded"), ("failed", "failed"), ("pending", "pending")]
    extra = sorted(set(counts) - {"succeeded", "failed", "pending"})
    html = ['<div class="counts">']
    for klass, status in [*boxes, *((s, s) for s in extra)]:
        html.append(f'<div class="{escape(klass)}"><b>{counts.get(status, 0):,}</b>{escape(klass)}</div>')
    html.append("</div>")
    failed = [i for i, s in enumerate(jobs.get("status", [])) if s == "failed"]
    if failed:
        rows = []
        for i in failed[:_MAX_FAILED]:
            job = jobs.iloc[i]
            message = next(
                (str(m) for m in (job.get("fatal"), job.get("error")) if isinstance(m, str) and m),
                "no fatal message (see the job's eplusout.err)",
            )
            code = _number(job.get("exit_code"))
            label = escape(labels[i])
            rows.append(
                f'<tr class="failed"><td class="text label" title="{label}">{label}</td>'
                f"<td>{'' if code is None else int(code)}</td>"
                f'<td class="message">{escape(message)}</td></tr>'
            )
        more = (
            f"<p>The first {_MAX_FAILED} of {len(failed)} failed jobs are listed.</p>"
            if len(failed) > _MAX_FAILED
            else ""
        )
        html.append(
            "<h3>Failed jobs</h3><p>Each with the first fatal message of its EnergyPlus error file.</p>"
            '<div class="scroll"><table><thead><tr><th class="text">job</th><th>exit code</th>'
            '<th class="text">first fatal message</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>" + more
        )
    return "".join(html)


def _jobs_table(jobs: pd.DataFrame, labels: Sequence[str], parameters: Sequence[str]) -> str:
    """The sortable table of jobs, as JSON the page's script turns into rows (compact at 1,000s of jobs)."""
    found = energy(jobs)
    loads, _ = design_loads(jobs)
    site_unit, factor = energy_unit(float(found.site_gj.max()) if found.any else float("nan"))
    columns: list[tuple[str, str, list[Any]]] = [
        ("job", "label", list(labels)),
        ("status", "text", [_text(s) for s in jobs.get("status", ["pending"] * len(jobs))]),
    ]
    if "run_period" in jobs:
        columns.append(("run period", "text", [_text(s) for s in jobs["run_period"]]))
    for name in parameters:
        values = list(jobs[name])
        numeric = all(_number(v) is not None for v in values if v is not None)
        columns.append(
            (name, "number" if numeric else "text", [_number(v) if numeric else _text(v) for v in values])
        )
    if found.any:
        columns.append((f"site energy [{site_unit}]", "number", [_number(v * factor) for v in found.site_gj]))
        columns.append((f"EUI [{found.eui_unit}]", "number", [_number(v) for v in found.eui]))
    for mode in loads.columns:
        columns.append((f"peak {mode.lower()} [kW]", "number", [_number(v) for v in loads[mode]]))
    for name, head in (("runtime_seconds", "runtime [s]"), ("warnings", "warnings"), ("severe", "severe")):
        if name in jobs:
            columns.append((head, "number", [_number(v) for v in jobs[name]]))
    shown = min(len(jobs), _MAX_TABLE)
    for n, (name, kind, values) in enumerate(columns):
        if kind == "number":  # six digits sort as well as all seventeen, in a third of the bytes
            columns[n] = (name, kind, rounded(values, 6))
    rows = [[column[2][i] for column in columns] for i in range(shown)]
    data = json.dumps(
        {"kinds": [c[1] for c in columns], "rows": rows}, separators=(",", ":"), allow_nan=False
    )
    data = data.replace("</", "<\\/")  # no "</script>" inside the script element
    head = "".join(
        f'<th class="{"text" if kind != "number" else ""}" scope="col">{escape(name)}</th>'
        for name, kind, _ in columns
    )
    more = (
        f"<p>The first {_MAX_TABLE:,} of {len(jobs):,} jobs are listed; "
        "<code>epcloud query</code> reads them all.</p>"
        if len(jobs) > _MAX_TABLE
        else ""
    )
    return (
        "<p>Click a column to sort by it.</p>"
        f'<div class="scroll"><table id="jobs"><thead><tr>{head}</tr></thead><tbody></tbody></table></div>'
        f"{more}"
        f'<script type="application/json" id="jobs-data">{data}</script>'
    )


def _target(jobs: pd.DataFrame) -> tuple[str, str, pd.Series] | None:
    """What the parameter charts show: EUI, else site energy, else the facility's peak cooling load."""
    found = energy(jobs)
    if found.eui.notna().any():
        return "EUI", found.eui_unit, found.eui
    if found.any:
        unit, factor = energy_unit(float(found.site_gj.max()))
        return "site energy", unit, found.site_gj * factor
    loads, _ = design_loads(jobs)
    for mode in ("Cooling", "Heating"):
        if mode in loads and loads[mode].notna().any():
            return f"peak {mode.lower()} load", "kW", loads[mode]
    return None


def _about(jobs: pd.DataFrame, provenance: Mapping[str, Any]) -> str:
    versions = Counter(str(v) for v in jobs.get("energyplus_version", []) if isinstance(v, str) and v)
    items = [
        ("study", provenance.get("url")),
        ("created", provenance.get("created_at")),
        ("created with epcloud", provenance.get("epcloud_version")),
        ("EnergyPlus asked for", provenance.get("energyplus_version")),
        ("EnergyPlus that ran", ", ".join(f"{v} ({n:,} jobs)" for v, n in sorted(versions.items())) or None),
        ("report written", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("report written by epcloud", __version__),
    ]
    for key, value in (provenance.get("metadata") or {}).items():
        if key == "sweep" and isinstance(value, dict):
            from epcloud.study.sweep import describe_record

            value = describe_record(value)
        items.append((str(key), value))
    rows = "".join(
        f'<tr><th class="text" scope="row">{escape(k)}</th><td class="text wrap">{escape(str(v))}</td></tr>'
        for k, v in items
        if v not in (None, "")
    )
    return f'<div class="scroll"><table>{rows}</table></div>'


def render_report(
    jobs: pd.DataFrame,
    series: pd.DataFrame | None = None,
    *,
    title: str = "epcloud study",
    variable: str | None = None,
    parameters: Sequence[str] | None = None,
    sensitivity: Mapping[str, float] | None = None,
    sensitivity_method: str | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> str:
    """The report page as one HTML string; it fetches nothing (plotly.js is inside).

    Args:
        jobs: a collected jobs table (`Study.collect().jobs`).
        series: the long-form series (`Study.collect().timeseries`), if any were requested.
        variable: chart only this series (default: every collected one, up to four).
        parameters: the parameter columns (default: the columns that are neither a run's nor a value).
        sensitivity: a sensitivity index per parameter, drawn as a ranking when given.
        sensitivity_method: the analysis that computed it (said on the page).
        provenance: ``url``, ``created_at``, ``epcloud_version``, ``energyplus_version``, ``metadata``.
    """
    needs_plotly("epcloud report")
    jobs = jobs.reset_index(drop=True)
    labels = job_labels(jobs)
    params = [p for p in (parameter_columns(jobs) if parameters is None else parameters) if p in jobs]
    charts = Charts()
    found = energy(jobs)
    loads, _ = design_loads(jobs)
    sections = [("Status", _status_section(jobs, labels))]
    if found.any:
        sections.append(("Energy", energy_section(charts, jobs, labels, found)))
    if not loads.dropna(how="all").empty or not found.any:
        heading = "Peak design loads" if not found.any else "Peak design loads (sizing)"
        note = "" if found.any else "<p>No run period was simulated (design days only): no annual energy.</p>"
        sections.append((heading, note + design_load_section(charts, jobs, labels)))
    target = _target(jobs)
    if params and target is not None and jobs["status"].eq("succeeded").sum() > 1:
        sections.append(
            ("Parameters", parameter_section(charts, jobs, params, target, sensitivity, sensitivity_method))
        )
    sections.append(("Series", series_section(charts, series, jobs, variable)))
    sections.append(("Jobs", _jobs_table(jobs, labels, params)))
    sections.append(("Runtime", runtime_section(charts, jobs)))
    sections.append(("About this study", _about(jobs, provenance or {})))
    body = "".join(f"<section><h2>{escape(name)}</h2>{html}</section>" for name, html in sections)
    meta = f"{len(jobs):,} jobs · {charts.count} charts"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{_STYLE}</style></head>
<body><main>
<h1>{escape(title)}</h1><p class="meta">{meta}</p>
<p id="charts-note">Drawing the charts…</p>
{body}
</main>
<script type="application/octet-stream" id="plotly-gzip">{_plotly_gzip()}</script>
<script>{_TABLE_SCRIPT}</script><script>{_CHART_SCRIPT}</script></body></html>
"""
