"""Where batch jobs run: this process's threads, any `concurrent.futures.Executor`, or a Dask cluster.

Jobs sent to another process or machine come back as a `ShippedResult` (where the outputs are), which
the calling process re-opens; live objects never cross.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from epcloud.batch.batch_result import JobFailure, JobResult
from epcloud.results.simulation_result import SimulationResult
from epcloud.run.simulate import run_simulation

if TYPE_CHECKING:
    from epcloud.batch.jobs import SimulationJob
    from epcloud.run.cache import SimulationCache
    from epcloud.run.prepare import EngineInput
    from epcloud.run.process import RunningProcesses
    from epcloud.storage import FileSystem

__all__ = [
    "THREAD_LIMITS",
    "ShippedResult",
    "Submitter",
    "is_dask_client",
    "run_job",
    "run_shipped",
    "submitter",
]

log = logging.getLogger(__name__)

# One thread per EnergyPlus process: a batch already runs one process per core.
THREAD_LIMITS: Mapping[str, str] = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def run_job(
    job: SimulationJob,
    *,
    fs: FileSystem | None,
    cache: SimulationCache | None,
    energyplus: EngineInput,
    on_line: Callable[[str], None] | None = None,
    running: RunningProcesses | None = None,
    env: Mapping[str, str] | None = None,
) -> JobResult:
    """Run one job; anything it raises becomes a `JobFailure`, so one job never stops the others.

    ``env`` adds engine environment variables to the thread limits (a study's engine backend).
    """
    try:
        return run_simulation(
            job.model,
            job.weather,
            job.options(),
            output_dir=job.output_dir,
            fs=fs,
            energyplus=energyplus,
            cache=cache,
            on_line=on_line,
            env={**THREAD_LIMITS, **env} if env else THREAD_LIMITS,
            running=running,
        )
    except Exception as exc:
        log.warning("job %s raised %s: %s", job.label or "(unlabelled)", type(exc).__name__, exc)
        return JobFailure.from_exception(exc, job.label)


@dataclass(frozen=True)
class ShippedResult:
    """A finished job as it travels back from another process: where its outputs are, not the outputs."""

    location: str
    in_store: bool
    stdout: str
    stderr: str
    cached: bool

    def open(self, fs: FileSystem | None) -> SimulationResult:
        """The job's result, re-opened where its outputs are (nothing is downloaded yet)."""
        result = SimulationResult.from_directory(self.location, fs=fs if self.in_store else None)
        return result.with_process_output(self.stdout, self.stderr, cached=self.cached)


def run_shipped(
    job: SimulationJob, fs: FileSystem | None, cache: SimulationCache | None, energyplus: EngineInput
) -> ShippedResult | JobFailure:
    """`run_job` in a worker process: the result is reduced to where its outputs are."""
    result = run_job(job, fs=fs, cache=cache, energyplus=energyplus)
    if isinstance(result, JobFailure):
        return result
    with result:
        return ShippedResult(str(result.run_dir), fs is not None, result.stdout, result.stderr, result.cached)


def is_dask_client(executor: object) -> bool:
    """Whether ``executor`` is a `distributed.Client` (checked without importing Dask)."""
    return type(executor).__module__.split(".", 1)[0] == "distributed" and hasattr(executor, "gather")


class _DaskSubmitter:
    """Submits to a Dask client and mirrors each Dask future into a `concurrent.futures.Future`."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.futures: list[Any] = []

    def __call__(self, fn: Callable[..., Any], *args: Any) -> cf.Future[Any]:
        mirror: cf.Future[Any] = cf.Future()
        remote = self.client.submit(fn, *args, pure=False)
        self.futures.append(remote)

        def settle(done: Any) -> None:
            try:
                mirror.set_result(done.result())
            except BaseException as exc:  # a lost worker or a cancel: the job fails, the batch goes on
                mirror.set_exception(exc)

        remote.add_done_callback(settle)
        return mirror

    def cancel(self) -> None:
        self.client.cancel(self.futures)


class _ExecutorSubmitter:
    def __init__(self, executor: cf.Executor) -> None:
        self.executor = executor
        self.futures: list[cf.Future[Any]] = []

    def __call__(self, fn: Callable[..., Any], *args: Any) -> cf.Future[Any]:
        future = self.executor.submit(fn, *args)
        self.futures.append(future)
        return future

    def cancel(self) -> None:
        for future in self.futures:
            future.cancel()


Submitter = _DaskSubmitter | _ExecutorSubmitter


def submitter(executor: object) -> Submitter:
    """A ``submit(fn, *args) -> Future`` with ``cancel()`` for a Dask client or an Executor."""
    if is_dask_client(executor):
        return _DaskSubmitter(executor)
    if isinstance(executor, cf.Executor):
        return _ExecutorSubmitter(executor)
    kind = type(executor).__name__
    raise TypeError(f"executor must be a concurrent.futures.Executor or a distributed.Client, got {kind}")
