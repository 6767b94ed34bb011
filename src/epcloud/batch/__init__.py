"""Batches: many simulations in parallel, on threads, processes, a Dask cluster, or the event loop.

The names load on first use: a study worker needs `SimulationJob`, not the event loop's batch runner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from epcloud._lazy import lazy_exports

if TYPE_CHECKING:
    from epcloud.batch.async_runner import async_simulate_batch, async_simulate_batch_stream
    from epcloud.batch.batch_result import BatchEvent, BatchResult, JobFailure
    from epcloud.batch.jobs import SimulationJob
    from epcloud.batch.runner import simulate_batch

_LAZY = {
    "BatchEvent": "epcloud.batch.batch_result",
    "BatchResult": "epcloud.batch.batch_result",
    "JobFailure": "epcloud.batch.batch_result",
    "SimulationJob": "epcloud.batch.jobs",
    "async_simulate_batch": "epcloud.batch.async_runner",
    "async_simulate_batch_stream": "epcloud.batch.async_runner",
    "simulate_batch": "epcloud.batch.runner",
}

__all__ = [
    "BatchEvent",
    "BatchResult",
    "JobFailure",
    "SimulationJob",
    "async_simulate_batch",
    "async_simulate_batch_stream",
    "simulate_batch",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
