"""`async_simulate_batch` and `async_simulate_batch_stream`: a batch on the event loop.

At most ``max_concurrent`` engines run at once; cancelling the batch (or leaving the stream early)
cancels every job, which kills its EnergyPlus process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Iterable
from typing import TYPE_CHECKING

from epcloud.batch.batch_result import BatchEvent, BatchResult, JobFailure, JobResult
from epcloud.batch.executors import THREAD_LIMITS
from epcloud.batch.jobs import SimulationJob
from epcloud.batch.runner import check_jobs, done_notifier, progress_display, usable_cpus
from epcloud.progress import ProgressCallback, SafeCallback, combine
from epcloud.run.simulate import async_run_simulation

if TYPE_CHECKING:
    from epcloud.batch.runner import ProgressDisplay
    from epcloud.run.cache import SimulationCache
    from epcloud.run.prepare import EngineInput
    from epcloud.storage import AsyncFileSystem

__all__ = ["async_simulate_batch", "async_simulate_batch_stream"]

log = logging.getLogger(__name__)


async def _run_job(
    job: SimulationJob,
    index: int,
    gate: asyncio.Semaphore,
    fs: AsyncFileSystem | None,
    cache: SimulationCache | None,
    energyplus: EngineInput,
    events: SafeCallback | None,
) -> tuple[int, JobResult]:
    async with gate:
        try:
            result: JobResult = await async_run_simulation(
                job.model,
                job.weather,
                job.options(),
                output_dir=job.output_dir,
                fs=fs,
                energyplus=energyplus,
                cache=cache,
                on_line=events.line_handler(index, job.label) if events is not None else None,
                env=THREAD_LIMITS,
            )
        except Exception as exc:
            log.warning("job %s raised %s: %s", job.label or index, type(exc).__name__, exc)
            result = JobFailure.from_exception(exc, job.label)
    return index, result


async def async_simulate_batch_stream(
    jobs: Iterable[SimulationJob],
    *,
    max_concurrent: int | None = None,
    fs: AsyncFileSystem | None = None,
    cache: SimulationCache | None = None,
    on_progress: ProgressCallback | None = None,
    energyplus: EngineInput = None,
) -> AsyncGenerator[BatchEvent, None]:
    """Yield a `BatchEvent` as each job finishes (completion order); leaving early cancels the rest."""
    job_list = list(jobs)
    check_jobs(job_list, fs, remote=False)
    limit = usable_cpus() if max_concurrent is None else max_concurrent  # 0 is an error, as max_workers=0
    if limit < 1:
        raise ValueError(f"max_concurrent must be at least 1, got {limit}")
    if fs is not None:
        await fs.check_writable()  # once for the batch, before any engine starts
    gate = asyncio.Semaphore(limit)
    events = combine(on_progress)
    tasks = [
        asyncio.create_task(_run_job(job, index, gate, fs, cache, energyplus, events))
        for index, job in enumerate(job_list)
    ]
    try:
        for completed, next_done in enumerate(asyncio.as_completed(tasks), start=1):
            index, result = await next_done
            yield BatchEvent(index, job_list[index].label, result, completed, len(job_list))
    finally:
        for task in tasks:
            task.cancel()
        # wait for every cancelled job, so its engine is dead before the caller goes on
        await asyncio.gather(*tasks, return_exceptions=True)


async def async_simulate_batch(
    jobs: Iterable[SimulationJob],
    *,
    max_concurrent: int | None = None,
    fs: AsyncFileSystem | None = None,
    cache: SimulationCache | None = None,
    progress: ProgressDisplay = None,
    on_progress: ProgressCallback | None = None,
    energyplus: EngineInput = None,
) -> BatchResult:
    """The coroutine twin of `simulate_batch`; cancelling it kills every running EnergyPlus."""
    job_list = list(jobs)
    display = progress_display(progress, len(job_list))
    events = combine(on_progress, display.on_event if display is not None else None)
    done = done_notifier(job_list, events, display)
    results: list[JobResult | None] = [None] * len(job_list)
    start = time.perf_counter()
    stream = async_simulate_batch_stream(
        job_list, max_concurrent=max_concurrent, fs=fs, cache=cache, on_progress=events, energyplus=energyplus
    )
    with display if display is not None else contextlib.nullcontext():
        try:
            async for event in stream:
                results[event.index] = event.result
                done(event.index, event.result)
        finally:
            await stream.aclose()
    batch = BatchResult(job_list, [r for r in results if r is not None], time.perf_counter() - start)
    if display is not None:
        display.summary(len(batch.succeeded), len(batch.failed), batch.wall_seconds)
    return batch
