"""`simulate` and `async_simulate`: prepare → run the engine → record the status → (upload) → result.

Both share the preparation and the finishing; only launching the process differs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from epcloud._version import __version__
from epcloud.results.errfile import ErrorReport
from epcloud.results.result import SimulationResult, output_name
from epcloud.run.prepare import EngineInput, ModelInput, RunOptions, RunPlan, prepare_run
from epcloud.run.process import ProcessOutcome, async_run_process, run_process
from epcloud.run.status import STATUS_FILENAME, RunStatus
from epcloud.run.upload import UploadPolicy, async_upload_outputs, upload_outputs

if TYPE_CHECKING:
    from epcloud.storage import AsyncFileSystem, FileSystem

__all__ = ["async_simulate", "simulate"]

log = logging.getLogger(__name__)

# Files a previous run in the same folder may have left; removed so no stale output is mistaken for new.
_STALE_PATTERNS = (
    "{p}out.*",
    "{p}tbl.*",
    "{p}ssz.*",
    "{p}zsz.*",
    "{p}map.*",
    "{p}shd.*",
    "{p}-*",
    "sqlite.err",
    STATUS_FILENAME,
)


def _options(
    expand_objects: bool,
    annual: bool,
    design_day: bool,
    output_prefix: str,
    readvars: bool,
    timeout: float,
    extra_args: Sequence[str] | None,
) -> RunOptions:
    return RunOptions(
        expand_objects=expand_objects,
        annual=annual,
        design_day=design_day,
        output_prefix=output_prefix,
        readvars=readvars,
        timeout=timeout,
        extra_args=tuple(extra_args or ()),
    )


def _make_run_dir(output_dir: str | os.PathLike[str] | None, prefix: str) -> tuple[Path, bool]:
    """The local folder to run in, and whether it is temporary."""
    if output_dir is None:
        return Path(tempfile.mkdtemp(prefix="epcloud-run-")), True
    run_dir = Path(output_dir).expanduser().resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    for pattern in _STALE_PATTERNS:
        for stale in run_dir.glob(pattern.format(p=prefix)):
            if stale.is_file():
                stale.unlink()
    return run_dir, False


@contextlib.contextmanager
def _removed_on_error(run_dir: Path, temporary: bool) -> Iterator[None]:
    """Remove a temporary run folder if what follows fails or is cancelled."""
    try:
        yield
    except BaseException:
        if temporary:
            shutil.rmtree(run_dir, ignore_errors=True)
        raise


def _start(plan: RunPlan, output_dir: str | os.PathLike[str] | None) -> tuple[Path, bool, str]:
    run_dir, temporary = _make_run_dir(output_dir, plan.options.output_prefix)
    with _removed_on_error(run_dir, temporary):
        plan.write_model(run_dir)
    log.info("running %s in %s", plan.model_source or "model", run_dir)
    return run_dir, temporary, datetime.now(timezone.utc).isoformat(timespec="seconds")


def _finish(
    plan: RunPlan, run_dir: Path, temporary: bool, started_at: str, outcome: ProcessOutcome
) -> SimulationResult:
    """Judge the run by its .err file (the SQL status column is unreliable) and record the status."""
    prefix = plan.options.output_prefix
    err_path = run_dir / output_name("err", prefix)
    errors = ErrorReport.from_file(err_path) if err_path.is_file() else ErrorReport.empty()
    success = outcome.exit_code == 0 and not outcome.timed_out and errors.completed_successfully
    fatal = errors.fatal[0].message if errors.fatal else None
    if outcome.timed_out:
        fatal = f"EnergyPlus was stopped after the {plan.options.timeout:g} s timeout"
    opts = plan.options
    status = RunStatus(
        success=success,
        exit_code=outcome.exit_code,
        runtime_seconds=round(outcome.runtime_seconds, 4),
        energyplus_version=plan.engine.version_string,
        energyplus_build=plan.engine.build,
        epcloud_version=__version__,
        model_sha256=plan.model_sha256,
        weather_sha256=plan.weather_sha256,
        weather_name=plan.weather.name if plan.weather else None,
        output_prefix=prefix,
        timed_out=outcome.timed_out,
        started_at=started_at,
        finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        warning_count=errors.warning_count,
        severe_count=errors.severe_count,
        fatal_message=fatal,
        flags={
            "annual": opts.annual,
            "design_day": opts.design_day,
            "expand_objects": plan.needs_expand,
            "readvars": opts.readvars,
            "extra_args": list(opts.extra_args),
        },
    )
    status.write(run_dir)
    if opts.readvars and not (run_dir / output_name("csv", prefix)).is_file():
        log.warning(
            "readvars=True but EnergyPlus wrote no %s (is ReadVarsESO executable?)",
            output_name("csv", prefix),
        )
    result = SimulationResult(
        run_dir,
        success=success,
        exit_code=outcome.exit_code,
        runtime_seconds=outcome.runtime_seconds,
        stdout=outcome.stdout,
        stderr=outcome.stderr,
        output_prefix=prefix,
        status=status,
        timed_out=outcome.timed_out,
        temporary=temporary,
    )
    result.__dict__["errors"] = errors
    return result


def _store_destination(fs: object, output_dir: str | os.PathLike[str] | None) -> str | None:
    """The validated store folder for the outputs, checked before anything runs."""
    if fs is None:
        return None
    if output_dir is None:
        raise ValueError("output_dir is required with fs: it names the run's folder in the store")
    from epcloud.storage.paths import normalize_path

    return normalize_path(output_dir)


def _stored_result(local: SimulationResult, fs: Any, dest: str) -> SimulationResult:
    """The result of a run whose outputs now live in the store; the local folder is removed."""
    local.close()
    from epcloud.results.runfiles import AsyncRemoteRunFiles, RemoteRunFiles

    files = AsyncRemoteRunFiles(fs, dest) if _is_async(fs) else RemoteRunFiles(fs, dest)
    result = SimulationResult(
        Path(dest),
        success=local.success,
        exit_code=local.exit_code,
        runtime_seconds=local.runtime_seconds,
        stdout=local.stdout,
        stderr=local.stderr,
        output_prefix=local.output_prefix,
        status=local.status,
        timed_out=local.timed_out,
        files=files,
    )
    result.__dict__["errors"] = local.errors
    return result


def _is_async(fs: object) -> bool:
    import inspect

    return inspect.iscoroutinefunction(getattr(fs, "upload_file", None))


def simulate(
    model: ModelInput,
    weather: str | os.PathLike[str] | None,
    *,
    output_dir: str | os.PathLike[str] | None = None,
    fs: FileSystem | None = None,
    energyplus: EngineInput = None,
    expand_objects: bool = True,
    annual: bool = False,
    design_day: bool = False,
    output_prefix: str = "eplus",
    readvars: bool = False,
    timeout: float = 3600.0,
    extra_args: Sequence[str] | None = None,
    upload: UploadPolicy | str | Sequence[str] | None = None,
) -> SimulationResult:
    """Run one EnergyPlus simulation of a copy of ``model`` with ``weather``.

    With ``fs``, the run happens in a temporary local folder and its outputs (chosen by ``upload``)
    go to ``output_dir`` in the store. A run that fails inside EnergyPlus returns ``success=False``
    with its error report; problems found before starting (no engine, no weather file, a bad model,
    a store path leaving the prefix) raise.
    """
    options = _options(expand_objects, annual, design_day, output_prefix, readvars, timeout, extra_args)
    dest = _store_destination(fs, output_dir)
    policy = UploadPolicy.coerce(upload)
    plan = prepare_run(model, weather, energyplus=energyplus, options=options)
    run_dir, temporary, started_at = _start(plan, None if fs is not None else output_dir)
    with _removed_on_error(run_dir, temporary):
        outcome = run_process(plan.command(run_dir), cwd=run_dir, timeout=options.timeout)
        result = _finish(plan, run_dir, temporary, started_at, outcome)
        if fs is None or dest is None:
            return result
        upload_outputs(run_dir, fs, dest, policy=policy, output_prefix=options.output_prefix)
    return _stored_result(result, fs, dest)


async def async_simulate(
    model: ModelInput,
    weather: str | os.PathLike[str] | None,
    *,
    output_dir: str | os.PathLike[str] | None = None,
    fs: AsyncFileSystem | None = None,
    energyplus: EngineInput = None,
    expand_objects: bool = True,
    annual: bool = False,
    design_day: bool = False,
    output_prefix: str = "eplus",
    readvars: bool = False,
    timeout: float = 3600.0,
    extra_args: Sequence[str] | None = None,
    upload: UploadPolicy | str | Sequence[str] | None = None,
) -> SimulationResult:
    """The coroutine twin of `simulate` (``fs`` is an AsyncFileSystem); cancelling it kills EnergyPlus."""
    import asyncio

    options = _options(expand_objects, annual, design_day, output_prefix, readvars, timeout, extra_args)
    dest = _store_destination(fs, output_dir)
    policy = UploadPolicy.coerce(upload)
    plan = await asyncio.to_thread(prepare_run, model, weather, energyplus=energyplus, options=options)
    run_dir, temporary, started_at = _start(plan, None if fs is not None else output_dir)
    with _removed_on_error(run_dir, temporary):
        outcome = await async_run_process(plan.command(run_dir), cwd=run_dir, timeout=options.timeout)
        result = await asyncio.to_thread(_finish, plan, run_dir, temporary, started_at, outcome)
        if fs is None or dest is None:
            return result
        await async_upload_outputs(run_dir, fs, dest, policy=policy, output_prefix=options.output_prefix)
    return _stored_result(result, fs, dest)
