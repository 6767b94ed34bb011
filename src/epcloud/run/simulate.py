"""`simulate` and `async_simulate`: prepare → (cache) → run the engine → record the status → (upload).

Both share the preparation, the cache look-up and the finishing; only launching the process and moving
bytes differ. Batches call the same cores, `run_simulation` and `async_run_simulation`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from epcloud._version import __version__
from epcloud.errors import StorageNotFoundError
from epcloud.results.errfile import ErrorReport
from epcloud.results.simulation_result import SimulationResult, output_name
from epcloud.run.prepare import EngineInput, ModelInput, RunOptions, RunPlan, prepare_run
from epcloud.run.process import ProcessOutcome, RunningProcesses, async_run_process, run_process
from epcloud.run.upload import UploadPolicy, async_upload_outputs, upload_outputs
from epcloud.run.weather_source import async_fetch_weather, fetch_weather
from epcloud.rundir.compression import GZ
from epcloud.rundir.run_status import STATUS_FILENAME, RunStatus

if TYPE_CHECKING:
    from epcloud.progress import ProgressCallback
    from epcloud.results.runfiles import RunFiles
    from epcloud.run.cache import CacheEntry, SimulationCache
    from epcloud.storage import AsyncFileSystem, FileSystem

__all__ = ["async_run_simulation", "async_simulate", "run_simulation", "simulate"]

LineHandler = Callable[[str], None]
AfterRun = Callable[[Path, SimulationResult], None]

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
        extra_args=extra_args,  # type: ignore[arg-type]  (RunOptions makes it a tuple)
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
    plan: RunPlan,
    run_dir: Path,
    temporary: bool,
    started_at: str,
    outcome: ProcessOutcome,
    pack: UploadPolicy | None = None,
) -> SimulationResult:
    """Judge the run by its .err file (the SQL status column is unreliable) and record the status;
    ``pack`` gzips the outputs it names first, so the status records what the store will hold."""
    prefix = plan.options.output_prefix
    err_path = run_dir / output_name("err", prefix)
    errors = ErrorReport.from_file(err_path) if err_path.is_file() else ErrorReport.empty()
    if pack is not None:
        pack.pack(run_dir, prefix)
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
        outputs={e.name: e.stat().st_size for e in os.scandir(run_dir) if e.is_file()},
    )
    status.write(run_dir)
    csv = output_name("csv", prefix)
    if opts.readvars and not any((run_dir / name).is_file() for name in (csv, csv + GZ)):
        log.warning(
            "readvars=True but EnergyPlus wrote no %s (is ReadVarsESO executable?)",
            csv,
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
    from epcloud.results.runfiles import AsyncRemoteRunFiles, RemoteRunFiles

    files = AsyncRemoteRunFiles(fs, dest) if _is_async(fs) else RemoteRunFiles(fs, dest)
    status_file = local.run_dir / STATUS_FILENAME
    if status_file.is_file():  # the bytes just uploaded: outputs are then fetched without a listing
        files.adopt_status(status_file.read_bytes())
    local.close()
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
        cached=local.cached,
    )
    result.__dict__["errors"] = local.errors
    return result


def _is_async(fs: object) -> bool:
    import inspect

    return inspect.iscoroutinefunction(getattr(fs, "upload_file", None))


def _with_env(plan: RunPlan, env: Mapping[str, str] | None) -> RunPlan:
    return dataclasses.replace(plan, env={**plan.env, **env}) if env else plan


def _process_env(plan: RunPlan) -> dict[str, str] | None:
    """The engine's environment: ours, with the plan's additions (e.g. thread limits in a batch)."""
    return {**os.environ, **plan.env} if plan.env else None


def _line_handler(on_progress: ProgressCallback | None) -> LineHandler | None:
    if on_progress is None:
        return None
    from epcloud.progress import SafeCallback

    return SafeCallback(on_progress).line_handler()


def _cache_after_run(cache: SimulationCache, key: str) -> AfterRun:
    """Store a successful run in the cache; a cache that fails is logged, never costs the result."""

    def store(run_dir: Path, result: SimulationResult) -> None:
        if not result.success:
            return
        try:
            cache.put(key, run_dir)
        except Exception:
            log.warning("could not store the run in %r", cache, exc_info=True)

    return store


def _cached_result(
    run_dir: Path, status: RunStatus, *, temporary: bool = False, files: RunFiles | None = None
) -> SimulationResult:
    """The result of a run whose outputs came from the cache, described by its recorded status."""
    return SimulationResult(
        run_dir,
        success=status.success,
        exit_code=status.exit_code,
        runtime_seconds=status.runtime_seconds,
        output_prefix=status.output_prefix,
        status=status,
        timed_out=status.timed_out,
        temporary=temporary,
        files=files,
        cached=True,
    )


def _cached_names(entry: CacheEntry, policy: UploadPolicy, prefix: str) -> list[str]:
    names = policy.select(entry.files, prefix)
    if STATUS_FILENAME in entry.files and STATUS_FILENAME not in names:
        names.append(STATUS_FILENAME)
    return names


def _fetch_cached(
    cache: SimulationCache, entry: CacheEntry, output_dir: str | os.PathLike[str] | None, prefix: str
) -> SimulationResult:
    run_dir, temporary = _make_run_dir(output_dir, prefix)
    with _removed_on_error(run_dir, temporary):
        cache.fetch(entry, run_dir)
        log.info("cache hit %s: outputs in %s", entry.key[:12], run_dir)
        status = RunStatus.from_json((run_dir / STATUS_FILENAME).read_text("utf-8"))
        return _cached_result(run_dir, status, temporary=temporary)


def _copied_result(
    cache: SimulationCache, entry: CacheEntry, fs: FileSystem | AsyncFileSystem, dest: str
) -> SimulationResult:
    """The result of a cached run copied in the store to ``dest`` (its status read from the cache)."""
    from epcloud.results.runfiles import AsyncRemoteRunFiles, RemoteRunFiles

    files = AsyncRemoteRunFiles(fs, dest) if _is_async(fs) else RemoteRunFiles(fs, dest)  # type: ignore[arg-type]
    status = files.adopt_status(cache.fs.read_bytes(f"{entry.folder}/{STATUS_FILENAME}"))
    log.info("cache hit %s: copied in the store to %s", entry.key[:12], fs.url(dest))
    return _cached_result(Path(dest), status, files=files)


def _land_cached(
    cache: SimulationCache,
    entry: CacheEntry,
    output_dir: str | os.PathLike[str] | None,
    fs: FileSystem | None,
    dest: str | None,
    policy: UploadPolicy,
    prefix: str,
) -> SimulationResult:
    """Put a cached run where the caller wants its outputs: a local folder, or ``dest`` in ``fs``."""
    if fs is None or dest is None:
        return _fetch_cached(cache, entry, output_dir, prefix)
    if cache.copy_to_store(entry, fs, dest, _cached_names(entry, policy, prefix)):
        return _copied_result(cache, entry, fs, dest)
    local = _fetch_cached(cache, entry, None, prefix)
    with _removed_on_error(local.run_dir, True):
        upload_outputs(local.run_dir, fs, dest, policy=policy, output_prefix=prefix)
    return _stored_result(local, fs, dest)


def _run(
    plan: RunPlan,
    output_dir: str | os.PathLike[str] | None,
    fs: FileSystem | None,
    dest: str | None,
    policy: UploadPolicy,
    on_line: LineHandler | None,
    running: RunningProcesses | None,
    after_run: AfterRun | None,
) -> SimulationResult:
    run_dir, temporary, started_at = _start(plan, None if fs is not None else output_dir)
    with _removed_on_error(run_dir, temporary):
        outcome = run_process(
            plan.command(run_dir),
            cwd=run_dir,
            timeout=plan.options.timeout,
            env=_process_env(plan),
            on_line=on_line,
            running=running,
        )
        pack = policy if dest is not None else None
        result = _finish_then(plan, run_dir, temporary, started_at, outcome, after_run, pack)
        if fs is None or dest is None:
            return result
        upload_outputs(run_dir, fs, dest, policy=policy, output_prefix=plan.options.output_prefix)
    return _stored_result(result, fs, dest)


def run_simulation(
    model: ModelInput,
    weather: str | os.PathLike[str] | None,
    options: RunOptions,
    *,
    output_dir: str | os.PathLike[str] | None = None,
    fs: FileSystem | None = None,
    energyplus: EngineInput = None,
    cache: SimulationCache | None = None,
    upload: UploadPolicy | str | Sequence[str] | None = None,
    on_line: LineHandler | None = None,
    env: Mapping[str, str] | None = None,
    running: RunningProcesses | None = None,
) -> SimulationResult:
    """The core of `simulate` and of batch jobs: ``env`` adds engine environment variables and
    ``running`` registers the engine process so a batch can kill it."""
    dest = _store_destination(fs, output_dir)
    policy = UploadPolicy.coerce(upload)
    weather = fetch_weather(weather, fs)
    plan = _with_env(prepare_run(model, weather, energyplus=energyplus, options=options), env)
    if cache is None:
        return _run(plan, output_dir, fs, dest, policy, on_line, running, None)
    key = cache.key(plan)
    with cache.key_lock(key):
        entry = cache.get(key)
        if entry is not None:
            try:
                return _land_cached(cache, entry, output_dir, fs, dest, policy, options.output_prefix)
            except StorageNotFoundError:
                log.warning("cache entry %s lost files while being read; running the simulation", key[:12])
        return _run(plan, output_dir, fs, dest, policy, on_line, running, _cache_after_run(cache, key))


def _finish_then(
    plan: RunPlan,
    run_dir: Path,
    temporary: bool,
    started_at: str,
    outcome: ProcessOutcome,
    after_run: AfterRun | None,
    pack: UploadPolicy | None = None,
) -> SimulationResult:
    result = _finish(plan, run_dir, temporary, started_at, outcome, pack)
    if after_run is not None:
        after_run(run_dir, result)
    return result


async def _async_run(
    plan: RunPlan,
    output_dir: str | os.PathLike[str] | None,
    fs: AsyncFileSystem | None,
    dest: str | None,
    policy: UploadPolicy,
    on_line: LineHandler | None,
    after_run: AfterRun | None,
) -> SimulationResult:
    import asyncio

    run_dir, temporary, started_at = _start(plan, None if fs is not None else output_dir)
    with _removed_on_error(run_dir, temporary):
        outcome = await async_run_process(
            plan.command(run_dir),
            cwd=run_dir,
            timeout=plan.options.timeout,
            env=_process_env(plan),
            on_line=on_line,
        )
        pack = policy if dest is not None else None
        result = await asyncio.to_thread(
            _finish_then, plan, run_dir, temporary, started_at, outcome, after_run, pack
        )
        if fs is None or dest is None:
            return result
        await async_upload_outputs(run_dir, fs, dest, policy=policy, output_prefix=plan.options.output_prefix)
    return _stored_result(result, fs, dest)


async def _async_land_cached(
    cache: SimulationCache,
    entry: CacheEntry,
    output_dir: str | os.PathLike[str] | None,
    fs: AsyncFileSystem | None,
    dest: str | None,
    policy: UploadPolicy,
    prefix: str,
) -> SimulationResult:
    import asyncio

    if fs is None or dest is None:
        return await asyncio.to_thread(_fetch_cached, cache, entry, output_dir, prefix)
    if await cache.async_copy_to_store(entry, fs, dest, _cached_names(entry, policy, prefix)):
        return await asyncio.to_thread(_copied_result, cache, entry, fs, dest)
    local = await asyncio.to_thread(_fetch_cached, cache, entry, None, prefix)
    with _removed_on_error(local.run_dir, True):
        await async_upload_outputs(local.run_dir, fs, dest, policy=policy, output_prefix=prefix)
    return _stored_result(local, fs, dest)


async def async_run_simulation(
    model: ModelInput,
    weather: str | os.PathLike[str] | None,
    options: RunOptions,
    *,
    output_dir: str | os.PathLike[str] | None = None,
    fs: AsyncFileSystem | None = None,
    energyplus: EngineInput = None,
    cache: SimulationCache | None = None,
    upload: UploadPolicy | str | Sequence[str] | None = None,
    on_line: LineHandler | None = None,
    env: Mapping[str, str] | None = None,
) -> SimulationResult:
    """The coroutine twin of `run_simulation`; cancelling it kills EnergyPlus."""
    import asyncio

    dest = _store_destination(fs, output_dir)
    policy = UploadPolicy.coerce(upload)
    weather = await async_fetch_weather(weather, fs)
    plan = await asyncio.to_thread(prepare_run, model, weather, energyplus=energyplus, options=options)
    plan = _with_env(plan, env)
    if cache is None:
        return await _async_run(plan, output_dir, fs, dest, policy, on_line, None)
    key = await asyncio.to_thread(cache.key, plan)
    async with cache.async_key_lock(key):
        entry = await asyncio.to_thread(cache.get, key)
        if entry is not None:
            try:
                return await _async_land_cached(
                    cache, entry, output_dir, fs, dest, policy, options.output_prefix
                )
            except StorageNotFoundError:
                log.warning("cache entry %s lost files while being read; running the simulation", key[:12])
        return await _async_run(plan, output_dir, fs, dest, policy, on_line, _cache_after_run(cache, key))


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
    cache: SimulationCache | None = None,
    on_progress: ProgressCallback | None = None,
    upload: UploadPolicy | str | Sequence[str] | None = None,
) -> SimulationResult:
    """Run one EnergyPlus simulation of a copy of ``model`` with ``weather``.

    With ``fs``, the run happens in a temporary local folder and its outputs (chosen by ``upload``)
    go to ``output_dir`` in the store. With ``cache``, a run already made with the same inputs is
    not repeated: its outputs are copied to ``output_dir``. ``on_progress`` receives `ProgressEvent`s.
    A run that fails inside EnergyPlus returns ``success=False`` with its error report; problems found
    before starting (no engine, no weather file, a bad model, a store path leaving the prefix) raise.
    """
    return run_simulation(
        model,
        weather,
        _options(expand_objects, annual, design_day, output_prefix, readvars, timeout, extra_args),
        output_dir=output_dir,
        fs=fs,
        energyplus=energyplus,
        cache=cache,
        upload=upload,
        on_line=_line_handler(on_progress),
    )


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
    cache: SimulationCache | None = None,
    on_progress: ProgressCallback | None = None,
    upload: UploadPolicy | str | Sequence[str] | None = None,
) -> SimulationResult:
    """The coroutine twin of `simulate` (``fs`` is an AsyncFileSystem); cancelling it kills EnergyPlus."""
    return await async_run_simulation(
        model,
        weather,
        _options(expand_objects, annual, design_day, output_prefix, readvars, timeout, extra_args),
        output_dir=output_dir,
        fs=fs,
        energyplus=energyplus,
        cache=cache,
        upload=upload,
        on_line=_line_handler(on_progress),
    )
