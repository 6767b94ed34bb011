"""`TimeSeriesResult`: one output variable or meter over time, for one key or several."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

__all__ = ["TimeSeriesResult"]


@dataclass(frozen=True, repr=False)
class TimeSeriesResult:
    """Values of one variable at one reporting frequency; `data` maps each key to its values."""

    variable_name: str
    key_value: str
    units: str
    frequency: str
    timestamps: tuple[datetime, ...]
    keys: tuple[str, ...]
    data: dict[str, tuple[float, ...]]
    environment: str | None = None

    @property
    def values(self) -> tuple[float, ...]:
        """The values of the single key; with several keys use `data[key]` or `to_dataframe()`."""
        if len(self.keys) != 1:
            raise ValueError(
                f"{self.variable_name!r} has {len(self.keys)} keys ({_shorten(self.keys)}); "
                "pick one with .data[key], ask get_timeseries(..., key=...) for one key, "
                "or use .to_dataframe() for all of them"
            )
        return self.data[self.keys[0]]

    def __len__(self) -> int:
        return len(self.timestamps)

    def __repr__(self) -> str:
        return (
            f"<TimeSeriesResult {self.variable_name!r} key={self.key_value!r} [{self.units}] "
            f"{self.frequency}, {len(self.keys)} key(s) x {len(self.timestamps)} values>"
        )

    def to_dataframe(self) -> pd.DataFrame:
        """A DataFrame indexed by timestamp with one column per key (needs ``epcloud[tables]``)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                "TimeSeriesResult.to_dataframe() needs pandas: pip install 'epcloud[tables]'"
            ) from exc
        frame: pd.DataFrame = pd.DataFrame(
            {key: list(self.data[key]) for key in self.keys},
            index=pd.DatetimeIndex(list(self.timestamps), name="timestamp"),
            columns=list(self.keys),
        )
        frame.columns.name = self.variable_name
        frame.attrs.update(
            variable_name=self.variable_name,
            units=self.units,
            frequency=self.frequency,
            environment=self.environment,
        )
        return frame

    def plot(self, **layout: Any) -> go.Figure:
        """A plotly figure with one line per key (``epcloud[plot]``): the unit on the value axis, energy in
        kWh rather than joules, lines broken between environments (design days, run periods).

        ``layout`` goes to ``Figure.update_layout`` (e.g. ``height=500``); show it with ``fig.show()``
        or save it with ``fig.write_html("series.html")``.
        """
        from epcloud.report.figures import axis_title, figure, line_traces, needs_plotly

        needs_plotly("TimeSeriesResult.plot()")
        factor, unit = (1 / 3.6e6, "kWh") if self.units == "J" else (1.0, self.units)
        fig = figure(400, legend=len(self.keys) > 1)
        columns = [(key, [v * factor for v in self.data[key]]) for key in self.keys]
        line_traces(fig, self.timestamps, columns)
        fig.update_xaxes(title_text=f"time ({self.frequency})", type="date")
        fig.update_yaxes(title_text=axis_title(self.variable_name, unit))
        fig.update_layout(**layout)
        return fig


def _shorten(names: tuple[str, ...], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... and {len(names) - limit} more"
