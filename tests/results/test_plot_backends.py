"""`TimeSeriesResult.plot(backend=, title=, ax=)`: plotly by default, matplotlib if asked, idfkit's backends.

The series come from a real design-day run of the shoebox; each chart is checked for what it draws.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from epcloud.model import Shoebox
from epcloud.results.plotting import MatplotlibBackend, PlotlyBackend
from epcloud.simulation import SimulationResult, TimeSeriesResult, simulate

ZMAT = "Zone Mean Air Temperature"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulationResult]:
    out = tmp_path_factory.mktemp("plot") / "run"
    with simulate(Shoebox().to_idf(), None, design_day=True, output_dir=out) as result:
        assert result.success, result.errors.summary()
        yield result


@pytest.fixture(scope="module")
def series(run: SimulationResult) -> TimeSeriesResult:
    return run.sql.get_timeseries(ZMAT, "OFFICE")


@pytest.fixture(scope="module")
def energy(run: SimulationResult) -> TimeSeriesResult:
    return run.sql.get_timeseries("Electricity:Facility")


@pytest.fixture(autouse=True)
def _headless() -> Iterator[None]:
    import matplotlib

    matplotlib.use("Agg")
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def test_plotly_is_the_default_and_takes_a_title(series: TimeSeriesResult) -> None:
    from plotly.graph_objects import Figure

    plain = series.plot(height=300)
    titled = series.plot(backend="plotly", title="Office air", height=300)
    assert isinstance(plain, Figure) and isinstance(titled, Figure)
    assert plain.layout.title.text is None and titled.layout.title.text == "Office air"
    assert titled.layout.height == 300 and titled.layout.yaxis.title.text == f"{ZMAT} [C]"
    assert [list(t.y) for t in titled.data] == [list(t.y) for t in plain.data]
    assert series.plot(backend=PlotlyBackend(), title="Office air", height=300).to_dict() == titled.to_dict()


def _drawn(ax: Any) -> list[tuple[float, ...]]:
    """The y values of every segment drawn on the axes."""
    return [tuple(float(y) for y in line.get_ydata()) for line in ax.get_lines()]


def test_matplotlib_draws_the_same_values(series: TimeSeriesResult, energy: TimeSeriesResult) -> None:
    from matplotlib.figure import Figure

    fig = series.plot(backend="matplotlib", title="Office air")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert ax.get_title() == "Office air" and ax.get_ylabel() == f"{ZMAT} [C]"
    segments = _drawn(ax)
    assert len(segments) == 2  # two design days: the line breaks between them
    assert tuple(v for segment in segments for v in segment) == series.values
    kwh = _drawn(energy.plot(backend="matplotlib").axes[0])
    assert ax.get_legend() is None  # one key, no legend
    flat = [v for segment in kwh for v in segment]
    assert flat == pytest.approx([v / 3.6e6 for v in energy.values])  # joules shown as kWh


def test_matplotlib_draws_on_the_axes_given(series: TimeSeriesResult) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert series.plot(ax, color="black") is fig
    assert series.plot(ax=ax, backend=MatplotlibBackend()) is fig
    assert len(ax.get_lines()) == 4 and ax.get_lines()[0].get_color() == "black"
    with pytest.raises(ValueError, match="draws with matplotlib"):
        series.plot(ax=ax, backend="plotly")


def test_any_object_with_idfkit_backend_methods_draws(
    series: TimeSeriesResult, run: SimulationResult
) -> None:
    class Recorder:
        def __init__(self) -> None:
            self.calls: list[tuple[str, Any, Any, dict[str, Any]]] = []

        def line(self, x: Sequence[Any], y: Sequence[float], **labels: Any) -> str:
            self.calls.append(("line", list(x), list(y), labels))
            return "line figure"

        def multi_line(self, x: Sequence[Any], series: Mapping[str, Sequence[float]], **labels: Any) -> str:
            self.calls.append(("multi_line", list(x), dict(series), labels))
            return "multi figure"

    backend = Recorder()
    assert series.plot(backend=backend) == "line figure"
    kind, x, y, labels = backend.calls[0]
    assert kind == "line"
    assert x == list(series.timestamps) and y == list(series.values)
    assert labels["title"] == f"OFFICE: {ZMAT}" and labels["label"] == "OFFICE"  # idfkit's default title
    every_key = run.sql.get_timeseries("Site Outdoor Air Drybulb Temperature", "*")
    multi = MatplotlibBackend().multi_line(list(every_key.timestamps), every_key.data, title="t")
    assert len(multi.axes[0].get_lines()) == 2 * len(every_key.keys)
    with pytest.raises(ValueError, match="unknown plot backend 'bokeh'"):
        series.plot(backend="bokeh")
    with pytest.raises(TypeError, match="line\\(\\) and multi_line\\(\\)"):
        series.plot(backend=object())


def test_a_missing_plot_library_names_its_extra(
    series: TimeSeriesResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(
        ImportError,
        match=r"^TimeSeriesResult.plot\(backend='matplotlib'\) needs matplotlib: "
        r"pip install 'epcloud\[matplotlib\]'$",
    ):
        series.plot(backend="matplotlib")
    with pytest.raises(ImportError, match=r"epcloud\[matplotlib\]"):
        MatplotlibBackend()
    monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)
    with pytest.raises(
        ImportError, match=r"^TimeSeriesResult.plot\(\) needs plotly: pip install 'epcloud\[plot\]'$"
    ):
        series.plot(title="x")
