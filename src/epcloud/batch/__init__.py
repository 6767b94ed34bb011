"""Batches: many simulations in parallel, on threads, processes, a Dask cluster, or the event loop."""

from epcloud.batch.async_runner import async_simulate_batch, async_simulate_batch_stream
from epcloud.batch.batch_result import BatchEvent, BatchResult, JobFailure
from epcloud.batch.jobs import SimulationJob
from epcloud.batch.runner import simulate_batch

__all__ = [
    "BatchEvent",
    "BatchResult",
    "JobFailure",
    "SimulationJob",
    "async_simulate_batch",
    "async_simulate_batch_stream",
    "simulate_batch",
]
