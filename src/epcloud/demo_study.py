"""The demo study: six shoebox variants (wall insulation × glazing) run on the bundled engine and weather."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from epcloud.engine import default_energyplus
from epcloud.model import load_idf
from epcloud.model.shoebox import Shoebox
from epcloud.results.simulation_result import SimulationResult
from epcloud.run.simulate import simulate

__all__ = ["DEMO_WEATHER", "DemoRow", "demo_variants", "run_demo"]

DEMO_WEATHER = "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"


@dataclass(frozen=True)
class DemoRow:
    """One variant's key results (site energy in GJ)."""

    label: str
    wall_r: float
    window_to_wall: float
    success: bool
    runtime_seconds: float
    heating_gj: float
    cooling_gj: float
    electricity_gj: float
    run_dir: Path


def demo_variants() -> dict[str, Shoebox]:
    """Three wall insulation levels × two window-to-wall ratios."""
    return {
        f"wall-r{wall_r:g}-wwr{int(wwr * 100)}": Shoebox(wall_r=wall_r, window_to_wall=wwr)
        for wall_r in (1.0, 2.5, 5.0)
        for wwr in (0.2, 0.6)
    }


def _total_gj(result: SimulationResult, meter: str) -> float:
    """A meter's total over the weather-file run period (the design days when there is none)."""
    sql = result.sql
    environments = sql.list_environments()
    weather_periods = [env for env in environments if env.type == "RunPeriodWeather"]
    chosen = weather_periods or environments
    joules = sum(sum(sql.get_timeseries(meter, environment=env.index).values) for env in chosen)
    return joules / 1e9


def _row(label: str, box: Shoebox, result: SimulationResult) -> DemoRow:
    ok = result.success
    nan = float("nan")
    return DemoRow(
        label=label,
        wall_r=box.wall_r,
        window_to_wall=box.window_to_wall,
        success=ok,
        runtime_seconds=result.runtime_seconds,
        heating_gj=_total_gj(result, "DistrictHeatingWater:Facility") if ok else nan,
        cooling_gj=_total_gj(result, "DistrictCooling:Facility") if ok else nan,
        electricity_gj=_total_gj(result, "Electricity:Facility") if ok else nan,
        run_dir=result.run_dir,
    )


def run_demo(
    output_dir: str | os.PathLike[str] = "epcloud-demo",
    *,
    design_day: bool = False,
    max_workers: int | None = None,
    on_done: Callable[[DemoRow], None] | None = None,
) -> list[DemoRow]:
    """Run the six variants into ``output_dir/<label>/`` and return their key results in order."""
    weather = default_energyplus().weather_dir / DEMO_WEATHER
    root = Path(output_dir)
    variants = demo_variants()

    def one(label: str) -> DemoRow:
        box = variants[label]
        with simulate(
            load_idf(box.to_idf()),
            weather,
            output_dir=root / label,
            annual=not design_day,
            design_day=design_day,
        ) as result:
            row = _row(label, box, result)
        if on_done is not None:
            on_done(row)
        return row

    workers = max_workers or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, variants))
