"""`TimeSeriesResult`: one output variable or meter over time, for one key or several."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

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

    def plot(self, ax: Any = None, *, backend: Any = None, title: str | None = None, **options: Any) -> Any:
        """A line chart with one line per key: the unit on the value axis, energy in kWh rather than joules,
        lines broken between environments (design days, run periods).

        Args:
            ax: a matplotlib ``Axes`` to draw on (implies ``backend="matplotlib"``).
            backend: ``"plotly"`` (the default, ``epcloud[plot]``): returns a plotly ``Figure``, show it with
                ``fig.show()`` or save it with ``fig.write_html(...)``; ``"matplotlib"``
                (``epcloud[matplotlib]``): returns a matplotlib ``Figure``; or idfkit's backend objects
                (`PlotlyBackend()`, `MatplotlibBackend()`, or any object with ``line``/``multi_line``).
            title: the chart's title (none by default).
            options: plotly layout settings (``height=500``), or matplotlib line settings (``color="k"``).
        """
        from epcloud.results.plotting import plot_timeseries

        return plot_timeseries(self, ax, backend, title, options)


def _shorten(names: tuple[str, ...], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... and {len(names) - limit} more"
