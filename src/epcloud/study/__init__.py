"""Studies: the cloud workflow of create (jobs into a store) → run (workers, shards) → collect (tables)."""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from epcloud.study import layout
from epcloud.study.create import create_study, create_sweep_study
from epcloud.study.manifest import JobEntry, StudyInfo, VariableRequest, read_shard, read_study
from epcloud.study.sweep import Parameter, Sweep
from epcloud.study.worker import ShardReport, resolve_slice, run_entries, run_on_executor

if TYPE_CHECKING:
    import pyarrow.dataset as ds

    from epcloud.batch.jobs import SimulationJob
    from epcloud.batch.runner import ProgressDisplay
    from epcloud.results.simulation_result import SimulationResult
    from epcloud.run.prepare import EngineInput
    from epcloud.rundir.upload import UploadPolicy
    from epcloud.storage import FileSystem
    from epcloud.study.collect import StudyTables
    from epcloud.study.study_status import RerunReport, StudyStatus

__all__ = ["JobEntry", "Parameter", "ShardReport", "Study", "StudyInfo", "Sweep", "VariableRequest"]

log = logging.getLogger(__name__)


def _as_fs(url_or_fs: str | os.PathLike[str] | FileSystem, options: Mapping[str, Any]) -> FileSystem:
    if isinstance(url_or_fs, (str, os.PathLike)):
        from epcloud.storage import open_fs

        return open_fs(url_or_fs, **options)
    if options:
        raise TypeError("store options are only accepted with a URL")
    return url_or_fs


class Study:
    """A study in a store: `Study.create(fs, jobs)`, then `run_shard()` on workers, then `collect()`."""

    def __init__(self, fs: FileSystem, info: StudyInfo) -> None:
        self.fs = fs
        self.info = info

    def __repr__(self) -> str:
        return f"<Study {self.url} {self.info.job_count} jobs in {self.info.shard_count} shards>"

    @property
    def url(self) -> str:
        return self.fs.url()

    @classmethod
    def create(
        cls,
        fs: str | os.PathLike[str] | FileSystem,
        jobs: Iterable[SimulationJob] | Sweep,
        *,
        parameters: Sequence[Mapping[str, Any]] | None = None,
        overwrite: bool = False,
        metadata: Mapping[str, Any] | None = None,
        shard_size: int | None = None,
        shard_count: int | None = None,
        variables: Iterable[VariableRequest | str | Mapping[str, Any]] = (),
        energyplus: EngineInput = None,
        pilot: bool = False,
        upload: UploadPolicy | str | Sequence[str] | None = None,
        **options: Any,
    ) -> Study:
        """Write a new study of ``jobs`` or of a `Sweep` (models and weather once each, per-shard
        manifests) to the store.

        ``variables`` names output series every job's summary keeps for `collect` (their output objects
        are added to models that lack them); ``pilot`` runs the first job's design days here first.
        ``upload`` chooses the outputs each job stores, as `simulate`'s does (None: the default set;
        a list of patterns; "all"; an `UploadPolicy`); its summary and run-status.json are always
        stored. ``upload=[]`` stores those two only: a job then costs 4 fewer requests of the 11.
        """
        store = _as_fs(fs, options)
        store.check_writable()  # a wrong bucket or key is found before any pilot run or upload
        if isinstance(jobs, Sweep):
            if parameters is not None:
                raise TypeError("a Sweep records its own parameters; do not pass parameters=")
            info = create_sweep_study(
                store,
                jobs,
                overwrite=overwrite,
                metadata=metadata,
                shard_size=shard_size,
                shard_count=shard_count,
                variables=variables,
                energyplus=energyplus,
                pilot=pilot,
                upload=upload,
            )
            return cls(store, info)
        info = create_study(
            store,
            jobs,
            parameters=parameters,
            overwrite=overwrite,
            metadata=metadata,
            shard_size=shard_size,
            shard_count=shard_count,
            variables=variables,
            energyplus=energyplus,
            pilot=pilot,
            upload=upload,
        )
        return cls(store, info)

    @classmethod
    def open(cls, url_or_fs: str | os.PathLike[str] | FileSystem, **options: Any) -> Study:
        """The study at a store URL (``s3://bucket/study-001``, a folder) or in a FileSystem."""
        store = _as_fs(url_or_fs, options)
        return cls(store, read_study(store))

    def entries(self, shard: int | None = None) -> list[JobEntry]:
        """The job entries of one shard, or of every shard (in job order)."""
        shards = range(self.info.shard_count) if shard is None else [shard]
        with ThreadPoolExecutor(max_workers=16, thread_name_prefix="epcloud-manifest") as pool:
            found = [entry for part in pool.map(lambda s: read_shard(self.fs, s), shards) for entry in part]
        return sorted(found, key=lambda entry: entry.index)

    def run_shard(
        self,
        index: int | None = None,
        count: int | None = None,
        *,
        max_workers: int | None = None,
        energyplus: EngineInput = None,
        stop: threading.Event | None = None,
        steal: bool = False,
        progress: ProgressDisplay = None,
        heartbeat: float | None = None,
    ) -> ShardReport:
        """Run this worker's shard(s): ``index`` of ``count`` (default: from the array job environment).

        Any ``count >= 1`` works: more workers than shards split a shard's jobs, and a worker left
        without jobs logs it and returns an empty report. Done jobs are skipped; setting ``stop`` kills
        running engines and leaves their jobs pending. With ``steal``, the worker then runs the pending
        jobs of dead shards (claimed by leases). Leases are renewed every ``heartbeat`` seconds
        (default: ``EPCLOUD_HEARTBEAT_SECONDS``, else 30); see docs/reliability.md.
        ``progress="rich"`` shows a progress bar of the shard's jobs on stderr.
        """
        part = resolve_slice(index, count, self.info.shard_count)
        shards = part.shards
        self.fs.check_writable()  # before any engine starts
        entries = part.select([entry for shard in shards for entry in read_shard(self.fs, shard)])
        if not entries and part.parts > 1:
            log.warning(
                "nothing to do: shard %d has fewer jobs than the %d workers sharing it (this is part %d)",
                shards[0],
                part.parts,
                part.part,
            )
            return ShardReport(shards)
        report = run_entries(
            self.fs,
            self.info,
            entries,
            max_workers=max_workers,
            energyplus=energyplus,
            stop=stop,
            shards=shards,
            progress=progress,
            heartbeat=heartbeat,
        )
        if not steal:
            return report
        from epcloud.study.steal import steal_pending

        stolen = steal_pending(  # a shard split between workers is not this worker's alone
            self.fs,
            self.info,
            own=shards if part.parts == 1 else (),
            max_workers=max_workers,
            energyplus=energyplus,
            stop=stop,
            heartbeat=heartbeat,
        )
        return dataclasses.replace(
            report,
            succeeded=report.succeeded + stolen.succeeded,
            failed=report.failed + stolen.failed,
            stolen=stolen.ran,
        )

    def run(
        self,
        executor: object = None,
        *,
        max_workers: int | None = None,
        energyplus: EngineInput = None,
        progress: ProgressDisplay = None,
    ) -> ShardReport:
        """Run every pending job: here on all cores, or on an Executor / Dask client (one task per job).

        ``progress="rich"`` shows a progress bar on stderr when the jobs run here.
        """
        self.fs.check_writable()  # before any engine starts, here or on the cluster
        if executor is not None:
            return run_on_executor(self.fs, self.info, executor, energyplus)
        shards = tuple(range(self.info.shard_count))
        return run_entries(
            self.fs,
            self.info,
            self.entries(),
            max_workers=max_workers,
            energyplus=energyplus,
            shards=shards,
            progress=progress,
        )

    def collect(self, variables: Iterable[str] | None = None, *, full: bool = False) -> StudyTables:
        """Read every done job's summary into ``jobs.parquet`` (and ``timeseries/``) in the store.

        Only results newer than the last collect are read unless ``full``; returns the DataFrames.
        """
        from epcloud.study.collect import collect_study

        return collect_study(self.fs, self.info, self.entries(), variables=variables, full=full)

    def dataset(self, name: str = "jobs") -> ds.Dataset:
        """A collected table read in place as a `pyarrow.dataset.Dataset`: "jobs" (one row per job) or
        "timeseries" (hive-partitioned by ``variable``); run `collect()` first."""
        from epcloud.study.dataset import open_dataset

        return open_dataset(self.fs, name)

    def job_ids(self) -> list[str]:
        """The ids of every job, in job order (from the study file alone: no manifest is read)."""
        return [layout.job_id(index) for index in range(self.info.job_count)]

    def status(self) -> StudyStatus:
        """How many jobs are done, failed, running (by lease) and pending: a listing of the done index
        and one of the leases (the manifests are not read)."""
        from epcloud.study.study_status import study_status

        return study_status(self.fs, self.job_ids())

    def rerun(
        self, *, failed: bool = True, missing: bool = False, run: bool = False, max_workers: int | None = None
    ) -> RerunReport:
        """Make failed jobs pending again (their results are deleted); with ``run``, run them here now."""
        from epcloud.study.study_status import rerun_jobs

        return rerun_jobs(self, failed=failed, missing=missing, run=run, max_workers=max_workers)

    def result(self, job: str | int) -> SimulationResult:
        """The stored result of one job (by id or index), re-opened from the store."""
        from epcloud.errors import ResultNotFoundError
        from epcloud.results.simulation_result import SimulationResult

        wanted = [e for e in self.entries() if e.id == job or e.index == job]
        if not wanted:
            raise ResultNotFoundError(f"no job {job!r} in {self!r}")
        from epcloud.study.worker import committed_dir

        folder = committed_dir(self.fs, wanted[0])
        if folder is None:
            raise ResultNotFoundError(f"job {wanted[0].id} of {self!r} is not done yet: run a worker first")
        return SimulationResult.from_directory(folder, fs=self.fs)
