"""Helpers of the study tests: shoebox sweeps, worker processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from epcloud.batch import SimulationJob
from epcloud.model import Shoebox

VARIABLES = ["DistrictHeatingWater:Facility", "Zone Mean Air Temperature"]


def sweep(count: int) -> list[dict[str, float]]:
    """``count`` shoebox parameter sets varying wall insulation and glazing."""
    walls = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    windows = [0.2, 0.3, 0.4, 0.5]
    return [{"wall_r": walls[i % 6], "window_to_wall": windows[(i // 6) % 4]} for i in range(count)]


def shoebox_jobs(params: list[dict[str, float]], weather: Path | None) -> list[SimulationJob]:
    return [
        SimulationJob(
            Shoebox(**p).to_idf(),
            weather,
            label=f"wall{p['wall_r']}-wwr{p['window_to_wall']}",
            design_day=True,
        )
        for p in params
    ]


def start_worker(url: str, env: dict[str, str], *args: str, log: Path) -> subprocess.Popen[Any]:
    """`python -m epcloud worker URL ARGS` in the background, its output in ``log``."""
    handle = log.open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "epcloud", "-v", "worker", url, *args],
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
