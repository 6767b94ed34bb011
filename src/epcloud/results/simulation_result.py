"""`SimulationResult`: one finished run, its status and lazily opened outputs."""

from __future__ import annotations

import os
import shutil
import weakref
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from epcloud.errors import CorruptResultError, ResultNotFoundError
from epcloud.results.errfile import ErrorReport
from epcloud.results.readers import OutputReaders
from epcloud.results.runfiles import LocalRunFiles, RunFiles
from epcloud.results.sql import SQLResult
from epcloud.rundir import naming
from epcloud.rundir.compression import GZ
from epcloud.rundir.naming import LEGACY
from epcloud.rundir.run_status import STATUS_FILENAME, RunStatus

if TYPE_CHECKING:
    from collections.abc import Sequence

    from epcloud.rundir.upload import UploadPolicy
    from epcloud.storage import AsyncFileSystem, FileSystem

__all__ = ["SimulationResult", "output_name"]


def output_name(kind: str, output_prefix: str = "eplus", output_suffix: str = LEGACY) -> str:
    """File name of a standard output (``"sql"`` → ``eplusout.sql``; ``eplus.sql`` with naming "C")."""
    return naming.output_name(kind, output_prefix, output_suffix)


class SimulationResult(OutputReaders):
    """A run's outcome and outputs. Outputs open on first use; `close()` releases them.

    Besides `errors` and `sql`, the text outputs parse on first use under idfkit's names (`OutputReaders`):
    `variables`, `csv`, `html`, `eso`, `mtr`, and their ``async_*`` forms.
    """

    def __init__(
        self,
        run_dir: str | os.PathLike[str],
        status: RunStatus | None,
        *,
        files: RunFiles | None = None,
        output_prefix: str | None = None,
        output_suffix: str | None = None,
        stdout: str = "",
        stderr: str = "",
        errors: ErrorReport | None = None,
        temporary: bool = False,
        cached: bool = False,
    ) -> None:
        """Use `from_status` (a run just finished) or `from_directory` (a run re-opened)."""
        if status is None and errors is None:
            raise ValueError("a SimulationResult needs the run's status or its parsed .err report")
        self.run_dir = Path(run_dir)
        self.status = status
        self.success = status.success if status else bool(errors and errors.completed_successfully)
        self.exit_code = status.exit_code if status else None
        self.runtime_seconds = status.runtime_seconds if status else 0.0
        self.timed_out = status.timed_out if status else False
        self.output_prefix = output_prefix or (status.output_prefix if status else "eplus")
        # EnergyPlus's output naming (L, C or D; see `epcloud.rundir.naming`), as the run recorded it
        self.output_suffix = output_suffix or (status.output_suffix if status else LEGACY)
        self.stdout = stdout
        self.stderr = stderr
        self.cached = cached  # the outputs came from a SimulationCache; EnergyPlus did not run
        self._files: RunFiles = files if files is not None else LocalRunFiles(self.run_dir)
        self._sql: SQLResult | None = None
        if errors is not None:
            self.__dict__["errors"] = errors  # the report already parsed: `errors` is not read again
        # A temporary run folder goes away with the result (explicitly, or when it is collected).
        self._cleanup = (
            weakref.finalize(self, shutil.rmtree, str(self.run_dir), ignore_errors=True)
            if temporary
            else None
        )
        self._frozen = True

    def __setattr__(self, name: str, value: object) -> None:
        if not name.startswith("_") and getattr(self, "_frozen", False):
            raise AttributeError(f"SimulationResult is read-only: {name!r} cannot be changed")
        object.__setattr__(self, name, value)

    # -- constructors -----------------------------------------------------------------------

    @classmethod
    def from_status(
        cls,
        status: RunStatus,
        run_dir: str | os.PathLike[str],
        *,
        files: RunFiles | None = None,
        stdout: str = "",
        stderr: str = "",
        errors: ErrorReport | None = None,
        temporary: bool = False,
        cached: bool = False,
    ) -> SimulationResult:
        """The result of a run described by its status: the one way a finished run becomes a result.

        Args:
            status: what the run recorded (success, exit code, runtime, output prefix...).
            run_dir: the local run folder, or the run's folder in a store when `files` reads a store.
            files: where the outputs are read from (default: the local `run_dir`).
            stdout: the engine's standard output, when this process ran it.
            stderr: the engine's standard error, likewise.
            errors: the .err report if it is already parsed (otherwise read on first use).
            temporary: remove `run_dir` when the result is closed or collected.
            cached: the outputs came from a `SimulationCache`; EnergyPlus did not run.
        """
        return cls(
            run_dir,
            status,
            files=files,
            stdout=stdout,
            stderr=stderr,
            errors=errors,
            temporary=temporary,
            cached=cached,
        )

    def with_process_output(self, stdout: str, stderr: str, *, cached: bool) -> SimulationResult:
        """The same run with the engine's output streams attached (a result shipped from a worker)."""
        return type(self)(
            self.run_dir,
            self.status,
            files=self._files,
            output_prefix=self.output_prefix,
            output_suffix=self.output_suffix,
            stdout=stdout,
            stderr=stderr,
            errors=self.__dict__.get("errors"),
            cached=cached,
        )

    @classmethod
    def from_directory(
        cls, path: str | os.PathLike[str], fs: FileSystem | None = None, *, output_prefix: str | None = None
    ) -> SimulationResult:
        """Re-open a finished run, local or in a store; nothing but its listing and status is fetched."""
        if fs is None or _is_local(fs):
            run_dir = Path(fs.url(path)) if fs is not None else Path(path)
            if not run_dir.is_dir():
                raise ResultNotFoundError(f"run directory not found: {run_dir}")
            local = LocalRunFiles(run_dir)
            return cls._open(run_dir, local, output_prefix, local.read_status())
        from epcloud.results.runfiles import RemoteRunFiles
        from epcloud.storage.paths import normalize_path

        folder = normalize_path(path)
        files = RemoteRunFiles(fs, folder)
        return cls._open(Path(folder), files, output_prefix, files.read_status())

    @classmethod
    async def async_from_directory(
        cls, path: str | os.PathLike[str], fs: AsyncFileSystem, *, output_prefix: str | None = None
    ) -> SimulationResult:
        """The async twin of `from_directory` for a store; fetch outputs with `async_fetch()`."""
        from epcloud.results.runfiles import AsyncRemoteRunFiles
        from epcloud.storage.paths import normalize_path

        folder = normalize_path(path)
        files = AsyncRemoteRunFiles(fs, folder)
        status = await files.read_status()
        if status is None:
            await files.list()
            prefix, suffix = naming.guess_naming(files.names())
            await files.fetch(output_name("err", output_prefix or prefix, suffix))
        return cls._open(Path(folder), files, output_prefix, status)

    @classmethod
    def _open(
        cls, run_dir: Path, files: RunFiles, output_prefix: str | None, status: RunStatus | None
    ) -> SimulationResult:
        if status is not None:
            return cls(run_dir, status, files=files, output_prefix=output_prefix or status.output_prefix)
        guessed, suffix = naming.guess_naming(files.names())  # a folder EnergyPlus wrote without epcloud
        prefix = output_prefix or guessed
        err = files.local(output_name("err", prefix, suffix))
        if err is None:
            raise ResultNotFoundError(
                f"{files.location} holds no run: neither {STATUS_FILENAME} nor "
                f"{output_name('err', prefix, suffix)} is there"
            )
        errors = ErrorReport.from_file(err)
        return cls(run_dir, None, files=files, output_prefix=prefix, output_suffix=suffix, errors=errors)

    # -- outputs ----------------------------------------------------------------------------

    @property
    def location(self) -> str:
        """Where the outputs are: a local folder or a store URL."""
        return self._files.location

    def files(self) -> list[str]:
        """Names of the run's output files."""
        return self._files.names()

    def path(self, kind: str) -> Path | None:
        """Local path of a standard output (``"sql"``, ``"err"``, ``"html"``...), None if absent.

        For a run in a store, the file is downloaded into the local cache first.
        """
        return self._files.local(self._name(kind))

    def _name(self, kind: str) -> str:
        return output_name(kind, self.output_prefix, self.output_suffix)

    def has(self, kind: str) -> bool:
        """Whether the run has this standard output, plain or gzip'd (no download)."""
        name = self._name(kind)
        names = self._files.names()
        return name in names or name + GZ in names

    @property
    def sql_path(self) -> Path | None:
        return self.path("sql")

    @property
    def err_path(self) -> Path | None:
        return self.path("err")

    @property
    def html_path(self) -> Path | None:
        return self.path("html")

    @property
    def csv_path(self) -> Path | None:
        return self.path("csv")

    @property
    def eso_path(self) -> Path | None:
        return self.path("eso")

    @cached_property
    def errors(self) -> ErrorReport:
        """The parsed .err file (empty when the run never got far enough to write one)."""
        path = self.err_path
        return ErrorReport.from_file(path) if path is not None else ErrorReport.empty()

    @property
    def sql(self) -> SQLResult:
        """The SQLite output, opened on first use (downloaded once if the run is in a store)."""
        if self._sql is None:
            path = self.sql_path
            if path is None:
                raise ResultNotFoundError(
                    f"{self.location} has no {self._name('sql')}"
                    + ("" if self.success else " (the run failed; see result.errors.summary())")
                )
            self._sql = SQLResult(path)
        return self._sql

    def download(self, local_dir: str | os.PathLike[str]) -> list[Path]:
        """Copy every file of the run into ``local_dir`` (a store run: one listing, parallel GETs)."""
        return self._files.download(Path(local_dir))

    async def async_fetch(self, *kinds: str) -> None:
        """Fetch outputs of a run opened with `async_from_directory` (default: the SQL and .err)."""
        fetch = getattr(self._files, "fetch", None)
        if fetch is None:
            return
        for kind in kinds or ("sql", "err"):
            await fetch(self._name(kind))

    async def async_download(self, local_dir: str | os.PathLike[str]) -> list[Path]:
        """The async twin of `download` for a run opened with `async_from_directory`."""
        download = getattr(self._files, "async_download", None)
        if download is None:
            return self.download(local_dir)
        result: list[Path] = await download(Path(local_dir))
        return result

    # -- sending a local run to a store ------------------------------------------------------

    def upload(
        self, fs: FileSystem, output_dir: str, *, upload: UploadPolicy | str | Sequence[str] | None = None
    ) -> SimulationResult:
        """Send this local run to ``fs`` at ``output_dir`` (status file last); returns the stored run.

        This finishes the upload of a run kept by `UploadFailedError`; the local folder is left as it is.

        Args:
            fs: the store.
            output_dir: the run's folder in the store.
            upload: which outputs go, as in `simulate(upload=...)` (default: the standard set).
        """
        from epcloud.rundir.upload import upload_outputs

        dest, policy = self._upload_plan(output_dir, upload)
        upload_outputs(self.run_dir, fs, dest, policy=policy, output_prefix=self.output_prefix)
        return type(self).from_directory(dest, fs=fs)

    async def async_upload(
        self,
        fs: AsyncFileSystem,
        output_dir: str,
        *,
        upload: UploadPolicy | str | Sequence[str] | None = None,
    ) -> SimulationResult:
        """The async twin of `upload`; the stored run is opened with `async_from_directory`."""
        from epcloud.rundir.upload import async_upload_outputs

        dest, policy = self._upload_plan(output_dir, upload)
        await async_upload_outputs(self.run_dir, fs, dest, policy=policy, output_prefix=self.output_prefix)
        return await type(self).async_from_directory(dest, fs)

    def _upload_plan(
        self, output_dir: str, upload: UploadPolicy | str | Sequence[str] | None
    ) -> tuple[str, UploadPolicy]:
        from epcloud.rundir.upload import UploadPolicy
        from epcloud.storage.paths import normalize_path

        if not isinstance(self._files, LocalRunFiles):
            raise ValueError(f"only a local run can be uploaded; this one is already in {self.location}")
        if self.status is None:
            raise CorruptResultError(
                f"{self.run_dir} has no {STATUS_FILENAME}: only a run epcloud finished can be uploaded"
            )
        policy = naming.named_policy(UploadPolicy.coerce(upload), self.output_suffix)
        return normalize_path(output_dir), policy

    # -- lifetime ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close open outputs and remove the run folder if it was temporary."""
        if self._sql is not None:
            self._sql.close()
            self._sql = None
        if self._cleanup is not None:
            self._cleanup()

    def __enter__(self) -> SimulationResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "success" if self.success else ("timed out" if self.timed_out else "failed")
        return f"<SimulationResult {state} in {self.runtime_seconds:.2f} s at {self.location}>"

    # -- idfkit names (docs/idfkit.md) ------------------------------------------------------------

    @property
    def fs(self) -> FileSystem | None:
        """The store the outputs are read from; None for a local run folder (as in idfkit)."""
        from epcloud.results.runfiles import RemoteRunFiles

        return self._files.fs if isinstance(self._files, RemoteRunFiles) else None

    @property
    def async_fs(self) -> AsyncFileSystem | None:
        """The async store of a run opened with `async_from_directory`, else None."""
        from epcloud.results.runfiles import AsyncRemoteRunFiles

        return self._files.fs if isinstance(self._files, AsyncRemoteRunFiles) else None

    @property
    def migration_report(self) -> None:
        """Always None: epcloud runs a model as given and never migrates its version."""
        return None

    @property
    def mtr_path(self) -> Path | None:
        """Local path of the meter output (``eplusout.mtr``), None if absent."""
        return self.path("mtr")

    @property
    def rdd_path(self) -> Path | None:
        """Local path of the variable dictionary (``eplusout.rdd``), None if absent."""
        return self.path("rdd")

    @property
    def mdd_path(self) -> Path | None:
        """Local path of the meter dictionary (``eplusout.mdd``), None if absent."""
        return self.path("mdd")

    async def async_errors(self) -> ErrorReport:
        """`errors`, fetching the .err first for a run opened with `async_from_directory`."""
        await self.async_fetch("err")
        return self.errors

    async def async_sql(self) -> SQLResult:
        """`sql`, fetching the SQL output first for a run opened with `async_from_directory`."""
        await self.async_fetch("sql")
        return self.sql


def _is_local(fs: object) -> bool:
    from epcloud.storage.local import LocalFileSystem

    return isinstance(fs, LocalFileSystem)
