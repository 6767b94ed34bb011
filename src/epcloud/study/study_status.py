"""Where a study stands (done, failed, running, pending: one listing); making jobs pending again.

A lease renewed within `STALE_BEATS` heartbeats means "running"; an older one is read, and when its
holder is taken for dead the job counts as pending and is listed as stale (stealers take it).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from epcloud.errors import StorageNotFoundError
from epcloud.study import layout
from epcloud.study.leases import STALE_BEATS, heartbeat_seconds, lease_is_stale
from epcloud.study.worker import ShardReport, run_entries

if TYPE_CHECKING:
    from epcloud.storage import FileInfo, FileSystem
    from epcloud.study import Study
    from epcloud.study.manifest import JobEntry

__all__ = ["JOB_STATES", "RerunReport", "StudyStatus", "missing_note", "rerun_jobs", "study_status"]

log = logging.getLogger(__name__)

JOB_STATES = ("succeeded", "failed", "running", "pending")


@dataclass(frozen=True)
class StudyStatus:
    """The state of every job: succeeded or failed (done index), running (live lease), pending.

    ``stale`` lists the pending jobs whose lease was left by a worker taken for dead; ``leased`` every
    job a live worker holds a lease of (a done one too: a late duplicate attempt, which rerun leaves be).
    """

    states: dict[str, str]
    done_keys: dict[str, list[str]] = field(default_factory=dict, repr=False)
    stale: list[str] = field(default_factory=list)
    leased: set[str] = field(default_factory=set, repr=False)
    # Jobs whose EnergyPlus did not report a requested variable (the workers' notes; see `missing_note`).
    missing_variables: list[str] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(1 for s in self.states.values() if s == state)

    def jobs(self, state: str) -> list[str]:
        return sorted(job for job, s in self.states.items() if s == state)

    @property
    def total(self) -> int:
        return len(self.states)

    @property
    def finished(self) -> bool:
        return self.count("running") + self.count("pending") == 0

    def to_dict(self) -> dict[str, Any]:
        counts = Counter(self.states.values())
        return {"total": self.total, **{state: counts[state] for state in JOB_STATES}}


def study_status(fs: FileSystem, ids: Sequence[str], now: float | None = None) -> StudyStatus:
    """The state of each job (by id, in job order) from one listing of the done index and one of
    leases; only leases not renewed lately are read, to tell a slow heartbeat from a dead worker."""
    newest, done_keys = layout.newest_done(fs.list_files(layout.DONE))
    leases = {info.path: info for info in fs.list_files(layout.LEASES)}
    held = {} if not leases else _live_leases(fs, ids, leases, time.time() if now is None else now)
    states: dict[str, str] = {}
    stale: list[str] = []
    for job in ids:
        found = newest.get(job)
        if found is not None:
            states[job] = found.status
        elif held.get(job):
            states[job] = "running"
        else:
            states[job] = "pending"
            if job in held:
                stale.append(job)
    leased = {job for job, alive in held.items() if alive}
    noted = {info.path.rsplit("/", 1)[-1].removesuffix(".json") for info in fs.list_files(_NOTES)}
    missing = sorted(job for job in noted if job in states)
    return StudyStatus(states, done_keys, sorted(stale), leased, missing)


def _live_leases(
    fs: FileSystem, jobs: Sequence[str], leases: dict[str, FileInfo], now: float
) -> dict[str, bool]:
    """Whether each leased job's lease is alive, by job; the leases not renewed lately are read (in
    parallel: after a crash of many workers there are many)."""
    fresh = heartbeat_seconds() * STALE_BEATS
    held: dict[str, bool] = {}
    old: dict[str, FileInfo] = {}
    for job in jobs:
        lease = leases.get(layout.lease_path(job))
        if lease is None:
            continue
        if lease.mtime is not None and lease.mtime + fresh > now:
            held[job] = True
        else:
            old[job] = lease
    if old:
        with ThreadPoolExecutor(max_workers=min(16, len(old)), thread_name_prefix="epcloud-lease") as pool:
            held.update(zip(old, pool.map(lambda lease: _alive(fs, lease), old.values()), strict=True))
    return held


_NOTES = layout.missing_variables_note("x").rsplit("/", 1)[0]


def missing_note(fs: FileSystem, job: str) -> dict[str, Any] | None:
    """A worker's note on a job whose EnergyPlus did not report a requested variable (label, names)."""
    import json

    try:
        note: dict[str, Any] = json.loads(fs.read_bytes(layout.missing_variables_note(job)))
    except (StorageNotFoundError, ValueError):
        return None
    return note


def _alive(fs: FileSystem, lease: FileInfo) -> bool:
    """Whether a lease not renewed lately is still alive: it says itself when it expires."""
    try:
        return not lease_is_stale(fs.read_bytes(lease.path))
    except StorageNotFoundError:
        return False  # released just now


@dataclass(frozen=True)
class RerunReport:
    """The jobs made pending again, and what running them did (when asked to run them)."""

    cleared: list[str]
    selected: list[str]
    ran: ShardReport | None = None


def _clear(fs: FileSystem, entry: JobEntry, done_keys: list[str]) -> None:
    """Delete a job's result: its done-index keys, then its done-marker, then its attempts, in that
    order, so it never looks done while half deleted."""
    for key in done_keys:
        fs.remove(key)
    paths = [info.path for info in fs.list_files(entry.result_dir)]
    marker = layout.done_marker(entry.shard, entry.id)
    for path in sorted(paths, key=lambda path: path != marker):
        fs.remove(path)
    log.info("cleared the result of %s", entry.id)


def rerun_jobs(
    study: Study,
    *,
    failed: bool = True,
    missing: bool = False,
    run: bool = False,
    max_workers: int | None = None,
) -> RerunReport:
    """Make failed jobs pending again (``missing`` adds the jobs never done); ``run`` runs them here now."""
    if not failed and not missing:
        raise ValueError("choose failed=True and/or missing=True")
    entries = {entry.id: entry for entry in study.entries()}
    status = study_status(study.fs, list(entries))
    cleared = status.jobs("failed") if failed else []
    busy = [job for job in cleared if job in status.leased]
    if busy:  # a worker is running it again: clearing now could strand that attempt's commit
        log.warning("not clearing %d failed jobs a worker is running right now: %s", len(busy), busy)
        cleared = [job for job in cleared if job not in status.leased]
    selected = sorted(cleared + (status.jobs("pending") if missing else []))
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda job: _clear(study.fs, entries[job], status.done_keys[job]), cleared))
    report = None
    if run and selected:
        todo = [entries[job] for job in selected]
        report = run_entries(study.fs, study.info, todo, max_workers=max_workers)
    return RerunReport(cleared, selected, report)
