"""The chart conventions of every epcloud figure (plotly): units on numeric axes, short labels with the full
one on hover, lines broken where a series has a gap (between design days and run periods), a legend below.

The report, `TimeSeriesResult.plot()` and `StudyTables.plot()` all build their figures here.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = [
    "MONTHS",
    "PALETTE",
    "axis_title",
    "binned",
    "energy_unit",
    "figure",
    "figure_json",
    "gapped",
    "needs_plotly",
    "quartiles",
    "rounded",
    "short_labels",
    "shorten",
]

PALETTE = (
    "#4477aa",
    "#ee6677",
    "#228833",
    "#ccbb44",
    "#66ccee",
    "#aa3377",
    "#bbbbbb",
    "#ee8866",
    "#44bb99",
    "#99ddff",
    "#997700",
    "#332288",
)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
GJ_TO_KWH = 1e9 / 3.6e6
_KWH_LIMIT_GJ = 100.0  # totals below this read best in kWh (< 27,778 kWh), above it in GJ
_LABEL_LIMIT = 26
_GAP_FACTOR = 1.5  # a step this many times the usual one is a gap between environments


def needs_plotly(what: str) -> Any:
    """The plotly.graph_objects module, or an ImportError saying which extra installs it."""
    try:
        import plotly.graph_objects as go
    except ImportError as exc:
        raise ImportError(f"{what} needs plotly: pip install 'epcloud[plot]'") from exc
    return go


def axis_title(name: str, unit: str) -> str:
    """``name [unit]``: every numeric axis says its unit."""
    return f"{name} [{unit}]" if unit else name


def energy_unit(largest_gj: float) -> tuple[str, float]:
    """("kWh", factor) or ("GJ", 1.0) for energies whose largest value is ``largest_gj`` gigajoules."""
    if largest_gj == largest_gj and largest_gj < _KWH_LIMIT_GJ:
        return "kWh", GJ_TO_KWH
    return "GJ", 1.0


def shorten(label: str, limit: int = _LABEL_LIMIT) -> str:
    """``label`` cut in the middle to ``limit`` characters (the end often tells jobs apart)."""
    if len(label) <= limit:
        return label
    head = (limit - 1) // 2
    return f"{label[:head]}…{label[len(label) - (limit - 1 - head) :]}"


def short_labels(labels: Sequence[str], limit: int = _LABEL_LIMIT) -> list[str]:
    """Shortened labels that stay distinct (a category axis merges equal ones): repeats get ``#n``."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for label in labels:
        short = shorten(label, limit)
        count = seen.get(short, 0)
        seen[short] = count + 1
        out.append(short if count == 0 else shorten(f"{short} #{count + 1}", limit + 4))
    return out


def gapped(times: Sequence[datetime], values: Sequence[float]) -> tuple[list[Any], list[Any]]:
    """The points with a None after each gap longer than the usual step, so a line is not drawn across
    the days between two design days or between a sizing period and the run period."""
    if len(times) < 3:
        return list(times), list(values)
    steps = sorted(later - earlier for earlier, later in itertools.pairwise(times))
    usual = steps[len(steps) // 2] or timedelta(hours=1)
    xs: list[Any] = [times[0]]
    ys: list[Any] = [values[0]]
    for earlier, later, value in zip(times, times[1:], values[1:], strict=False):
        if later - earlier > usual * _GAP_FACTOR or later < earlier:
            xs.append(None)
            ys.append(None)
        xs.append(later)
        ys.append(value)
    return xs, ys


def rounded(values: Iterable[Any], digits: int = 4) -> list[float | None]:
    """Values to ``digits`` significant digits (what a chart can show), NaN as None: smaller pages."""
    out: list[float | None] = []
    for value in values:
        number = float(value) if value is not None else math.nan
        out.append(float(f"{number:.{digits}g}") if math.isfinite(number) else None)
    return out


def binned(values: Sequence[float], bins: int | None = None) -> tuple[list[float], list[int], float]:
    """Histogram bins computed here (centres, counts, width), so a chart of 10,000 jobs sends 30 numbers;
    by default about twice the square root of the count, 5 to 30 bins."""
    finite = [v for v in values if math.isfinite(v)]
    if bins is None:
        bins = min(30, max(5, 2 * math.ceil(math.sqrt(len(finite)))))
    if not finite:
        return [], [], 1.0
    low, high = min(finite), max(finite)
    if high == low:
        return [low], [len(finite)], max(abs(low) * 0.1, 1.0)
    width = (high - low) / bins
    counts = [0] * bins
    for v in finite:
        counts[min(int((v - low) / width), bins - 1)] += 1
    return [low + width * (i + 0.5) for i in range(bins)], counts, width


def quartiles(values: Sequence[float]) -> dict[str, list[float]]:
    """A box's statistics (min, quartiles, max) for plotly's precomputed boxes."""
    finite = sorted(v for v in values if math.isfinite(v))
    if not finite:
        return {}

    def at(q: float) -> float:
        position = q * (len(finite) - 1)
        low = math.floor(position)
        high = min(low + 1, len(finite) - 1)
        return finite[low] + (finite[high] - finite[low]) * (position - low)

    return {
        "lowerfence": [finite[0]],
        "q1": [at(0.25)],
        "median": [at(0.5)],
        "q3": [at(0.75)],
        "upperfence": [finite[-1]],
    }


def figure(height: int, *, legend: bool = True) -> go.Figure:
    """An empty figure in the house style: white, no title (the page's heading says it), margins that
    grow to fit tick labels, the legend in a row above the chart."""
    go = needs_plotly("epcloud charts")
    fig = go.Figure()
    fig.update_layout(
        template="none",  # the house style below, not a 7 kB template repeated in every chart
        colorway=list(PALETTE),
        paper_bgcolor="white",
        plot_bgcolor="white",
        height=height,
        autosize=True,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        font={"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12},
        hoverlabel={"namelength": -1},
        showlegend=legend,
        legend={  # above the chart: the margin grows to fit it, clear of the axis titles below
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.02,
            "x": 0,
            "xanchor": "left",
            "traceorder": "normal",
        },
    )
    axes = {"automargin": True, "title_standoff": 8, "gridcolor": "#e8e8e8", "linecolor": "#999"}
    # x tick labels sit a little lower, so the first one never meets the y axis's bottom label ("0")
    # in the corner (a histogram of near-equal runtimes puts a tick right at the axis's start).
    fig.update_xaxes(**axes, zeroline=False, ticklabelstandoff=8)
    fig.update_yaxes(**axes, zerolinecolor="#bbb")
    return fig


def figure_json(fig: go.Figure) -> str:
    """The figure's data and layout as JSON that is safe inside a ``<script>`` element."""
    return str(fig.to_json(validate=False)).replace("</", "<\\/")


def line_traces(
    fig: go.Figure, times: Sequence[datetime], columns: Iterable[tuple[str, Sequence[float]]]
) -> None:
    """One line per named column, broken at gaps (see `gapped`)."""
    go = needs_plotly("epcloud charts")
    for i, (name, values) in enumerate(columns):
        xs, ys = gapped(times, values)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                name=shorten(name),
                hovertext=name,
                mode="lines",
                line={"width": 1.2, "color": PALETTE[i % len(PALETTE)]},
                connectgaps=False,
            )
        )
