"""`BatchResult`: every job's result in job order, with lookups, filters and a table; `JobFailure`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, overload

from epcloud.results.errfile import ErrorReport
from epcloud.results.simulation_result import SimulationResult

if TYPE_CHECKING:
    import pandas as pd

    from epcloud.batch.jobs import SimulationJob

__all__ = ["BatchEvent", "BatchResult", "JobFailure", "JobResult"]


@dataclass(frozen=True)
class JobFailure:
    """A job that raised instead of producing a run (bad model, missing weather, store error...).

    Reads like a failed `SimulationResult` (``success`` is False, ``errors`` is empty) and keeps the
    exception's type and message, and its traceback text.
    """

    label: str
    error_type: str
    message: str
    traceback: str = ""
    exit_code: None = None
    runtime_seconds: float = 0.0
    timed_out: bool = False
    cached: bool = False
    status: None = None
    location: str = ""
    errors: ErrorReport = field(default_factory=ErrorReport.empty)
    # A job that ran but whose upload failed: the local folder keeping its outputs.
    kept_dir: str | None = None

    @classmethod
    def from_exception(cls, exc: BaseException, label: str = "") -> JobFailure:
        import traceback

        from epcloud.errors import UploadFailedError

        kind = type(exc)
        name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
        kept = exc.kept_dir if isinstance(exc, UploadFailedError) else None
        return cls(label, name, str(exc), "".join(traceback.format_exception(exc)), kept_dir=kept)

    @property
    def success(self) -> bool:
        return False

    @property
    def error(self) -> str:
        """``"Type: message"``, as Python prints an exception."""
        return f"{self.error_type.rsplit('.', 1)[-1]}: {self.message}"

    def close(self) -> None:
        """Nothing to release (for symmetry with `SimulationResult`)."""

    def __enter__(self) -> JobFailure:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


JobResult = SimulationResult | JobFailure


@dataclass(frozen=True)
class BatchEvent:
    """One finished job, as `async_simulate_batch_stream` yields them: in completion order."""

    index: int
    label: str
    result: JobResult
    completed: int
    total: int


class BatchResult:
    """The results of a batch in job order: ``batch[3]``, ``batch["label"]``, ``batch.failed``..."""

    def __init__(
        self, jobs: Sequence[SimulationJob], results: Sequence[JobResult], wall_seconds: float = 0.0
    ) -> None:
        if len(jobs) != len(results):
            raise ValueError(f"{len(jobs)} jobs but {len(results)} results")
        self.jobs = tuple(jobs)
        self.results = tuple(results)
        self.wall_seconds = wall_seconds
        self._by_label: dict[str, int | None] = {}
        for index, job in enumerate(self.jobs):
            if job.label:
                self._by_label[job.label] = None if job.label in self._by_label else index

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[JobResult]:
        return iter(self.results)

    @overload
    def __getitem__(self, key: int | str) -> JobResult: ...
    @overload
    def __getitem__(self, key: slice) -> tuple[JobResult, ...]: ...
    def __getitem__(self, key: int | str | slice) -> JobResult | tuple[JobResult, ...]:
        if not isinstance(key, str):
            return self.results[key]
        if key not in self._by_label:
            raise KeyError(f"no job labelled {key!r} in this batch of {len(self)}")
        index = self._by_label[key]
        if index is None:
            raise KeyError(f"several jobs are labelled {key!r}; index the batch by position")
        return self.results[index]

    @property
    def succeeded(self) -> list[JobResult]:
        return [r for r in self.results if r.success]

    @property
    def failed(self) -> list[JobResult]:
        return [r for r in self.results if not r.success]

    @property
    def unsent(self) -> list[JobFailure]:
        """Jobs that ran but whose upload failed; each keeps its outputs in ``kept_dir``."""
        return [r for r in self.results if isinstance(r, JobFailure) and r.kept_dir is not None]

    @property
    def all_succeeded(self) -> bool:
        return all(r.success for r in self.results)

    def rows(self) -> list[dict[str, Any]]:
        """One plain dict per job (what `to_dataframe` tabulates)."""
        rows = []
        for index, (job, result) in enumerate(zip(self.jobs, self.results, strict=True)):
            errors = result.errors
            rows.append(
                {
                    "index": index,
                    "label": job.label,
                    "success": result.success,
                    "cached": result.cached,
                    "runtime_seconds": result.runtime_seconds,
                    "warnings": errors.warning_count,
                    "severe": errors.severe_count,
                    "fatal": errors.fatal[0].message if errors.fatal else None,
                    "error": result.error if isinstance(result, JobFailure) else None,
                    "location": result.location,
                    "kept_dir": result.kept_dir if isinstance(result, JobFailure) else None,
                }
            )
        return rows

    def to_dataframe(self) -> pd.DataFrame:
        """One row per job: label, success, runtime, warning/severe counts, errors, output location."""
        import pandas as pd

        frame: pd.DataFrame = pd.DataFrame(self.rows()).set_index("index")
        return frame

    def close(self) -> None:
        """Release every result's open outputs and temporary folders."""
        for result in self.results:
            result.close()

    def __enter__(self) -> BatchResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- idfkit names (docs/idfkit.md) ------------------------------------------------------------

    @property
    def total_runtime_seconds(self) -> float:
        """idfkit's name for `wall_seconds`: the batch's wall-clock time."""
        return self.wall_seconds

    def __repr__(self) -> str:
        unsent = len(self.unsent)
        kept = f" ({unsent} kept locally: upload failed)" if unsent else ""
        return (
            f"<BatchResult {len(self.succeeded)} succeeded, {len(self.failed)} failed{kept} "
            f"in {self.wall_seconds:.1f} s>"
        )
