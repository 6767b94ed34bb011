"""Stealing: after its own shard, a worker runs the pending jobs of dead shards (no live lease), each job
claimed first with an S3 conditional write (``If-None-Match: *``, or ``If-Match`` on an expired lease).

A shard whose worker is alive is left alone. A job claimed by two stealers is run by one: the second
claim fails with 412. A dead shard's worker restarted meanwhile may run a stolen job again; the inputs
are the same and the done-marker is written last, so that costs compute, never correctness.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from epcloud.errors import StorageNotFoundError, StoragePreconditionError
from epcloud.study import layout
from epcloud.study.manifest import JobEntry, StudyInfo, read_shard
from epcloud.study.worker import ShardReport, lease_text, run_entries, worker_name

if TYPE_CHECKING:
    from epcloud.run.prepare import EngineInput
    from epcloud.storage import FileSystem

__all__ = ["claim", "steal_pending"]

log = logging.getLogger(__name__)


def _expired(text: str, now: datetime) -> bool:
    try:
        return datetime.fromisoformat(json.loads(text)["expires_at"]) <= now
    except (ValueError, KeyError, TypeError):
        return True  # an unreadable lease protects nothing


def claim(fs: FileSystem, entry: JobEntry, worker: str) -> bool:
    """Take the lease of a job: create it if absent, or replace it if expired; False if another holds it."""
    path = layout.lease_path(entry.id)
    body = lease_text(entry, worker).encode()
    try:
        fs.write_bytes(path, body, if_none_match=True)
        return True
    except StoragePreconditionError:
        pass
    try:
        version = fs.stat(path).version  # before the read: a replacement in between fails if_match
        current = fs.read_text(path)
    except StorageNotFoundError:
        return False  # it went away just now: leave the job to the next round
    if not _expired(current, datetime.now(timezone.utc)):
        return False
    try:
        fs.write_bytes(path, body, if_match=version)
        return True
    except (StoragePreconditionError, StorageNotFoundError):
        return False  # another stealer replaced it first


def _shard_size(info: StudyInfo, shard: int) -> int:
    """Jobs in a shard: create deals them round-robin."""
    return info.job_count // info.shard_count + (1 if shard < info.job_count % info.shard_count else 0)


def _orphans(fs: FileSystem, info: StudyInfo, skip: set[int]) -> list[JobEntry]:
    """Pending jobs of incomplete shards that no live lease shows a worker for."""
    done: dict[int, set[str]] = {}
    for item in fs.list_files(layout.DONE):
        parts = layout.split_done_path(item.path)
        if parts is not None:
            done.setdefault(parts[0], set()).add(parts[1])
    leases = {item.path for item in fs.list_files(layout.LEASES)}
    now = datetime.now(timezone.utc)
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
            if path in leases:
                try:
                    alive = alive or not _expired(fs.read_text(path), now)
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
) -> ShardReport:
    """Run the orphaned jobs of dead shards, a round of claims at a time, until none is left."""
    worker = worker_name()
    totals = {"succeeded": 0, "failed": 0}
    while not (stop is not None and stop.is_set()):
        orphans = _orphans(fs, info, set(own))
        claimed = [entry for entry in orphans[: max(1, (max_workers or 4) * 2)] if claim(fs, entry, worker)]
        if not orphans:
            break
        if not claimed:
            continue
        log.info("stole %d jobs of shards %s", len(claimed), sorted({e.shard for e in claimed}))
        report = run_entries(fs, info, claimed, max_workers=max_workers, energyplus=energyplus, stop=stop)
        totals["succeeded"] += report.succeeded
        totals["failed"] += report.failed
    return ShardReport((), succeeded=totals["succeeded"], failed=totals["failed"])
