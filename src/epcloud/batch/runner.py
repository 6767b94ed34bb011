"""`simulate_batch`: many runs at once, one EnergyPlus process per core, no job able to stop the others."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal

from epcloud.batch.batch_result import BatchResult, JobFailure, JobResult
from epcloud.batch.executors import ShippedResult, Submitter, run_job, run_shipped, submitter
from epcloud.batch.jobs import SimulationJob
from epcloud.progress import ProgressCallback, ProgressEvent, RichBatchProgress, SafeCallback, combine
from epcloud.run.process import RunningProcesses

if TYPE_CHECKING:
    from epcloud.run.cache import SimulationCache
    from epcloud.run.prepare import EngineInput
    from epcloud.storage import FileSystem

__all__ = ["simulate_batch", "usable_cpus"]

log = logging.getLogger(__name__)

ProgressDisplay = Literal["rich"] | bool | None
JobDone = Callable[[int, JobResult], None]


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def check_jobs(jobs: list[SimulationJob], fs: object, remote: bool) -> None:
    """Refuse, before anything runs, a batch whose outputs would have nowhere to go."""
    for index, job in enumerate(jobs):
        if not isinstance(job, SimulationJob):
            raise TypeError(f"job {index} is a {type(job).__name__}, not a SimulationJob")
        if job.output_dir is None and (fs is not None or remote):
            where = "in the store" if fs is not None else "shared with the executor's workers"
            raise ValueError(f"job {index} ({job.label or 'unlabelled'}) needs an output_dir {where}")


def progress_display(progress: ProgressDisplay, total: int) -> RichBatchProgress | None:
    if progress is None or progress is False:
        return None
    if progress is True or progress == "rich":
        return RichBatchProgress(total)
    raise ValueError(f"progress must be None or 'rich', got {progress!r}")


def done_notifier(
    jobs: list[SimulationJob], events: SafeCallback | None, display: RichBatchProgress | None
) -> JobDone:
    """What happens as each job ends: a ``done`` progress event and the progress bar's step."""

    def done(index: int, result: JobResult) -> None:
        if display is not None:
            display.job_done(index, result.success, result.cached)
        if events is not None:
            state = "cached" if result.cached else ("succeeded" if result.success else "failed")
            events(ProgressEvent("done", state, None, 100.0, index, jobs[index].label))

    return done


def _in_threads(
    pool: cf.ThreadPoolExecutor,
    jobs: list[SimulationJob],
    fs: FileSystem | None,
    cache: SimulationCache | None,
    energyplus: EngineInput,
    events: SafeCallback | None,
    done: JobDone,
) -> list[JobResult]:
    """Run every job in ``pool``; on any interruption (Ctrl-C) kill the running engines, drop the rest."""
    running = RunningProcesses()
    results: list[Any] = [None] * len(jobs)
    futures = {
        pool.submit(
            run_job,
            job,
            fs=fs,
            cache=cache,
            energyplus=energyplus,
            on_line=events.line_handler(index, job.label) if events is not None else None,
            running=running,
        ): index
        for index, job in enumerate(jobs)
    }
    try:
        for future in cf.as_completed(futures):
            index = futures[future]
            results[index] = future.result()
            done(index, results[index])
    except BaseException:
        running.kill_all()
        for future in futures:
            future.cancel()
        log.warning("batch interrupted: running EnergyPlus processes killed, pending jobs cancelled")
        raise
    return results


def _on_executor(
    submit: Submitter,
    jobs: list[SimulationJob],
    fs: FileSystem | None,
    cache: SimulationCache | None,
    energyplus: EngineInput,
    done: JobDone,
) -> list[JobResult]:
    """Run every job on another executor (processes, a Dask cluster); results come back as locations."""
    futures = {submit(run_shipped, job, fs, cache, energyplus): index for index, job in enumerate(jobs)}
    results: list[Any] = [None] * len(jobs)
    try:
        for future in cf.as_completed(futures):
            index = futures[future]
            try:
                shipped = future.result()
                result = shipped.open(fs) if isinstance(shipped, ShippedResult) else shipped
            except Exception as exc:  # the worker was lost, or the result cannot be re-opened
                result = JobFailure.from_exception(exc, jobs[index].label)
            results[index] = result
            done(index, result)
    except BaseException:
        submit.cancel()
        raise
    return results


def simulate_batch(
    jobs: Iterable[SimulationJob],
    *,
    max_workers: int | None = None,
    fs: FileSystem | None = None,
    cache: SimulationCache | None = None,
    progress: ProgressDisplay = None,
    on_progress: ProgressCallback | None = None,
    executor: object = None,
    energyplus: EngineInput = None,
) -> BatchResult:
    """Run ``jobs`` in parallel and return their results in job order.

    ``max_workers`` EnergyPlus processes (default: the usable CPUs) run at once, each on one thread.
    A job that fails or raises becomes a failed result; a raising ``on_progress`` is logged once and
    ignored; Ctrl-C kills the running engines and cancels the rest. ``executor`` may be any
    `concurrent.futures.Executor` or a Dask `distributed.Client`; jobs on other processes or machines
    need an ``output_dir`` they can reach (or ``fs``), and send back engine progress only as ``done``.
    """
    job_list = list(jobs)
    in_process = executor is None or isinstance(executor, cf.ThreadPoolExecutor)
    remote = None if in_process else submitter(executor)
    check_jobs(job_list, fs, remote=remote is not None)
    if max_workers is not None and max_workers < 1:
        raise ValueError(f"max_workers must be at least 1, got {max_workers}")
    if fs is not None:
        fs.check_writable()  # once for the batch, before any engine starts
    display = progress_display(progress, len(job_list))
    events = combine(on_progress, display.on_event if display is not None else None)
    done = done_notifier(job_list, events, display)
    start = time.perf_counter()
    with display if display is not None else contextlib.nullcontext():
        if isinstance(executor, cf.ThreadPoolExecutor):
            results = _in_threads(executor, job_list, fs, cache, energyplus, events, done)
        elif remote is not None:
            results = _on_executor(remote, job_list, fs, cache, energyplus, done)
        else:
            workers = min(max_workers or usable_cpus(), max(1, len(job_list)))
            pool = cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="epcloud-batch")
            try:
                results = _in_threads(pool, job_list, fs, cache, energyplus, events, done)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
    batch = BatchResult(job_list, results, time.perf_counter() - start)
    if display is not None:
        display.summary(len(batch.succeeded), len(batch.failed), batch.wall_seconds)
    log.info("%r", batch)
    return batch
