"""Drawing a `TimeSeriesResult` with plotly (the default, ``epcloud[plot]``) or matplotlib
(``epcloud[matplotlib]``), and idfkit's backend objects (`PlotlyBackend`, `MatplotlibBackend`, or any object
with idfkit's ``line`` / ``multi_line`` methods).

Both libraries draw the same chart: one line per key, energy in kWh rather than joules, the unit on the value
axis, lines broken between environments (design days, run periods).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from epcloud.results.timeseries import TimeSeriesResult

__all__ = ["BACKENDS", "MatplotlibBackend", "PlotBackend", "PlotlyBackend", "plot_timeseries"]

#: The backend names `TimeSeriesResult.plot(backend=...)` accepts.
BACKENDS = ("plotly", "matplotlib")


def needs_matplotlib(what: str) -> Any:
    """The pyplot module, or an ImportError naming the extra that installs it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(f"{what} needs matplotlib: pip install 'epcloud[matplotlib]'") from exc
    return plt


@runtime_checkable
class PlotBackend(Protocol):
    """What a ``backend=`` object provides (idfkit's protocol): each method returns that library's figure."""

    def line(self, x: Sequence[Any], y: Sequence[float], **labels: Any) -> Any: ...

    def multi_line(self, x: Sequence[Any], series: Mapping[str, Sequence[float]], **labels: Any) -> Any: ...


class PlotlyBackend:
    """idfkit's plotly backend: `TimeSeriesResult.plot(backend=PlotlyBackend())` is ``backend="plotly"``."""

    name = "plotly"

    def __init__(self) -> None:
        from epcloud.report.figures import needs_plotly

        needs_plotly("PlotlyBackend")

    def line(self, x: Sequence[Any], y: Sequence[float], **labels: str | None) -> Any:
        """A figure with one line (``title``, ``xlabel``, ``ylabel``, ``label`` keywords as in idfkit)."""
        return self.multi_line(x, {labels.get("label") or "": y}, **labels)

    def multi_line(
        self, x: Sequence[Any], series: Mapping[str, Sequence[float]], **labels: str | None
    ) -> Any:
        """A figure with one line per named series."""
        from epcloud.report.figures import figure, line_traces

        fig = figure(400, legend=len(series) > 1)
        line_traces(fig, list(x), series.items())
        _plotly_labels(fig, labels.get("title"), labels.get("xlabel"), labels.get("ylabel"))
        return fig


class MatplotlibBackend:
    """idfkit's matplotlib backend: `TimeSeriesResult.plot(backend=MatplotlibBackend())` is
    ``backend="matplotlib"``."""

    name = "matplotlib"

    def __init__(self) -> None:
        needs_matplotlib("MatplotlibBackend")

    def line(self, x: Sequence[Any], y: Sequence[float], **labels: str | None) -> Any:
        """A matplotlib ``Figure`` with one line."""
        return self.multi_line(x, {labels.get("label") or "": y}, **labels)

    def multi_line(
        self, x: Sequence[Any], series: Mapping[str, Sequence[float]], **labels: str | None
    ) -> Any:
        """A matplotlib ``Figure`` with one line per named series."""
        plt = needs_matplotlib("MatplotlibBackend")
        fig, ax = plt.subplots()
        _matplotlib_lines(ax, list(x), series, {})
        _matplotlib_labels(ax, labels.get("title"), labels.get("xlabel"), labels.get("ylabel"), len(series))
        return fig


def plot_timeseries(
    series: TimeSeriesResult, ax: Any, backend: Any, title: str | None, options: dict[str, Any]
) -> Any:
    """The chart `TimeSeriesResult.plot` returns: a plotly ``Figure``, or a matplotlib ``Figure``."""
    from epcloud.report.figures import axis_title, needs_plotly

    kind = _backend_name(backend, ax)
    factor, unit = (1 / 3.6e6, "kWh") if series.units == "J" else (1.0, series.units)
    columns = {key: [v * factor for v in series.data[key]] for key in series.keys}
    xlabel = f"time ({series.frequency})"
    ylabel = axis_title(series.variable_name, unit)
    if kind == "plotly":
        needs_plotly("TimeSeriesResult.plot()")
        fig = PlotlyBackend().multi_line(
            series.timestamps, columns, title=title, xlabel=xlabel, ylabel=ylabel
        )
        fig.update_xaxes(type="date")
        fig.update_layout(**options)
        return fig
    if kind == "matplotlib":
        plt = needs_matplotlib("TimeSeriesResult.plot(backend='matplotlib')")
        if ax is None:
            _, ax = plt.subplots()
        _matplotlib_lines(ax, list(series.timestamps), columns, options)
        _matplotlib_labels(ax, title, xlabel, ylabel, len(columns))
        return ax.figure
    # any other object: idfkit's PlotBackend protocol
    labels = {
        "title": title or f"{series.key_value}: {series.variable_name}",
        "xlabel": xlabel,
        "ylabel": ylabel,
    }
    if len(columns) == 1:
        ((key, values),) = columns.items()
        return backend.line(list(series.timestamps), values, label=key, **labels)
    return backend.multi_line(list(series.timestamps), columns, **labels)


def _backend_name(backend: Any, ax: Any) -> str:
    if ax is not None:
        if backend not in (None, "matplotlib") and not isinstance(backend, MatplotlibBackend):
            raise ValueError(
                f"plot(ax=...) draws with matplotlib; backend={backend!r} cannot draw on an Axes"
            )
        return "matplotlib"
    if backend is None:
        return "plotly"
    if isinstance(backend, str):
        if backend.strip().lower() not in BACKENDS:
            raise ValueError(f"unknown plot backend {backend!r}; use one of {', '.join(map(repr, BACKENDS))}")
        return backend.strip().lower()
    if isinstance(backend, (PlotlyBackend, MatplotlibBackend)):
        return backend.name
    if callable(getattr(backend, "line", None)) and callable(getattr(backend, "multi_line", None)):
        return "custom"
    raise TypeError(
        f"backend={backend!r} is neither a name ({', '.join(map(repr, BACKENDS))}) nor an object with "
        "line() and multi_line() methods"
    )


def _plotly_labels(fig: Any, title: str | None, xlabel: str | None, ylabel: str | None) -> None:
    if xlabel:
        fig.update_xaxes(title_text=xlabel)
    if ylabel:
        fig.update_yaxes(title_text=ylabel)
    if title:
        margin = dict(fig.layout.margin.to_plotly_json())
        fig.update_layout(title_text=title, margin={**margin, "t": 40})


def _matplotlib_lines(
    ax: Any, times: list[datetime], columns: Mapping[str, Sequence[float]], options: dict[str, Any]
) -> None:
    """One line per column, in segments split where `gapped` would break the plotly line."""
    from epcloud.report.figures import PALETTE, gapped

    for i, (name, values) in enumerate(columns.items()):
        xs, ys = gapped(times, list(values))
        style = {"color": PALETTE[i % len(PALETTE)], "linewidth": 1.2, **options}
        segment_x: list[Any] = []
        segment_y: list[Any] = []
        first = True
        for x, y in [*zip(xs, ys, strict=True), (None, None)]:
            if x is not None:
                segment_x.append(x)
                segment_y.append(y)
                continue
            if segment_x:
                ax.plot(segment_x, segment_y, label=name if first else "_nolegend_", **style)
                first = False
            segment_x, segment_y = [], []


def _matplotlib_labels(
    ax: Any, title: str | None, xlabel: str | None, ylabel: str | None, count: int
) -> None:
    if title:
        ax.set_title(title)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if count > 1:
        ax.legend()
    ax.figure.autofmt_xdate()
