"""async_simulate_batch and its stream with the real engine; cancelling leaves no EnergyPlus alive."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from batch_helpers import BROKEN_INDEX, sweep_jobs

from epcloud.batch import BatchEvent, SimulationJob, async_simulate_batch, async_simulate_batch_stream
from epcloud.model import Shoebox
from epcloud.progress import ProgressEvent
from epcloud.run.cache import SimulationCache
from procs import engine_processes


async def test_async_batch_in_job_order(tmp_path: Path) -> None:
    events: list[ProgressEvent] = []
    jobs = sweep_jobs(tmp_path, count=6)
    batch = await async_simulate_batch(jobs, max_concurrent=2, on_progress=events.append)
    assert [r.run_dir for r in batch] == [tmp_path / job.label for job in jobs]
    assert len(batch.succeeded) == 5 and not batch[BROKEN_INDEX].success
    assert batch["broken"].errors.fatal
    assert {e.job_index for e in events if e.phase == "done"} == set(range(6))


async def test_stream_yields_in_completion_order(tmp_path: Path) -> None:
    jobs = sweep_jobs(tmp_path, count=4)
    seen: list[BatchEvent] = []
    async for event in async_simulate_batch_stream(jobs, max_concurrent=2):
        seen.append(event)
    assert [e.completed for e in seen] == [1, 2, 3, 4] and {e.total for e in seen} == {4}
    assert sorted(e.index for e in seen) == [0, 1, 2, 3]
    assert all(e.label == jobs[e.index].label and e.result.success for e in seen)


async def test_async_batch_uses_the_cache(tmp_path: Path) -> None:
    cache = SimulationCache(tmp_path / "cache")
    model = Shoebox().to_idf()
    jobs = [SimulationJob(model, None, output_dir=tmp_path / f"j{i}", design_day=True) for i in range(3)]
    batch = await async_simulate_batch(jobs, cache=cache)
    assert batch.all_succeeded and sorted(r.cached for r in batch) == [False, True, True]


def _long_jobs(tmp_path: Path, weather: Path) -> list[SimulationJob]:
    model = Shoebox(timesteps_per_hour=60).to_idf()
    return [SimulationJob(model, weather, output_dir=tmp_path / f"j{i}", annual=True) for i in range(4)]


async def _until_engines_run(marker: Path, events: list[ProgressEvent] | None = None) -> None:
    """Wait until EnergyPlus runs (and, given ``events``, has reported progress)."""
    for _ in range(200):
        await asyncio.sleep(0.05)
        if engine_processes(marker) and (events is None or events):
            return
    pytest.fail("EnergyPlus never started")


@pytest.mark.parametrize("with_progress", [False, True])
async def test_cancel_kills_every_engine(tmp_path: Path, chicago_epw: Path, with_progress: bool) -> None:
    events: list[ProgressEvent] = []
    task = asyncio.create_task(
        async_simulate_batch(
            _long_jobs(tmp_path, chicago_epw),
            max_concurrent=2,
            on_progress=events.append if with_progress else None,
        )
    )
    await _until_engines_run(tmp_path, events if with_progress else None)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert engine_processes(tmp_path) == []
    assert bool(events) == with_progress


async def test_leaving_the_stream_early_kills_the_rest(tmp_path: Path, chicago_epw: Path) -> None:
    jobs = [SimulationJob(Shoebox().to_idf(), None, output_dir=tmp_path / "quick", design_day=True)]
    jobs += _long_jobs(tmp_path, chicago_epw)
    stream = async_simulate_batch_stream(jobs, max_concurrent=2)
    async for first in stream:
        assert first.index == 0 and first.result.success
        break
    await stream.aclose()
    assert engine_processes(tmp_path) == []


async def test_async_batch_to_s3_with_a_cache(async_s3_fs: Any, tmp_path: Path) -> None:
    cache = SimulationCache(tmp_path / "cache")
    model = Shoebox().to_idf()
    jobs = [SimulationJob(model, None, output_dir=f"runs/{i}", design_day=True) for i in range(3)]
    batch = await async_simulate_batch(jobs, fs=async_s3_fs, cache=cache, max_concurrent=2)
    assert batch.all_succeeded and sorted(r.cached for r in batch) == [False, True, True]
    for index, result in enumerate(batch):
        assert result.location == async_s3_fs.url(f"runs/{index}")
    listing = await async_s3_fs.list_files("runs")
    names = {info.path.rsplit("/", 1)[-1] for info in listing}
    assert {"eplusout.sql", "run-status.json"} <= names and len(listing) % 3 == 0
