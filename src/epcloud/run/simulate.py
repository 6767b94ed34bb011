"""`simulate` and `async_simulate`: prepare → (cache) → run the engine → record the status → (upload).

Both share the preparation, the cache look-up and the finishing; only launching the process and moving
bytes differ. Batches call the same cores, `run_simulation` and `async_run_simulation`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from epcloud._version import __version__
from epcloud.errors import StorageNotFoundError
from epcloud.results.errfile import ErrorReport
from epcloud.results.simulation_result import SimulationResult, output_name
from epcloud.run.expand import async_execute, execute
from epcloud.run.folder import RunFolder, kept_if_upload_fails, open_run_folder, removed_on_error
from epcloud.run.prepare import EngineInput, ModelInput, RunOptions, RunPlan, prepare_run
from epcloud.run.process import ProcessOutcome, RunningProcesses
from epcloud.run.weather_source import async_fetch_weather, fetch_weather
from epcloud.rundir.compression import GZ
from epcloud.rundir.naming import LEGACY, named_policy
from epcloud.rundir.run_status import STATUS_FILENAME, RunStatus
from epcloud.rundir.upload import UploadPolicy, async_upload_outputs, upload_outputs

if TYPE_CHECKING:
    from epcloud.progress import ProgressCallback
    from epcloud.results.runfiles import RunFiles
    from epcloud.run.cache import CacheEntry, SimulationCache
    from epcloud.storage import AsyncFileSystem, FileSystem

__all__ = ["async_run_simulation", "async_simulate", "run_simulation", "simulate"]

LineHandler = Callable[[str], None]
AfterRun = Callable[[Path, SimulationResult], None]

log = logging.getLogger(__name__)


def _options(
    expand_objects: bool,
    annual: bool,
    design_day: bool,
    output_prefix: str,
    readvars: bool,
    timeout: float,
    extra_args: Sequence[str] | None,
    output_suffix: str,
    preprocessor_timeout: float | None,
) -> RunOptions:
    return RunOptions(
        expand_objects=expand_objects,
        annual=annual,
        design_day=design_day,
        output_prefix=output_prefix,
        readvars=readvars,
        timeout=timeout,
        extra_args=tuple(extra_args or ()),
        output_suffix=output_suffix,
        preprocessor_timeout=preprocessor_timeout,
    )


def _start(
    plan: RunPlan, output_dir: str | os.PathLike[str] | None, reuse_dir: bool
) -> tuple[RunFolder, str]:
    opts = plan.options
    folder = open_run_folder(output_dir, opts.output_prefix, reuse=reuse_dir, suffix=opts.output_suffix)
    with removed_on_error(folder):
        plan.write_model(folder.path)
    log.info("running %s in %s", plan.model_source or "model", folder.path)
    return folder, datetime.now(timezone.utc).isoformat(timespec="seconds")


def _finish(
    plan: RunPlan,
    folder: RunFolder,
    started_at: str,
    outcome: ProcessOutcome,
    pack: UploadPolicy | None = None,
) -> SimulationResult:
    """Judge the run by its .err file (the SQL status column is unreliable) and record the status;
    ``pack`` gzips the outputs it names first, so the status records what the store will hold."""
    prefix, suffix = plan.options.output_prefix, plan.options.output_suffix
    run_dir = folder.path
    err_path = run_dir / output_name("err", prefix, suffix)
    errors = ErrorReport.from_file(err_path) if err_path.is_file() else ErrorReport.empty()
    if pack is not None:
        pack.pack(run_dir, prefix)
    success = outcome.exit_code == 0 and not outcome.timed_out and errors.completed_successfully
    fatal = errors.fatal[0].message if errors.fatal else None
    if outcome.timed_out:
        fatal = f"{outcome.stage} was stopped after the {plan.options.timeout:g} s timeout"
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
        output_suffix=suffix,
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
            **({"preprocessor_timeout": opts.preprocessor_timeout} if opts.preprocessor_timeout else {}),
        },
        outputs=folder.outputs(),
    )
    status.write(run_dir)
    csv = output_name("csv", prefix, suffix)
    if opts.readvars and not any((run_dir / name).is_file() for name in (csv, csv + GZ)):
        log.warning(
            "readvars=True but EnergyPlus wrote no %s (is ReadVarsESO executable?)",
            csv,
        )
    return SimulationResult.from_status(
        status,
        run_dir,
        stdout=outcome.stdout,
        stderr=outcome.stderr,
        errors=errors,
        temporary=folder.temporary,
    )


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
    assert local.status is not None, "a run this process finished always has its status"
    return SimulationResult.from_status(
        local.status,
        Path(dest),
        files=files,
        stdout=local.stdout,
        stderr=local.stderr,
        errors=local.errors,
        cached=local.cached,
    )


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
    return SimulationResult.from_status(status, run_dir, files=files, temporary=temporary, cached=True)


def _cached_names(entry: CacheEntry, policy: UploadPolicy, prefix: str) -> list[str]:
    names = policy.select(entry.files, prefix)
    if STATUS_FILENAME in entry.files and STATUS_FILENAME not in names:
        names.append(STATUS_FILENAME)
    return names


def _fetch_cached(
    cache: SimulationCache,
    entry: CacheEntry,
    output_dir: str | os.PathLike[str] | None,
    prefix: str,
    reuse_dir: bool = False,
    suffix: str = LEGACY,
) -> SimulationResult:
    folder = open_run_folder(output_dir, prefix, reuse=reuse_dir, suffix=suffix)
    with removed_on_error(folder, copies=True):
        cache.fetch(entry, folder.path)
        log.info("cache hit %s: outputs in %s", entry.key[:12], folder.path)
        status = RunStatus.from_json((folder.path / STATUS_FILENAME).read_text("utf-8"))
        return _cached_result(folder.path, status, temporary=folder.temporary)


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
    reuse_dir: bool,
    suffix: str = LEGACY,
) -> SimulationResult:
    """Put a cached run where the caller wants its outputs: a local folder, or ``dest`` in ``fs``."""
    if fs is None or dest is None:
        return _fetch_cached(cache, entry, output_dir, prefix, reuse_dir, suffix)
    if cache.copy_to_store(entry, fs, dest, _cached_names(entry, policy, prefix)):
        return _copied_result(cache, entry, fs, dest)
    local = _fetch_cached(cache, entry, None, prefix)
    with removed_on_error(RunFolder(local.run_dir, True)):
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
    reuse_dir: bool,
) -> SimulationResult:
    folder, started_at = _start(plan, None if fs is not None else output_dir, reuse_dir)
    run_dir = folder.path
    with removed_on_error(folder):
        outcome = execute(plan, folder, _process_env(plan), on_line, running)
        pack = policy if dest is not None else None
        result = _finish_then(plan, folder, started_at, outcome, after_run, pack)
    if fs is None or dest is None:
        return result
    with kept_if_upload_fails(run_dir, fs, dest):
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
    reuse_dir: bool = False,
) -> SimulationResult:
    """The core of `simulate` and of batch jobs: ``env`` adds engine environment variables and
    ``running`` registers the engine process so a batch can kill it."""
    dest = _store_destination(fs, output_dir)
    policy = named_policy(UploadPolicy.coerce(upload), options.output_suffix)
    if fs is not None:
        fs.check_writable()  # a wrong bucket or key fails here, not after the run (cached per store)
    weather = fetch_weather(weather, fs)
    plan = _with_env(prepare_run(model, weather, energyplus=energyplus, options=options), env)
    if cache is None:
        return _run(plan, output_dir, fs, dest, policy, on_line, running, None, reuse_dir)
    key = cache.key(plan)
    with cache.key_lock(key):
        entry = cache.get(key)
        if entry is not None:
            try:
                prefix, suffix = options.output_prefix, options.output_suffix
                return _land_cached(cache, entry, output_dir, fs, dest, policy, prefix, reuse_dir, suffix)
            except StorageNotFoundError:
                log.warning("cache entry %s lost files while being read; running the simulation", key[:12])
        after = _cache_after_run(cache, key)
        return _run(plan, output_dir, fs, dest, policy, on_line, running, after, reuse_dir)


def _finish_then(
    plan: RunPlan,
    folder: RunFolder,
    started_at: str,
    outcome: ProcessOutcome,
    after_run: AfterRun | None,
    pack: UploadPolicy | None = None,
) -> SimulationResult:
    result = _finish(plan, folder, started_at, outcome, pack)
    if after_run is not None:
        after_run(folder.path, result)
    return result


async def _async_run(
    plan: RunPlan,
    output_dir: str | os.PathLike[str] | None,
    fs: AsyncFileSystem | None,
    dest: str | None,
    policy: UploadPolicy,
    on_line: LineHandler | None,
    after_run: AfterRun | None,
    reuse_dir: bool,
) -> SimulationResult:
    import asyncio

    folder, started_at = _start(plan, None if fs is not None else output_dir, reuse_dir)
    run_dir = folder.path
    with removed_on_error(folder):
        outcome = await async_execute(plan, folder, _process_env(plan), on_line)
        pack = policy if dest is not None else None
        result = await asyncio.to_thread(_finish_then, plan, folder, started_at, outcome, after_run, pack)
    if fs is None or dest is None:
        return result
    with kept_if_upload_fails(run_dir, fs, dest):
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
    reuse_dir: bool,
    suffix: str = LEGACY,
) -> SimulationResult:
    import asyncio

    if fs is None or dest is None:
        return await asyncio.to_thread(_fetch_cached, cache, entry, output_dir, prefix, reuse_dir, suffix)
    if await cache.async_copy_to_store(entry, fs, dest, _cached_names(entry, policy, prefix)):
        return await asyncio.to_thread(_copied_result, cache, entry, fs, dest)
    local = await asyncio.to_thread(_fetch_cached, cache, entry, None, prefix)
    with removed_on_error(RunFolder(local.run_dir, True)):
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
    reuse_dir: bool = False,
) -> SimulationResult:
    """The coroutine twin of `run_simulation`; cancelling it kills EnergyPlus."""
    import asyncio

    dest = _store_destination(fs, output_dir)
    policy = named_policy(UploadPolicy.coerce(upload), options.output_suffix)
    if fs is not None:
        await fs.check_writable()  # a wrong bucket or key fails here, not after the run (cached per store)
    weather = await async_fetch_weather(weather, fs)
    plan = await asyncio.to_thread(prepare_run, model, weather, energyplus=energyplus, options=options)
    plan = _with_env(plan, env)
    if cache is None:
        return await _async_run(plan, output_dir, fs, dest, policy, on_line, None, reuse_dir)
    key = await asyncio.to_thread(cache.key, plan)
    async with cache.async_key_lock(key):
        entry = await asyncio.to_thread(cache.get, key)
        if entry is not None:
            try:
                prefix, suffix = options.output_prefix, options.output_suffix
                return await _async_land_cached(
                    cache, entry, output_dir, fs, dest, policy, prefix, reuse_dir, suffix
                )
            except StorageNotFoundError:
                log.warning("cache entry %s lost files while being read; running the simulation", key[:12])
        after = _cache_after_run(cache, key)
        return await _async_run(plan, output_dir, fs, dest, policy, on_line, after, reuse_dir)


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
    reuse_dir: bool = False,
    output_suffix: str = LEGACY,
    preprocessor_timeout: float | None = None,
) -> SimulationResult:
    """Run one EnergyPlus simulation of a copy of ``model`` with ``weather``; `model` is never changed.

    A run that fails inside EnergyPlus returns ``success=False`` with its error report; problems found
    before starting (no engine, no weather file, a bad model, a store path leaving the prefix) raise.

    Args:
        model: an `IDFDocument`, a path to an .idf/.epJSON file, or IDF text.
        weather: an .epw path, an ``s3://``/``https://`` URL, a path in ``fs``, or None for a
            design-day run.
        output_dir: the run's folder (local), or its folder in ``fs``; None runs in a temporary folder.
            A folder holds one run: a previous epcloud run there is replaced, a folder of other files is
            refused unless ``reuse_dir=True`` (its files are then left alone and not listed as outputs).
        fs: a store: the run happens locally, then the outputs chosen by ``upload`` go to ``output_dir``
            in the store, the status file last. A finished run whose upload fails is kept locally and
            `UploadFailedError` says where and how to finish.
        energyplus: an `EnergyPlusConfig`, an executable or install folder; None finds one.
        expand_objects: run ExpandObjects when the model needs it (HVACTemplate, ground heat transfer).
        annual: force a weather-file run period.
        design_day: simulate the design days only.
        output_prefix: the prefix of EnergyPlus's output names (``eplusout.sql``...).
        readvars: also write CSV outputs with ReadVarsESO.
        timeout: seconds for the whole run, ExpandObjects included, before its process tree is killed
            (the result then has ``timed_out=True``).
        extra_args: more EnergyPlus command-line arguments.
        cache: a `SimulationCache`: a run made before with the same inputs is not repeated.
        on_progress: receives a `ProgressEvent` for each environment and simulated day.
        upload: which outputs go to ``fs`` (patterns, ``"all"`` or an `UploadPolicy`).
        reuse_dir: run in a non-empty ``output_dir`` that holds no epcloud run.
        output_suffix: EnergyPlus's output naming (``--output-suffix``): ``"L"`` legacy (``eplusout.sql``,
            ``eplustbl.htm``), ``"C"`` (``eplus.sql``, ``eplusTable.htm``) or ``"D"`` (``eplus.sql``,
            ``eplus-table.htm``). The result and stored runs find the outputs under either.
        preprocessor_timeout: seconds ExpandObjects may take; past it its process tree is killed and
            `PreprocessorTimeoutError` is raised before EnergyPlus starts. None: only ``timeout`` applies.

    Returns:
        The run's `SimulationResult` (outputs in ``output_dir`` or in the store).
    """
    return run_simulation(
        model,
        weather,
        _options(
            expand_objects,
            annual,
            design_day,
            output_prefix,
            readvars,
            timeout,
            extra_args,
            output_suffix,
            preprocessor_timeout,
        ),
        output_dir=output_dir,
        fs=fs,
        energyplus=energyplus,
        cache=cache,
        upload=upload,
        on_line=_line_handler(on_progress),
        reuse_dir=reuse_dir,
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
    reuse_dir: bool = False,
    output_suffix: str = LEGACY,
    preprocessor_timeout: float | None = None,
) -> SimulationResult:
    """The coroutine twin of `simulate` (``fs`` is an AsyncFileSystem); cancelling it kills EnergyPlus."""
    return await async_run_simulation(
        model,
        weather,
        _options(
            expand_objects,
            annual,
            design_day,
            output_prefix,
            readvars,
            timeout,
            extra_args,
            output_suffix,
            preprocessor_timeout,
        ),
        output_dir=output_dir,
        fs=fs,
        energyplus=energyplus,
        cache=cache,
        upload=upload,
        on_line=_line_handler(on_progress),
        reuse_dir=reuse_dir,
    )
