"""`TimeSeriesResult`: one output variable or meter over time, for one key or several."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

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
        frame = pd.DataFrame(
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

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw one line per key on `ax` (a new figure when None) and return the Axes (``epcloud[plot]``)."""
        if ax is None:
            try:
                import matplotlib.pyplot as plt
            except ImportError as exc:
                raise ImportError(
                    "TimeSeriesResult.plot() needs matplotlib: pip install 'epcloud[plot]'"
                ) from exc
            _, ax = plt.subplots()
        for key in self.keys:
            ax.plot(self.timestamps, self.data[key], label=key, **kwargs)  # type: ignore[arg-type]
        ax.set_ylabel(f"{self.variable_name} [{self.units}]" if self.units else self.variable_name)
        ax.set_title(f"{self.variable_name} ({self.frequency})")
        if len(self.keys) > 1:
            ax.legend()
        return ax


def _shorten(names: tuple[str, ...], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... and {len(names) - limit} more"
