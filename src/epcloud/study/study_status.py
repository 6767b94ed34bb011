"""Where a study stands (done, failed, running, pending: one listing); making jobs pending again."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from epcloud.rundir.run_status import STATUS_FILENAME
from epcloud.study import layout
from epcloud.study.worker import LEASE_MARGIN, ShardReport, run_entries

if TYPE_CHECKING:
    from epcloud.storage import FileSystem
    from epcloud.study import Study
    from epcloud.study.manifest import JobEntry

__all__ = ["JOB_STATES", "RerunReport", "StudyStatus", "rerun_jobs", "study_status"]

log = logging.getLogger(__name__)

JOB_STATES = ("succeeded", "failed", "running", "pending")


@dataclass(frozen=True)
class StudyStatus:
    """The state of every job: succeeded or failed (done index), running (live lease), pending."""

    states: dict[str, str]
    done_keys: dict[str, list[str]] = field(default_factory=dict, repr=False)

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
        return {"total": self.total, **{state: self.count(state) for state in JOB_STATES}}


def study_status(fs: FileSystem, entries: Sequence[JobEntry], now: float | None = None) -> StudyStatus:
    """The state of each job from one listing of the done index and one of leases (no object is read)."""
    done: dict[str, list[tuple[float, str, str]]] = {}  # job → (mtime, status, key) of each done key
    for info in fs.list_files(layout.DONE):
        parts = layout.split_done_path(info.path)
        if parts is not None:
            done.setdefault(parts[1], []).append((info.mtime or 0.0, parts[2], info.path))
    leases = {info.path: info for info in fs.list_files(layout.LEASES)}
    now = time.time() if now is None else now
    states: dict[str, str] = {}
    for entry in entries:
        keys = done.get(entry.id)
        if keys:
            latest = keys[0]
            for key in keys[1:]:  # the newest key wins; of equals, the last listed (a stable sort's last)
                if key[0] >= latest[0]:
                    latest = key
            states[entry.id] = latest[1]
            continue
        lease = leases.get(layout.lease_path(entry.id)) if leases else None
        live = False
        if lease is not None:
            ttl = float(entry.flags.get("timeout", 3600.0)) + LEASE_MARGIN
            live = lease.mtime is None or lease.mtime + ttl > now
        states[entry.id] = "running" if live else "pending"
    return StudyStatus(states, {job: [key for _, _, key in keys] for job, keys in done.items()})


@dataclass(frozen=True)
class RerunReport:
    """The jobs made pending again, and what running them did (when asked to run them)."""

    cleared: list[str]
    selected: list[str]
    ran: ShardReport | None = None


def _clear(fs: FileSystem, entry: JobEntry, done_keys: list[str]) -> None:
    """Delete a job's result: its done-index keys, then its done-marker, then the rest, in that order,
    so it never looks done while half deleted."""
    for key in done_keys:
        fs.remove(key)
    paths = [info.path for info in fs.list_files(entry.result_dir)]
    marker = f"{entry.result_dir}/{STATUS_FILENAME}"
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
    status = study_status(study.fs, list(entries.values()))
    cleared = status.jobs("failed") if failed else []
    selected = sorted(cleared + (status.jobs("pending") if missing else []))
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda job: _clear(study.fs, entries[job], status.done_keys[job]), cleared))
    report = None
    if run and selected:
        todo = [entries[job] for job in selected]
        report = run_entries(study.fs, study.info, todo, max_workers=max_workers)
    return RerunReport(cleared, selected, report)
