"""async_simulate: same results as simulate; cancelling kills EnergyPlus."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from epcloud.model import Shoebox, load_idf
from epcloud.run.simulate import async_simulate, simulate
from procs import engine_processes

TEMP = "Zone Mean Air Temperature"


async def test_async_matches_sync(tmp_path: Path) -> None:
    doc = load_idf(Shoebox().to_idf())
    async_result = await async_simulate(doc, None, output_dir=tmp_path / "a", design_day=True)
    sync_result = simulate(doc, None, output_dir=tmp_path / "s", design_day=True)
    with async_result, sync_result:
        assert async_result.success and sync_result.success
        assert async_result.sql.get_timeseries(TEMP).values == sync_result.sql.get_timeseries(TEMP).values
        assert async_result.status is not None and sync_result.status is not None
        assert async_result.status.model_sha256 == sync_result.status.model_sha256


async def test_two_concurrent_runs(tmp_path: Path) -> None:
    doc = load_idf(Shoebox().to_idf())
    results = await asyncio.gather(
        *(async_simulate(doc, None, output_dir=tmp_path / str(i), design_day=True) for i in range(2))
    )
    assert all(r.success for r in results)


async def test_cancel_kills_energyplus(tmp_path: Path, chicago_epw: Path) -> None:
    doc = load_idf(Shoebox(timesteps_per_hour=60).to_idf())
    task = asyncio.create_task(async_simulate(doc, chicago_epw, output_dir=tmp_path, annual=True))
    for _ in range(100):  # wait until the engine is really running
        await asyncio.sleep(0.05)
        if engine_processes(tmp_path):
            break
    assert engine_processes(tmp_path), "EnergyPlus never started"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert engine_processes(tmp_path) == []


async def test_async_timeout(tmp_path: Path, chicago_epw: Path) -> None:
    doc = load_idf(Shoebox(timesteps_per_hour=60).to_idf())
    result = await async_simulate(doc, chicago_epw, output_dir=tmp_path, annual=True, timeout=0.5)
    assert result.timed_out and not result.success
    assert engine_processes(tmp_path) == []
