"""One attempt at a study job: lease, run, upload under the attempt's own key, commit by done-marker.

The done-marker (``results/shard-N/<job>/done.json``) is created only if absent and names the attempt it
commits, so a job is done exactly when its marker exists, and everything the marker points to was
uploaded before it. No attempt deletes or overwrites anything a marker points to.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from epcloud._version import __version__
from epcloud.batch.executors import run_job
from epcloud.batch.jobs import SimulationJob
from epcloud.errors import EnergyPlusNotFoundError, StorageNotFoundError, StudyError
from epcloud.progress import SafeCallback
from epcloud.run.process import RunningProcesses
from epcloud.rundir.naming import LEGACY, named_policy
from epcloud.rundir.run_status import STATUS_FILENAME, RunStatus
from epcloud.rundir.upload import UploadPolicy, upload_outputs
from epcloud.study import layout
from epcloud.study.leases import LeaseKeeper, create_once
from epcloud.study.manifest import JobEntry, StudyInfo
from epcloud.study.summary import encode_summary, summarize, summary_token
from epcloud.study.sweep import variant_model

if TYPE_CHECKING:
    from epcloud.batch.batch_result import JobResult
    from epcloud.run.prepare import EngineInput
    from epcloud.storage import FileSystem

__all__ = [
    "HELD",
    "LOST",
    "DoneIndex",
    "Finished",
    "JobRunner",
    "Outcome",
    "Ran",
    "commit",
    "committed_dir",
    "done_keys",
    "marker_body",
    "read_marker",
    "study_engine_env",
]

log = logging.getLogger(__name__)


def study_policy(info: StudyInfo) -> UploadPolicy:
    """What an attempt stores: the study's chosen outputs and the job's summary (and, always, the run's
    status, last)."""
    policy = info.upload_policy()
    return dataclasses.replace(policy, include=(*policy.include, layout.SUMMARY_FILE))


def _failure_status(entry: JobEntry, result: JobResult) -> RunStatus:
    """A done-marker for a job that raised before EnergyPlus could run (bad model...)."""
    return RunStatus(
        success=False,
        exit_code=None,
        runtime_seconds=0.0,
        energyplus_version="",
        epcloud_version=__version__,
        model_sha256=entry.model_sha256,
        weather_sha256=entry.weather_sha256,
        output_prefix=str(entry.flags.get("output_prefix", "eplus")),
        output_suffix=str(entry.flags.get("output_suffix", LEGACY)).upper(),
        fatal_message=getattr(result, "error", None),
    )


@dataclass(frozen=True)
class Finished:
    """A job this worker stored: its entry, outcome, and summary (with its token) for the shard digest."""

    entry: JobEntry
    success: bool
    token: str
    summary: dict[str, Any]


HELD = "held"
"""What the runner returns for a job whose lease a live worker holds: it is that worker's to run."""
LOST = "lost"
"""What the runner returns when another attempt committed the job first (or took its lease over)."""
Outcome = Finished | str | None


def marker_body(attempt: str, status: str, token: str, summary_data: bytes) -> bytes:
    """The done-marker: the attempt it commits, the job's status and the summary (so one GET repairs).

    The encoded summary goes in as it is (a summary with long series is large: parsing and encoding
    it again would cost more than the rest of the marker)."""
    head = json.dumps(
        {"format": 1, "attempt": attempt, "status": status, "token": token}, separators=(",", ":")
    )
    return f'{head[:-1]},"summary":'.encode() + summary_data + b"}"


def read_marker(fs: FileSystem, entry: JobEntry) -> dict[str, Any] | None:
    """The done-marker of a job, or None when the job is not done."""
    try:
        data = json.loads(fs.read_bytes(layout.done_marker(entry.shard, entry.id)))
    except StorageNotFoundError:
        return None
    if not isinstance(data, dict) or not str(data.get("attempt", "")).startswith(layout.ATTEMPT_PREFIX):
        raise StudyError(f"{fs.url(layout.done_marker(entry.shard, entry.id))} is not a done-marker")
    return data


def committed_dir(fs: FileSystem, entry: JobEntry) -> str | None:
    """The folder of the attempt a job's done-marker commits, or None when the job is not done."""
    marker = read_marker(fs, entry)
    if marker is None:
        return None
    return layout.attempt_dir(entry.shard, entry.id, str(marker["attempt"]))


class DoneIndex:
    """Which jobs of a shard are done, from listings of its done index at most ``max_age`` seconds old.

    It replaces a HEAD of the done-marker before each run with one listing per shard per heartbeat.
    A job committed since the last listing is still caught: its marker's conditional create fails
    and the late attempt is dropped (LOST), at the cost of one engine run.
    """

    def __init__(self, fs: FileSystem, max_age: float) -> None:
        self.fs = fs
        self.max_age = max_age
        self._seen: dict[int, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def seed(self, shard: int, done: Iterable[str], listed_at: float) -> None:
        """What a listing taken at ``listed_at`` (`time.monotonic()`) said: these jobs are done."""
        with self._lock:
            self._seen[shard] = (listed_at, frozenset(done))

    def is_done(self, entry: JobEntry) -> bool:
        now = time.monotonic()
        with self._lock:
            listed_at, done = self._seen.get(entry.shard, (float("-inf"), frozenset()))
            if now - listed_at > self.max_age:
                done = frozenset(done_keys(self.fs, entry.shard))
                self._seen[entry.shard] = (now, done)
        return entry.id in done


def done_keys(fs: FileSystem, shard: int) -> dict[str, list[str]]:
    """The done-index keys of one shard by job (one listing)."""
    return layout.newest_done(fs.list_files(f"{layout.DONE}/shard-{shard:05d}"))[1]


@dataclass(frozen=True)
class Ran:
    """A job whose engine has run: its folder (summary and status written), ready to be stored."""

    entry: JobEntry
    run_dir: Path
    summary: dict[str, Any]
    data: bytes  # the encoded summary
    output_prefix: str
    output_suffix: str  # the run's output naming (see `epcloud.rundir.naming`)
    success: bool
    stale: tuple[str, ...]


@dataclass
class JobRunner:
    """Runs one study job at a time on a local core and commits it in the store, done-marker last.

    The job's lease is taken first (conditionally: a live holder keeps it) and renewed while it runs;
    the outputs go under a fresh attempt key; the done-marker, created only if absent, commits them.
    Calling it does both steps; a worker calls `run` on an engine thread and `store` on an I/O thread,
    so the next engine starts while the last job's outputs are still being sent.
    """

    fs: FileSystem
    info: StudyInfo
    inputs: Mapping[str, Path]  # a worker's fetches in flight: a job waits only for its own
    workdir: Path
    energyplus: EngineInput
    running: RunningProcesses
    stop: threading.Event
    worker: str
    leases: LeaseKeeper
    events: SafeCallback | None = None
    done_index: DoneIndex | None = None  # else one HEAD of the done-marker per job
    uploads: Executor | None = None  # the worker's upload pool; else one per job
    engine_env: Mapping[str, str] | None = None  # added to the engine's environment (`study_engine_env`)

    def __post_init__(self) -> None:
        self.policy = study_policy(self.info)

    def __call__(self, entry: JobEntry, stale: Sequence[str] = ()) -> Outcome:
        """The stored job; HELD when a live worker has its lease; None when stopped (it stays pending)."""
        ran = self.run(entry, stale)
        return self.store(ran) if isinstance(ran, Ran) else ran

    def run(self, entry: JobEntry, stale: Sequence[str] = ()) -> Ran | Outcome:
        """Take the lease and run the engine: a `Ran` to `store` (which then owns the folder and the
        lease), or the outcome when there is nothing to store (held, lost, stopped)."""
        if self.stop.is_set():
            return None
        if not self.leases.claim(entry, self.worker):
            return HELD
        run_dir = self.workdir / entry.id
        ran: Ran | Outcome = None
        try:
            if self._committed(entry):
                return LOST  # committed by the lease's last holder after this worker listed the shard
            ran = self._run(entry, run_dir, stale)
            return ran
        finally:
            if not isinstance(ran, Ran):
                shutil.rmtree(run_dir, ignore_errors=True)
                self.leases.release(entry.id)

    def store(self, ran: Ran) -> Outcome:
        """Upload a run's outputs under a new attempt key and commit them by the done-marker."""
        committed = False
        try:
            outcome = self._store(ran)
            committed = isinstance(outcome, Finished)
            return outcome
        finally:
            shutil.rmtree(ran.run_dir, ignore_errors=True)
            self.leases.release(ran.entry.id, committed=committed)

    def discard(self, ran: Ran) -> None:
        """Drop a run that will not be stored: its folder goes, its lease is freed; the job stays pending."""
        shutil.rmtree(ran.run_dir, ignore_errors=True)
        self.leases.release(ran.entry.id)

    def _committed(self, entry: JobEntry) -> bool:
        if self.done_index is not None:
            return self.done_index.is_done(entry)
        return self.fs.exists(layout.done_marker(entry.shard, entry.id))

    def _note_missing(self, entry: JobEntry, summary: dict[str, Any]) -> None:
        """Say at once, in the log and in a note `status` lists, that requested series are absent."""
        missing = summary.get("missing_variables") or []
        if not missing or summary.get("status") != "succeeded":  # a failed run reports nothing at all
            return
        log.warning(
            "job %s (%s): EnergyPlus reported no %s; check the names against the model's .rdd/.mdd files",
            entry.id,
            entry.label or entry.id,
            ", ".join(missing),
        )
        try:
            self.fs.write_bytes(layout.missing_variables_note(entry.id), _missing_note(entry, missing))
        except Exception as exc:  # a note only speeds the user up; the summary already says it
            log.info("could not write the missing-variables note of %s: %s", entry.id, exc)

    def _run(self, entry: JobEntry, run_dir: Path, stale: Sequence[str]) -> Ran | None:
        flags = {k: v for k, v in entry.flags.items() if k != "extra_args"}
        job = SimulationJob(
            model=variant_model(self.inputs[entry.model_path], entry.edits),  # a sweep job's edits
            weather=str(self.inputs[entry.weather_path]) if entry.weather_path else None,
            label=entry.label or entry.id,
            output_dir=run_dir,
            extra_args=entry.flags.get("extra_args") or None,
            **flags,
        )
        on_line = self.events.line_handler(entry.index, job.label) if self.events is not None else None
        result = run_job(
            job,
            fs=None,
            cache=None,
            energyplus=self.energyplus,
            running=self.running,
            on_line=on_line,
            env=self.engine_env,
        )
        try:
            if self.stop.is_set():  # killed by the stop, or finished just as it came: redo it later
                return None
            run_dir.mkdir(parents=True, exist_ok=True)
            summary = summarize(entry, result, self.info.variables)
            data = encode_summary(summary)
            (run_dir / layout.SUMMARY_FILE).write_bytes(data)
            if not (run_dir / STATUS_FILENAME).is_file():
                _failure_status(entry, result).write(run_dir)
        finally:
            result.close()
        return Ran(
            entry,
            run_dir,
            summary,
            data,
            job.output_prefix,
            job.output_suffix,
            bool(result.success),
            tuple(stale),
        )

    def _store(self, ran: Ran) -> Outcome:
        entry, stale = ran.entry, ran.stale
        for path in (p for p in stale if p.startswith(f"{layout.DONE}/")):
            self.fs.remove(path)  # index keys of a result a rerun was clearing: the job is not done
        attempt = layout.new_attempt()
        folder = layout.attempt_dir(entry.shard, entry.id, attempt)
        files = upload_outputs(
            ran.run_dir,
            self.fs,
            folder,
            policy=named_policy(self.policy, ran.output_suffix),
            output_prefix=ran.output_prefix,
            pool=self.uploads,
        )
        token = summary_token(ran.data)
        status = str(ran.summary["status"])
        marker = marker_body(attempt, status, token, ran.data)
        if not self.leases.holds(entry.id) or not commit(self.fs, entry, marker):
            log.warning("job %s: another attempt committed it first; this attempt is dropped", entry.id)
            _remove_quietly(self.fs, [f"{folder}/{name}" for name in files])
            return LOST
        self.fs.write_bytes(layout.done_path(entry.shard, entry.id, status, token), ran.data)
        self._note_missing(entry, ran.summary)
        # Attempts listed before this one started are dead (their leases were free or stale) and can
        # never commit now that the marker exists: nothing a done job points to is touched.
        _remove_quietly(self.fs, [p for p in stale if p.startswith(f"{layout.RESULTS}/")])
        log.info("job %s %s", entry.id, status)
        return Finished(entry, ran.success, token, ran.summary)


def study_engine_env(energyplus: EngineInput) -> dict[str, str]:
    """What a study adds to its engines' environment: the fork server where the engine allows it (Linux,
    an engine folder with its library), unless ``EPCLOUD_ENGINE`` chose a backend. Same outputs as the
    executable's for less CPU per run (benchmarks/RESULTS.md, bench_engine.py)."""
    if os.environ.get("EPCLOUD_ENGINE", "").strip():
        return {}
    from epcloud.run.forkserver import fork_supported
    from epcloud.run.prepare import resolve_engine

    try:
        supported = fork_supported(resolve_engine(energyplus).executable)
    except EnergyPlusNotFoundError:  # the first job reports it, in the run's own words
        return {}
    return {"EPCLOUD_ENGINE": "fork"} if supported else {}


def _missing_note(entry: JobEntry, missing: Sequence[str]) -> bytes:
    return json.dumps({"job": entry.id, "label": entry.label, "missing_variables": list(missing)}).encode()


def commit(fs: FileSystem, entry: JobEntry, marker: bytes) -> bool:
    """Create the job's done-marker if it has none; True if it is this attempt's."""
    return create_once(fs, layout.done_marker(entry.shard, entry.id), marker)


def _remove_quietly(fs: FileSystem, paths: Sequence[str]) -> None:
    for path in paths:
        try:
            fs.remove(path)
        except Exception as exc:  # garbage left behind costs storage, never correctness
            log.info("could not remove %s: %s", fs.url(path), exc)
