"""Stealing: after its own shard, a worker runs the pending jobs of dead shards (no live lease), each job
claimed first with a conditional write (created if absent, or replacing a stale lease it read).

A shard whose worker is alive (a lease renewed within `STALE_BEATS` heartbeats) is left alone. A job
claimed by two stealers is run by one: the second claim fails. Each attempt writes under its own key and
the done-marker is created once, so even a worker taken for dead that finishes after all cannot replace
or delete the committed result (see docs/reliability.md).
"""

from __future__ import annotations

import logging
import random
import threading
from typing import TYPE_CHECKING

from epcloud.errors import StorageNotFoundError
from epcloud.study import layout
from epcloud.study.leases import claim as _claim_lease
from epcloud.study.leases import lease_is_stale
from epcloud.study.manifest import JobEntry, StudyInfo, read_shard
from epcloud.study.worker import ShardReport, run_entries

if TYPE_CHECKING:
    from epcloud.run.prepare import EngineInput
    from epcloud.storage import FileSystem

__all__ = ["claim", "steal_pending"]

log = logging.getLogger(__name__)


def claim(fs: FileSystem, entry: JobEntry, worker: str) -> bool:
    """Take the lease of a job: create it if absent, or replace it if stale; False if another holds it."""
    return _claim_lease(fs, entry, worker) is not None


def _shard_size(info: StudyInfo, shard: int) -> int:
    """Jobs in a shard: create deals them round-robin."""
    return info.job_count // info.shard_count + (1 if shard < info.job_count % info.shard_count else 0)


def _orphans(fs: FileSystem, info: StudyInfo, skip: set[int]) -> list[JobEntry]:
    """Pending jobs of incomplete shards that no live lease shows a worker for."""
    done: dict[int, set[str]] = {}
    for job, key in layout.newest_done(fs.list_files(layout.DONE))[0].items():
        done.setdefault(key.shard, set()).add(job)
    leases = {item.path for item in fs.list_files(layout.LEASES)}
    found: list[JobEntry] = []
    shards = [
        s for s in range(info.shard_count) if s not in skip and len(done.get(s, ())) < _shard_size(info, s)
    ]
    random.shuffle(shards)  # stealers spread over the dead shards instead of all taking the first
    for shard in shards:
        entries = [e for e in read_shard(fs, shard) if e.id not in done.get(shard, set())]
        alive = False
        for entry in entries:
            path = layout.lease_path(entry.id)
            if path in leases and not alive:
                try:
                    alive = not lease_is_stale(fs.read_bytes(path))
                except StorageNotFoundError:
                    continue
        if not alive:
            found.extend(entries)
    return found


def steal_pending(
    fs: FileSystem,
    info: StudyInfo,
    *,
    own: tuple[int, ...],
    max_workers: int | None,
    energyplus: EngineInput = None,
    stop: threading.Event | None = None,
    heartbeat: float | None = None,
) -> ShardReport:
    """Run the orphaned jobs of dead shards, a round of claims at a time, until none is left."""
    totals = {"succeeded": 0, "failed": 0}
    while not (stop is not None and stop.is_set()):
        orphans = _orphans(fs, info, set(own))
        if not orphans:
            break
        batch = orphans[: max(1, (max_workers or 4) * 2)]
        log.info("stealing up to %d jobs of shards %s", len(batch), sorted({e.shard for e in batch}))
        report = run_entries(
            fs,
            info,
            batch,
            max_workers=max_workers,
            energyplus=energyplus,
            stop=stop,
            wait_for_held=False,
            heartbeat=heartbeat,
        )
        totals["succeeded"] += report.succeeded
        totals["failed"] += report.failed
    return ShardReport((), succeeded=totals["succeeded"], failed=totals["failed"])
