"""The names users import from ``epcloud.simulation`` (the same names idfkit's cloud guide uses)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from epcloud._lazy import lazy_exports
from epcloud.engine import EnergyPlusConfig, find_energyplus
from epcloud.results.errfile import ErrorReport
from epcloud.results.simulation_result import SimulationResult
from epcloud.results.sql import SQLResult
from epcloud.results.timeseries import TimeSeriesResult
from epcloud.run.simulate import async_simulate, simulate
from epcloud.rundir.compression import TEXT_OUTPUTS
from epcloud.rundir.upload import UploadPolicy

if TYPE_CHECKING:
    from epcloud.batch import (
        BatchEvent,
        BatchResult,
        JobFailure,
        SimulationJob,
        async_simulate_batch,
        async_simulate_batch_stream,
        simulate_batch,
    )
    from epcloud.progress import ProgressEvent
    from epcloud.results.csvout import CSVColumn, CSVResult
    from epcloud.results.dictionary import OutputMeter, OutputVariable, OutputVariableIndex
    from epcloud.results.eso import ESOColumn, ESOEnvironment, ESOResult, ESOVariable
    from epcloud.results.htmltables import HTMLResult, HTMLTable
    from epcloud.results.plotting import MatplotlibBackend, PlotBackend, PlotlyBackend
    from epcloud.run.cache import SimulationCache
    from epcloud.storage import (
        AsyncFileSystem,
        AsyncLocalFileSystem,
        AsyncS3FileSystem,
        FileSystem,
        LocalFileSystem,
        S3FileSystem,
        open_fs,
    )

# Storage backends and batches load on first use, so importing this module needs neither boto3 nor fsspec.
_LAZY = {
    "BatchEvent": "epcloud.batch",
    "BatchResult": "epcloud.batch",
    "JobFailure": "epcloud.batch",
    "SimulationJob": "epcloud.batch",
    "async_simulate_batch": "epcloud.batch",
    "async_simulate_batch_stream": "epcloud.batch",
    "simulate_batch": "epcloud.batch",
    "SimulationCache": "epcloud.run.cache",
    "ProgressEvent": "epcloud.progress",
    "FileSystem": "epcloud.storage",
    "AsyncFileSystem": "epcloud.storage",
    "LocalFileSystem": "epcloud.storage",
    "AsyncLocalFileSystem": "epcloud.storage",
    "S3FileSystem": "epcloud.storage",
    "AsyncS3FileSystem": "epcloud.storage",
    "open_fs": "epcloud.storage",
    # the parsed text outputs and plot backends, under idfkit's names (docs/idfkit.md)
    "CSVColumn": "epcloud.results.csvout",
    "CSVResult": "epcloud.results.csvout",
    "ESOColumn": "epcloud.results.eso",
    "ESOEnvironment": "epcloud.results.eso",
    "ESOResult": "epcloud.results.eso",
    "ESOVariable": "epcloud.results.eso",
    "HTMLResult": "epcloud.results.htmltables",
    "HTMLTable": "epcloud.results.htmltables",
    "OutputMeter": "epcloud.results.dictionary",
    "OutputVariable": "epcloud.results.dictionary",
    "OutputVariableIndex": "epcloud.results.dictionary",
    "MatplotlibBackend": "epcloud.results.plotting",
    "PlotBackend": "epcloud.results.plotting",
    "PlotlyBackend": "epcloud.results.plotting",
}

__all__ = [
    "TEXT_OUTPUTS",
    "AsyncFileSystem",
    "AsyncLocalFileSystem",
    "AsyncS3FileSystem",
    "BatchEvent",
    "BatchResult",
    "CSVColumn",
    "CSVResult",
    "ESOColumn",
    "ESOEnvironment",
    "ESOResult",
    "ESOVariable",
    "EnergyPlusConfig",
    "ErrorReport",
    "FileSystem",
    "HTMLResult",
    "HTMLTable",
    "JobFailure",
    "LocalFileSystem",
    "MatplotlibBackend",
    "OutputMeter",
    "OutputVariable",
    "OutputVariableIndex",
    "PlotBackend",
    "PlotlyBackend",
    "ProgressEvent",
    "S3FileSystem",
    "SQLResult",
    "SimulationCache",
    "SimulationJob",
    "SimulationResult",
    "TimeSeriesResult",
    "UploadPolicy",
    "async_simulate",
    "async_simulate_batch",
    "async_simulate_batch_stream",
    "find_energyplus",
    "open_fs",
    "simulate",
    "simulate_batch",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
