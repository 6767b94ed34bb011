"""One attempt at a study job: lease, run, upload under the attempt's own key, commit by done-marker.

The done-marker (``results/shard-N/<job>/done.json``) is created only if absent and names the attempt it
commits, so a job is done exactly when its marker exists, and everything the marker points to was
uploaded before it. No attempt deletes or overwrites anything a marker points to.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from epcloud._version import __version__
from epcloud.batch.executors import run_job
from epcloud.batch.jobs import SimulationJob
from epcloud.errors import StorageNotFoundError, StudyError
from epcloud.progress import SafeCallback
from epcloud.run.process import RunningProcesses
from epcloud.rundir.run_status import STATUS_FILENAME, RunStatus
from epcloud.rundir.upload import DEFAULT_UPLOAD, UploadPolicy, upload_outputs
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
    "Finished",
    "JobRunner",
    "Outcome",
    "commit",
    "committed_dir",
    "marker_body",
    "read_marker",
]

log = logging.getLogger(__name__)

_POLICY = UploadPolicy(include=(*DEFAULT_UPLOAD.include, layout.SUMMARY_FILE))


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
    """The done-marker: the attempt it commits, the job's status and the summary (so one GET repairs)."""
    return json.dumps(
        {
            "format": 1,
            "attempt": attempt,
            "status": status,
            "token": token,
            "summary": json.loads(summary_data),
        },
        separators=(",", ":"),
    ).encode()


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


@dataclass
class JobRunner:
    """Runs one study job at a time on a local core and commits it in the store, done-marker last.

    The job's lease is taken first (conditionally: a live holder keeps it) and renewed while it runs;
    the outputs go under a fresh attempt key; the done-marker, created only if absent, commits them.
    """

    fs: FileSystem
    info: StudyInfo
    inputs: dict[str, Path]
    workdir: Path
    energyplus: EngineInput
    running: RunningProcesses
    stop: threading.Event
    worker: str
    leases: LeaseKeeper
    events: SafeCallback | None = None

    def __call__(self, entry: JobEntry, stale: Sequence[str] = ()) -> Outcome:
        """The stored job; HELD when a live worker has its lease; None when stopped (it stays pending)."""
        if self.stop.is_set():
            return None
        if not self.leases.claim(entry, self.worker):
            return HELD
        run_dir = self.workdir / entry.id
        try:
            if self.fs.exists(layout.done_marker(entry.shard, entry.id)):
                return LOST  # committed by the lease's last holder after this worker listed the shard
            return self._run(entry, run_dir, stale)
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
            self.leases.release(entry.id)

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

    def _run(self, entry: JobEntry, run_dir: Path, stale: Sequence[str]) -> Outcome:
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
            job, fs=None, cache=None, energyplus=self.energyplus, running=self.running, on_line=on_line
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
        for path in (p for p in stale if p.startswith(f"{layout.DONE}/")):
            self.fs.remove(path)  # index keys of a result a rerun was clearing: the job is not done
        attempt = layout.new_attempt()
        folder = layout.attempt_dir(entry.shard, entry.id, attempt)
        files = upload_outputs(run_dir, self.fs, folder, policy=_POLICY, output_prefix=job.output_prefix)
        token = summary_token(data)
        status = str(summary["status"])
        marker = marker_body(attempt, status, token, data)
        if not self.leases.holds(entry.id) or not commit(self.fs, entry, marker):
            log.warning("job %s: another attempt committed it first; this attempt is dropped", entry.id)
            _remove_quietly(self.fs, [f"{folder}/{name}" for name in files])
            return LOST
        self.fs.write_bytes(layout.done_path(entry.shard, entry.id, status, token), data)
        self._note_missing(entry, summary)
        # Attempts listed before this one started are dead (their leases were free or stale) and can
        # never commit now that the marker exists: nothing a done job points to is touched.
        _remove_quietly(self.fs, [p for p in stale if p.startswith(f"{layout.RESULTS}/")])
        log.info("job %s %s", entry.id, status)
        return Finished(entry, bool(result.success), token, summary)


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
