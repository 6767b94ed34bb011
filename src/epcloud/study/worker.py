"""Step 2: a worker runs its shard's pending jobs with every local core, each job's done-marker last.

A job is done when its done-marker exists (see `epcloud.study.attempt`): created once, after every
output of the attempt it names, so a worker killed at any moment never leaves a half result that looks
done. Its done-index key follows it. Which jobs a worker of an array runs is `resolve_slice`'s answer.
On stop (SIGTERM) no job starts, running engines are killed and their jobs stay pending.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import json
import logging
import os
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from epcloud.batch.executors import submitter
from epcloud.batch.runner import ProgressDisplay, progress_display, usable_cpus
from epcloud.errors import (
    ShardIndexError,
    StorageNotFoundError,
    StudyError,
    StudyInputError,
    WorkerInterrupted,
)
from epcloud.progress import ProgressEvent, RichBatchProgress, SafeCallback
from epcloud.run.process import RunningProcesses
from epcloud.study import layout
from epcloud.study.attempt import HELD, LOST, Finished, JobRunner, committed_dir, read_marker
from epcloud.study.leases import LeaseKeeper, worker_name
from epcloud.study.manifest import JobEntry, StudyInfo, read_shard
from epcloud.study.owner import make_workdir, sweep_workdirs
from epcloud.study.summary import encode_summary, summary_token

if TYPE_CHECKING:
    from epcloud.run.prepare import EngineInput
    from epcloud.storage import FileSystem

__all__ = [
    "INDEX_VARIABLES",
    "Finished",
    "ShardReport",
    "WorkerSlice",
    "committed_dir",
    "read_marker",
    "resolve_shards",
    "resolve_slice",
    "run_entries",
    "run_on_executor",
    "stop_on_signals",
    "study_jobs_state",
    "worker_name",
    "write_digests",
]

log = logging.getLogger(__name__)

INDEX_VARIABLES = ("AWS_BATCH_JOB_ARRAY_INDEX", "JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID")
"""Where an array child finds its index: AWS Batch, Kubernetes Indexed Jobs, Slurm job arrays."""
_FETCH_THREADS = 16


@dataclass(frozen=True)
class ShardReport:
    """What a worker did: jobs run (succeeded / failed), skipped as already done, left pending."""

    shards: tuple[int, ...]
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    pending: int = 0
    wall_seconds: float = 0.0
    stolen: int = 0  # of the jobs run, those taken from dead shards

    @property
    def ran(self) -> int:
        return self.succeeded + self.failed


@dataclass(frozen=True)
class WorkerSlice:
    """The jobs one worker of an array runs: whole ``shards``, or part ``part`` of ``parts`` of one shard.

    With fewer workers than shards a worker takes several shards; with more, the workers of one shard
    split its jobs by position (``part``, ``part + parts``...), the same split on every retry.
    """

    shards: tuple[int, ...]
    part: int = 0
    parts: int = 1

    def select(self, entries: Sequence[JobEntry]) -> list[JobEntry]:
        """This worker's entries of its shards' ``entries`` (in job order)."""
        mine = sorted((e for e in entries if e.shard in self.shards), key=lambda e: e.index)
        if self.parts == 1:
            return mine
        return mine[self.part :: self.parts]


def _index_from_environment(env: Mapping[str, str]) -> tuple[int | None, int | None]:
    """(index, array size or None) from the first array-job variable set."""
    for name in INDEX_VARIABLES:
        if env.get(name, "").strip():
            try:
                index = int(env[name])
            except ValueError as exc:
                raise ShardIndexError(f"{name}={env[name]!r} is not a whole number") from exc
            size = None
            if name == "SLURM_ARRAY_TASK_ID":
                index -= int(env.get("SLURM_ARRAY_TASK_MIN", "0") or 0)
                if env.get("SLURM_ARRAY_TASK_COUNT", "").strip().isdigit():
                    size = int(env["SLURM_ARRAY_TASK_COUNT"])
            log.info("shard index %d from %s", index, name)
            return index, size
    return None, None


def resolve_slice(
    index: int | None, count: int | None, shard_count: int, environ: Mapping[str, str] | None = None
) -> WorkerSlice:
    """What worker ``index`` of ``count`` runs (any ``count >= 1``); the index may come from the
    array-job environment, the count defaults to the study's shards."""
    env = os.environ if environ is None else environ
    size = None
    if index is None:
        index, size = _index_from_environment(env)
    if index is None:
        if shard_count == 1 or count == 1:
            index = 0
        else:
            names = ", ".join(INDEX_VARIABLES)
            raise ShardIndexError(
                f"the study has {shard_count} shards: give --index (or run as an array job, which "
                f"sets one of {names})"
            )
    count = count if count is not None else size if size is not None else shard_count
    if count < 1:
        raise ShardIndexError(f"the array size (--count) must be at least 1, got {count}")
    if not 0 <= index < count:
        hint = "" if index < 0 else f"; an array of more workers needs --count (at least {index + 1})"
        raise ShardIndexError(
            f"shard index {index} is out of range: the study has {shard_count} shards and the array "
            f"{count} workers, so indexes run from 0 to {count - 1}{hint}"
        )
    if count <= shard_count:
        return WorkerSlice(tuple(range(index, shard_count, count)))
    shard = index % shard_count
    return WorkerSlice((shard,), part=index // shard_count, parts=len(range(shard, count, shard_count)))


def resolve_shards(
    index: int | None, count: int | None, shard_count: int, environ: Mapping[str, str] | None = None
) -> tuple[int, ...]:
    """The shards worker ``index`` of ``count`` runs jobs of (see `resolve_slice`)."""
    return resolve_slice(index, count, shard_count, environ).shards


def _inputs_dir() -> Path:
    from epcloud.cachedir import cache_dir

    return cache_dir("study-inputs")


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch_one(fs: FileSystem, path: str, sha: str) -> Path:
    """One content-addressed input in the local cache; downloaded once, checked against its hash."""
    target = _inputs_dir() / Path(path).name
    if target.is_file():
        return target
    try:
        fs.download_file(path, target)
    except StorageNotFoundError as exc:
        raise StudyInputError(
            f"input {fs.url(path)} is missing from the study: it was deleted or never uploaded; "
            "re-create the study (Study.create(..., overwrite=True))"
        ) from exc
    if _sha256_of(target) != sha:
        target.unlink(missing_ok=True)
        raise StudyInputError(f"input {fs.url(path)} does not match its content hash {sha[:12]}...")
    return target


def fetch_inputs(fs: FileSystem, entries: Sequence[JobEntry]) -> dict[str, Path]:
    """Local copies of every distinct model and weather file the entries need, in parallel."""
    wanted: dict[str, str] = {}
    for entry in entries:
        wanted[entry.model_path] = entry.model_sha256
        if entry.weather_path and entry.weather_sha256:
            wanted[entry.weather_path] = entry.weather_sha256
    if not wanted:
        return {}
    with cf.ThreadPoolExecutor(max_workers=min(_FETCH_THREADS, len(wanted))) as pool:
        local = dict(zip(wanted, pool.map(lambda p: _fetch_one(fs, p, wanted[p]), wanted), strict=True))
    return local


@dataclass
class _ShardState:
    """What one listing of a shard's results and one of its done index say about each job."""

    results: dict[str, set[str]]
    done: dict[str, list[str]]


def study_jobs_state(fs: FileSystem, shard: int) -> dict[str, set[str]]:
    """Paths below each job's result folder of one shard, relative to it (one listing)."""
    found: dict[str, set[str]] = {}
    prefix = layout.shard_results(shard)
    for info in fs.list_files(prefix):
        parts = layout.split_attempt_path(info.path)
        if parts is not None:
            name = parts[3] if parts[2] is None else f"{parts[2]}/{parts[3]}"
            found.setdefault(parts[1], set()).add(name)
    return found


def _shard_state(fs: FileSystem, shard: int) -> _ShardState:
    done: dict[str, list[str]] = {}
    for info in fs.list_files(f"{layout.DONE}/shard-{shard:05d}"):
        parts = layout.split_done_path(info.path)
        if parts is not None:
            done.setdefault(parts[1], []).append(info.path)
    return _ShardState(study_jobs_state(fs, shard), done)


def _repair_index(fs: FileSystem, entry: JobEntry) -> None:
    """Write the done-index key of a job whose worker died between its done-marker and its index key."""
    marker = read_marker(fs, entry)
    if marker is None:
        return
    data = encode_summary(marker["summary"])
    fs.write_bytes(layout.done_path(entry.shard, entry.id, str(marker["status"]), summary_token(data)), data)
    log.info("job %s: done-index key restored", entry.id)


def _pending(fs: FileSystem, entries: Sequence[JobEntry]) -> tuple[list[tuple[JobEntry, list[str]]], int]:
    """Entries without a done-marker (with what interrupted attempts left), and how many are done."""
    states: dict[int, _ShardState] = {}
    todo: list[tuple[JobEntry, list[str]]] = []
    repair: list[JobEntry] = []
    for entry in entries:
        if entry.shard not in states:
            states[entry.shard] = _shard_state(fs, entry.shard)
        state = states[entry.shard]
        names = state.results.get(entry.id, set())
        indexed = state.done.get(entry.id, [])
        if layout.DONE_MARKER in names:
            if not indexed:
                repair.append(entry)
            continue
        leftovers = [f"{entry.result_dir}/{name}" for name in sorted(names)]
        todo.append((entry, indexed + leftovers))
    for entry in repair:
        _repair_index(fs, entry)
    return todo, len(entries) - len(todo)


def write_digests(fs: FileSystem, finished: Sequence[Finished]) -> None:
    """One object per shard with the summaries this run stored, so collect reads a shard in one GET."""
    run_id = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    by_shard: dict[int, dict[str, Any]] = {}
    for item in finished:
        by_shard.setdefault(item.entry.shard, {})[item.entry.id] = {
            "token": item.token,
            "summary": item.summary,
        }
    for shard, jobs in by_shard.items():
        document = {"format": 1, "shard": shard, "jobs": jobs}
        fs.write_bytes(
            layout.digest_path(shard, run_id), json.dumps(document, separators=(",", ":")).encode()
        )


def run_entries(
    fs: FileSystem,
    info: StudyInfo,
    entries: Sequence[JobEntry],
    *,
    max_workers: int | None = None,
    energyplus: EngineInput = None,
    stop: threading.Event | None = None,
    shards: tuple[int, ...] = (),
    wait_for_held: bool = True,
    heartbeat: float | None = None,
    progress: ProgressDisplay = None,
) -> ShardReport:
    """Run the entries not yet done, ``max_workers`` (default: usable CPUs) at a time.

    ``progress="rich"`` shows a progress bar of the jobs to run on stderr (done, failed, running, ETA).

    A job whose lease a live worker holds is that worker's: with ``wait_for_held`` this worker waits
    until it is done (skipped) or its lease goes stale (then runs it); else it is left to its holder.
    Leases are renewed every ``heartbeat`` seconds (default: `heartbeat_seconds()`).
    Raises `WorkerInterrupted` when ``stop`` is set: running engines are killed, their jobs stay pending.
    """
    if max_workers is not None and max_workers < 1:
        raise ValueError(f"max_workers must be at least 1, got {max_workers}")
    start = time.perf_counter()
    stop = stop or threading.Event()
    sweep_workdirs()
    todo, skipped = _pending(fs, entries)
    log.info("%d jobs to run, %d already done", len(todo), skipped)
    if not todo:
        return ShardReport(shards, skipped=skipped, wall_seconds=time.perf_counter() - start)
    inputs = fetch_inputs(fs, [entry for entry, _ in todo])
    running = RunningProcesses()
    finished: list[Finished] = []
    errors: list[BaseException] = []
    held: list[JobEntry] = []
    lost: list[JobEntry] = []
    workers = min(max_workers or usable_cpus(), len(todo))
    workdir = make_workdir()
    display = progress_display(progress, len(todo))
    events = SafeCallback(display.on_event) if display is not None else None
    try:
        with (
            LeaseKeeper(fs, heartbeat) as leases,
            display if display is not None else contextlib.nullcontext(),
        ):
            runner = JobRunner(
                fs, info, inputs, workdir, energyplus, running, stop, worker_name(), leases, events
            )
            pool = cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="epcloud-worker")
            try:
                while todo and not stop.is_set():
                    held = _run_round(pool, runner, todo, stop, finished, errors, lost, display)
                    if not held or not wait_for_held:
                        break
                    log.info("%d jobs are held by another live worker: waiting for them", len(held))
                    stop.wait(leases.beat)
                    todo, done_meanwhile = _pending(fs, held)
                    skipped += done_meanwhile
                    held = [entry for entry, _ in todo]
            except BaseException:
                stop.set()
                raise
            finally:
                if stop.is_set():
                    log.warning("stop requested: killing running EnergyPlus; unfinished jobs stay pending")
                    running.kill_all()
                pool.shutdown(wait=True, cancel_futures=True)
                with contextlib.suppress(Exception):  # a digest only speeds collect up; never mask it
                    write_digests(fs, finished)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    succeeded = sum(1 for item in finished if item.success)
    skipped += len(lost)  # done by another worker while this one ran
    report = ShardReport(
        shards,
        succeeded=succeeded,
        failed=len(finished) - succeeded,
        skipped=skipped,
        pending=len(entries) - skipped - len(finished),
        wall_seconds=time.perf_counter() - start,
    )
    if stop.is_set():
        raise WorkerInterrupted(
            f"stopped: {report.ran} jobs finished, {report.pending} left pending for the next run"
        )
    if errors:
        raise StudyError(f"{len(errors)} jobs ran but could not be stored; first error: {errors[0]}")
    return report


def _show_done(display: RichBatchProgress, outcome: Finished) -> None:
    entry = outcome.entry
    display.job_done(entry.index, outcome.success)
    state = "succeeded" if outcome.success else "failed"
    display.on_event(ProgressEvent("done", state, None, 100.0, entry.index, entry.label or entry.id))


def _run_round(
    pool: cf.Executor,
    runner: JobRunner,
    todo: Sequence[tuple[JobEntry, list[str]]],
    stop: threading.Event,
    finished: list[Finished],
    errors: list[BaseException],
    lost: list[JobEntry],
    display: RichBatchProgress | None = None,
) -> list[JobEntry]:
    """Run ``todo`` on the pool; the entries held by another live worker (``lost`` gets those another
    worker committed meanwhile)."""
    futures = {pool.submit(runner, entry, stale): entry for entry, stale in todo}
    held: list[JobEntry] = []
    waiting = set(futures)
    try:
        while waiting and not stop.is_set():
            done, waiting = cf.wait(waiting, timeout=0.2, return_when=cf.FIRST_COMPLETED)
            for future in done:
                try:
                    outcome = future.result()
                except Exception as exc:
                    log.error("job %s could not be stored: %s", futures[future].id, exc)
                    errors.append(exc)
                    continue
                if isinstance(outcome, Finished):
                    finished.append(outcome)
                    if display is not None:
                        _show_done(display, outcome)
                elif outcome == HELD:
                    held.append(futures[future])
                elif outcome == LOST:
                    lost.append(futures[future])
    finally:
        if stop.is_set():
            for future in futures:
                future.cancel()
    return held


def _run_remote(
    fs: FileSystem, info: StudyInfo, entry: JobEntry, stale: list[str], energyplus: Any
) -> Finished | None:
    """One job on an executor's worker (another process or machine): fetch, run, store."""
    inputs = fetch_inputs(fs, [entry])
    workdir = make_workdir()
    try:
        with LeaseKeeper(fs) as leases:
            runner = JobRunner(
                fs,
                info,
                inputs,
                workdir,
                energyplus,
                RunningProcesses(),
                threading.Event(),
                worker_name(),
                leases,
            )
            outcome = runner(entry, stale)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return outcome if isinstance(outcome, Finished) else None


def run_on_executor(
    fs: FileSystem, info: StudyInfo, executor: object, energyplus: EngineInput = None
) -> ShardReport:
    """Run every pending job of the study on an Executor or a Dask client, one task per job."""
    start = time.perf_counter()
    shards = tuple(range(info.shard_count))
    entries = [entry for shard in shards for entry in read_shard(fs, shard)]
    todo, skipped = _pending(fs, entries)
    submit = submitter(executor)
    futures = [submit(_run_remote, fs, info, entry, stale, energyplus) for entry, stale in todo]
    finished: list[Finished] = []
    try:
        for future in cf.as_completed(futures):
            outcome = future.result()
            if outcome is not None:
                finished.append(outcome)
    except BaseException:
        submit.cancel()
        raise
    finally:
        with contextlib.suppress(Exception):
            write_digests(fs, finished)
    succeeded = sum(1 for item in finished if item.success)
    return ShardReport(
        shards,
        succeeded=succeeded,
        failed=len(finished) - succeeded,
        skipped=skipped,
        pending=len(todo) - len(finished),
        wall_seconds=time.perf_counter() - start,
    )


@contextlib.contextmanager
def stop_on_signals(signals: Sequence[int] = (signal.SIGTERM,)) -> Iterator[threading.Event]:
    """An event set when one of ``signals`` arrives (main thread only); the old handlers come back after."""
    stop = threading.Event()

    def handle(_signum: int, _frame: object) -> None:
        stop.set()  # only this: logging or I/O in a signal handler can deadlock the main thread

    previous = {sig: signal.signal(sig, handle) for sig in signals}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
