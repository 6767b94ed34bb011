"""Step 2: a worker runs its shard's pending jobs with every local core, each job's done-marker last.

A job is done when its done-marker exists (see `epcloud.study.attempt`): created once, after every
output of the attempt it names, so a worker killed at any moment never leaves a half result that looks
done. Its done-index key follows it. Which jobs a worker of an array runs is `resolve_slice`'s answer.
On stop (SIGTERM) no job starts, running engines are killed and their jobs stay pending.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import json
import logging
import os
import queue
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from epcloud.batch.executors import submitter
from epcloud.batch.runner import ProgressDisplay, progress_display, usable_cpus
from epcloud.errors import (
    ShardIndexError,
    StudyError,
    WorkerInterrupted,
)
from epcloud.progress import RichBatchProgress, SafeCallback
from epcloud.run.process import RunningProcesses
from epcloud.study import layout
from epcloud.study.attempt import (
    HELD,
    DoneIndex,
    Finished,
    JobRunner,
    committed_dir,
    done_keys,
    read_marker,
    study_engine_env,
)
from epcloud.study.fetch import InputFetches, fetch_inputs
from epcloud.study.leases import LeaseKeeper, heartbeat_seconds, worker_name
from epcloud.study.manifest import JobEntry, StudyInfo, read_shard
from epcloud.study.owner import make_workdir, sweep_workdirs
from epcloud.study.pipeline import Outcomes, Pipeline, WorkerPools
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
    "fetch_inputs",
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
    return _ShardState(study_jobs_state(fs, shard), done_keys(fs, shard))


def _repair_index(fs: FileSystem, entry: JobEntry) -> None:
    """Write the done-index key of a job whose worker died between its done-marker and its index key."""
    marker = read_marker(fs, entry)
    if marker is None:
        return
    data = encode_summary(marker["summary"])
    fs.write_bytes(layout.done_path(entry.shard, entry.id, str(marker["status"]), summary_token(data)), data)
    log.info("job %s: done-index key restored", entry.id)


def _pending(
    fs: FileSystem, entries: Sequence[JobEntry], done_index: DoneIndex | None = None
) -> tuple[list[tuple[JobEntry, list[str]]], int]:
    """Entries without a done-marker (with what interrupted attempts left), and how many are done;
    ``done_index`` learns what each shard's listing said."""
    states: dict[int, _ShardState] = {}
    todo: list[tuple[JobEntry, list[str]]] = []
    repair: list[JobEntry] = []
    for entry in entries:
        if entry.shard not in states:
            listed_at = time.monotonic()
            states[entry.shard] = _shard_state(fs, entry.shard)
            if done_index is not None:
                state = states[entry.shard]
                marked = (job for job, names in state.results.items() if layout.DONE_MARKER in names)
                done_index.seed(entry.shard, {*state.done, *marked}, listed_at)
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
    """Run the entries not yet done, ``max_workers`` (default: usable CPUs) engines at a time.

    A finished run is stored on an I/O thread while the next engine starts on its core; at most
    `_STORE_BACKLOG` runs per engine wait to be stored (the engines wait beyond that), so memory and
    open files stay flat. ``progress="rich"`` shows a progress bar of the jobs to run on stderr.

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
    beat = heartbeat_seconds() if heartbeat is None else heartbeat
    done_index = DoneIndex(fs, beat)
    todo, skipped = _pending(fs, entries, done_index)
    log.info("%d jobs to run, %d already done", len(todo), skipped)
    if not todo:
        return ShardReport(shards, skipped=skipped, wall_seconds=time.perf_counter() - start)
    running = RunningProcesses()
    outcomes = Outcomes()
    held: list[JobEntry] = []
    workers = min(max_workers or usable_cpus(), len(todo))
    workdir = make_workdir()
    display = progress_display(progress, len(todo))
    events = SafeCallback(display.on_event) if display is not None else None
    pools = WorkerPools(workers)
    try:
        with (
            LeaseKeeper(fs, beat) as leases,
            display if display is not None else contextlib.nullcontext(),
        ):
            inputs = InputFetches(fs, [entry for entry, _ in todo], pools.fetch)
            runner = JobRunner(
                fs,
                info,
                inputs,
                workdir,
                energyplus,
                running,
                stop,
                worker_name(),
                leases,
                events,
                done_index=done_index,
                uploads=pools.upload,
                engine_env=study_engine_env(energyplus),
            )
            pipeline = Pipeline(runner, inputs, pools, workers)
            try:
                while todo and not stop.is_set():
                    held = _run_round(pipeline, todo, stop, outcomes, display)
                    if not held or not wait_for_held:
                        break
                    log.info("%d jobs are held by another live worker: waiting for them", len(held))
                    stop.wait(leases.beat)
                    todo, done_meanwhile = _pending(fs, held, done_index)
                    skipped += done_meanwhile
                    held = [entry for entry, _ in todo]
            except BaseException:
                stop.set()
                raise
            finally:
                if stop.is_set():
                    if outcomes.input_error is None:
                        log.warning(_STOP_MESSAGE)
                    running.kill_all()
                pools.engine.shutdown(wait=True, cancel_futures=True)
                pools.store.shutdown(wait=True)  # finished runs are still stored
                outcomes.harvest(pipeline.stores)
                pools.shutdown()
                with contextlib.suppress(Exception):  # a digest only speeds collect up; never mask it
                    write_digests(fs, outcomes.finished)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    finished = outcomes.finished
    succeeded = sum(1 for item in finished if item.success)
    skipped += len(outcomes.lost)  # done by another worker while this one ran
    report = ShardReport(
        shards,
        succeeded=succeeded,
        failed=len(finished) - succeeded,
        skipped=skipped,
        pending=len(entries) - skipped - len(finished),
        wall_seconds=time.perf_counter() - start,
    )
    if outcomes.input_error is not None:
        raise outcomes.input_error
    if stop.is_set():
        raise WorkerInterrupted(
            f"stopped: {report.ran} jobs finished, {report.pending} left pending for the next run"
        )
    if outcomes.errors:
        first = outcomes.errors[0]
        raise StudyError(f"{len(outcomes.errors)} jobs ran but could not be stored; first error: {first}")
    return report


_STOP_MESSAGE = "stop requested: killing running EnergyPlus; unfinished jobs stay pending"


def _run_round(
    pipeline: Pipeline,
    todo: Sequence[tuple[JobEntry, list[str]]],
    stop: threading.Event,
    outcomes: Outcomes,
    display: RichBatchProgress | None = None,
) -> list[JobEntry]:
    """Run ``todo`` through the pipeline; the entries held by another live worker. A missing input
    stops the worker (every input is checked before anything is stored)."""
    # Each future reports itself on a queue when it ends: one wake-up per finished future, where
    # `cf.wait` on every pending future would cost the whole round's length at each turn.
    ended: queue.SimpleQueue[cf.Future[Any]] = queue.SimpleQueue()
    entries: dict[cf.Future[Any], JobEntry] = {}

    def track(future: cf.Future[Any], entry: JobEntry) -> None:
        entries[future] = entry
        future.add_done_callback(ended.put)

    for entry, stale in todo:
        track(pipeline.submit(entry, stale), entry)
    engines = list(entries)
    held: list[JobEntry] = []
    try:
        while entries and not stop.is_set():
            try:
                future = ended.get(timeout=0.2)
            except queue.Empty:
                continue
            entry = entries.pop(future)
            outcome = outcomes.add(future, entry, display)
            if isinstance(outcome, cf.Future):  # the engine ran: now wait for its store
                track(outcome, entry)
            elif outcome == HELD:
                held.append(entry)
            if outcomes.input_error is not None:
                stop.set()
    finally:
        if stop.is_set():  # engines not started are dropped; finished runs are still stored
            for future in engines:
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
                engine_env=study_engine_env(energyplus),
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
