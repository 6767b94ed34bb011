"""Batch test helpers: a 12-job shoebox sweep with one broken model, and engine-process probes."""

from __future__ import annotations

from pathlib import Path

from epcloud.batch import SimulationJob
from epcloud.model import Shoebox

BROKEN_INDEX = 5
TEMP = "Zone Mean Air Temperature"


def broken_model() -> str:
    """A shoebox whose roof names a material that does not exist: EnergyPlus stops with a fatal error."""
    return Shoebox().to_idf().replace("Construction, Roof, Roof Membrane,", "Construction, Roof, Missing,")


def sweep_jobs(output_root: str | Path | None, count: int = 12) -> list[SimulationJob]:
    """``count`` design-day jobs over wall insulation; job BROKEN_INDEX is the broken model."""
    jobs = []
    for index in range(count):
        label = "broken" if index == BROKEN_INDEX else f"wall-r-{index}"
        model = broken_model() if index == BROKEN_INDEX else Shoebox(wall_r=1.0 + 0.5 * index).to_idf()
        output_dir = None if output_root is None else f"{output_root}/{label}"
        jobs.append(SimulationJob(model, None, label=label, output_dir=output_dir, design_day=True))
    return jobs
