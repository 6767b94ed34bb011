"""Leases and conditional writes: who runs a job, renewed by a heartbeat; the one-time done-marker.

A lease is a small JSON object at ``leases/<job>.json``, created only if absent (S3 ``If-None-Match: *``)
and renewed every heartbeat only if unchanged since its holder wrote it (``If-Match`` on its ETag). It is
stale when it was not renewed for `STALE_BEATS` heartbeats, or at once when its holder ran on this
machine and that process is gone. Every conditional write of the worker goes through `create_once` and
`replace_if`, so the stores' own conditional writes replace their bodies in one place.

Each written object carries a random ``token``, so a writer whose answer was lost recognises its own
write when the retry meets "412 Precondition Failed": conditional writes are idempotent for the writer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import tempfile
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from epcloud.errors import StorageNotFoundError, StoragePreconditionError
from epcloud.study import layout
from epcloud.study.owner import ProcessOwner

if TYPE_CHECKING:
    from epcloud.storage import FileSystem
    from epcloud.study.manifest import JobEntry

__all__ = [
    "HEARTBEAT_ENV",
    "STALE_BEATS",
    "Lease",
    "LeaseKeeper",
    "claim",
    "create_once",
    "heartbeat_seconds",
    "lease_is_stale",
    "replace_if",
]

log = logging.getLogger(__name__)

HEARTBEAT_ENV = "EPCLOUD_HEARTBEAT_SECONDS"
"""Environment variable setting the heartbeat interval of leases (seconds; default 30)."""
DEFAULT_HEARTBEAT = 30.0
STALE_BEATS = 4
"""A lease not renewed for this many heartbeats is stale: its holder is taken for dead."""
_LOCK_STRIPES = 256
_THREAD_LOCK = threading.Lock()


def heartbeat_seconds() -> float:
    """The heartbeat interval: `HEARTBEAT_ENV` if set to a positive number, else 30 s."""
    text = os.environ.get(HEARTBEAT_ENV, "").strip()
    try:
        value = float(text) if text else DEFAULT_HEARTBEAT
    except ValueError:
        log.warning("%s=%r is not a number of seconds: using %g", HEARTBEAT_ENV, text, DEFAULT_HEARTBEAT)
        return DEFAULT_HEARTBEAT
    return value if value > 0 else DEFAULT_HEARTBEAT


# --- conditional writes: the one place that talks to the store's conditions --------------------------


def _local_path(fs: FileSystem, path: str) -> Path | None:
    """The file behind ``path`` of a local store (its URL is the absolute path), else None."""
    from epcloud.storage.local import LocalFileSystem

    if isinstance(fs, LocalFileSystem):
        return Path(fs.url(path))
    return None


@contextlib.contextmanager
def _local_lock(target: Path) -> Any:
    """An exclusive lock for one local store file, across processes of this machine (one of a fixed set
    of lock files, so the lock folder stays small however many jobs a study has)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: one process's threads only
        with _THREAD_LOCK:
            yield
        return
    folder = Path(tempfile.gettempdir()) / "epcloud-locks"
    folder.mkdir(exist_ok=True)
    stripe = int(hashlib.sha256(str(target.resolve()).encode()).hexdigest()[:8], 16) % _LOCK_STRIPES
    with (folder / f"{stripe:03d}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def create_once(fs: FileSystem, path: str, data: bytes) -> bool:
    """Write ``path`` only if it does not exist; True if this writer's ``data`` is there now.

    A lost answer is no loss: when the retry of our own write meets "exists", the object read back
    equals ``data`` (which carries a unique token) and the write counts as ours.
    """
    try:
        fs.write_bytes(path, data, if_none_match=True)
        return True
    except StoragePreconditionError:
        return _reads_back(fs, path, data)


def _reads_back(fs: FileSystem, path: str, data: bytes) -> bool:
    try:
        return fs.read_bytes(path) == data
    except StorageNotFoundError:
        return False


def replace_if(fs: FileSystem, path: str, data: bytes, expected: bytes) -> bool:
    """Replace ``path`` with ``data`` only if it still holds ``expected``; True if ``data`` is there now.

    Returns False when the object is gone or holds anything else (another writer took it over).
    """
    local = _local_path(fs, path)
    if local is not None:
        with _local_lock(local):
            try:
                body = local.read_bytes()
            except FileNotFoundError:
                return False
            if body == data:
                return True
            if body != expected:
                return False
            with tempfile.NamedTemporaryFile(dir=local.parent, prefix=".replace-", delete=False) as handle:
                handle.write(data)
            os.replace(handle.name, local)
            return True
    try:
        version = fs.stat(path).version
        body = fs.read_bytes(path)
    except StorageNotFoundError:
        return False
    if body == data:
        return True
    if body != expected:
        return False
    try:  # replaced only if unchanged since the stat (a newer body makes this fail, never overwrites it)
        fs.write_bytes(path, data, if_match=version)
        return True
    except (StoragePreconditionError, StorageNotFoundError):
        return _reads_back(fs, path, data)


def remove_if(fs: FileSystem, path: str, expected: bytes) -> None:
    """Delete ``path`` if it still holds ``expected`` (a lease this worker holds, never another's)."""
    local = _local_path(fs, path)
    if local is not None:
        with _local_lock(local), contextlib.suppress(FileNotFoundError):
            if local.read_bytes() == expected:
                local.unlink()
        return
    try:
        if fs.read_bytes(path) == expected:
            fs.remove(path)
    except StorageNotFoundError:
        return


# --- leases ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lease:
    """What a lease object says: the job, its holder, when it was last renewed and when it goes stale."""

    job: str
    worker: str
    token: str
    renewed_at: datetime
    expires_at: datetime
    owner: ProcessOwner | None

    @classmethod
    def parse(cls, data: bytes | str) -> Lease | None:
        """The lease in ``data``, or None if it cannot be read (an unreadable lease protects nothing)."""
        try:
            doc = json.loads(data)
            stamp = doc.get("renewed_at") or doc.get("started_at") or doc["expires_at"]
            renewed = datetime.fromisoformat(stamp)
            expires = datetime.fromisoformat(doc["expires_at"])
            owner = ProcessOwner.from_dict(doc["owner"]) if doc.get("owner") else None
            return cls(
                str(doc["job"]), str(doc["worker"]), str(doc.get("token", "")), renewed, expires, owner
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def lease_body(entry: JobEntry, worker: str, token: str, started: datetime, beat: float) -> bytes:
    """The lease of ``entry`` as renewed now: stale after `STALE_BEATS` heartbeats of ``beat`` seconds."""
    now = datetime.now(timezone.utc)
    return json.dumps(
        {
            "job": entry.id,
            "worker": worker,
            "token": token,
            "owner": ProcessOwner.current().to_dict(),
            "heartbeat_seconds": beat,
            "started_at": started.isoformat(timespec="milliseconds"),
            "renewed_at": now.isoformat(timespec="milliseconds"),
            "expires_at": (now + timedelta(seconds=beat * STALE_BEATS)).isoformat(timespec="milliseconds"),
        }
    ).encode()


def lease_is_stale(data: bytes | str, now: datetime | None = None) -> bool:
    """True when a lease's holder is taken for dead: not renewed in time, gone from this machine, or the
    lease cannot be read."""
    lease = Lease.parse(data)
    if lease is None:
        return True
    if lease.expires_at <= (now or datetime.now(timezone.utc)):
        return True
    return lease.owner is not None and lease.owner.is_gone()


def claim(fs: FileSystem, entry: JobEntry, worker: str, beat: float | None = None) -> bytes | None:
    """Take the lease of a job: create it if absent, or replace it if stale; its body, or None if a
    live holder has it."""
    path = layout.lease_path(entry.id)
    beat = heartbeat_seconds() if beat is None else beat
    body = lease_body(entry, worker, uuid.uuid4().hex, datetime.now(timezone.utc), beat)
    if create_once(fs, path, body):
        return body
    try:
        current = fs.read_bytes(path)
    except StorageNotFoundError:
        return None  # it went away just now: leave the job to the next round
    if not lease_is_stale(current):
        return None
    lease = Lease.parse(current)
    log.info("job %s: taking over the stale lease of %s", entry.id, lease.worker if lease else "unknown")
    return body if replace_if(fs, path, body, current) else None


class LeaseKeeper:
    """Renews the leases this worker holds every heartbeat, from one thread; tells when one was lost."""

    def __init__(self, fs: FileSystem, beat: float | None = None) -> None:
        self.fs = fs
        self.beat = heartbeat_seconds() if beat is None else beat
        self._held: dict[str, tuple[JobEntry, bytes, datetime]] = {}
        self._lost: set[str] = set()
        self._lock = threading.Lock()
        self._writing: dict[str, threading.Lock] = {}  # per job: a renewal or the release, each in turn
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LeaseKeeper:
        self._thread = threading.Thread(target=self._loop, name="epcloud-heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def claim(self, entry: JobEntry, worker: str) -> bool:
        """Take the job's lease (see `claim`) and keep it renewed; False if a live holder has it."""
        body = claim(self.fs, entry, worker, self.beat)
        if body is None:
            return False
        with self._lock:
            self._held[entry.id] = (entry, body, datetime.now(timezone.utc))
            self._writing.setdefault(entry.id, threading.Lock())
            self._lost.discard(entry.id)
        return True

    def _writer(self, job: str) -> threading.Lock:
        with self._lock:
            return self._writing.setdefault(job, threading.Lock())

    def holds(self, job: str) -> bool:
        """False once a renewal found the lease taken over by another worker."""
        with self._lock:
            return job in self._held and job not in self._lost

    def release(self, job: str, *, committed: bool = False) -> None:
        """Stop renewing the lease and delete it, if it is still this worker's.

        Once this worker has ``committed`` the job, whoever holds its lease can never commit it: the
        lease is deleted without reading it first (one request, not two).
        """
        with self._writer(job):
            with self._lock:
                held = self._held.pop(job, None)
                self._writing.pop(job, None)
            if held is not None:
                with contextlib.suppress(Exception):  # a lease left behind goes stale; never mask it
                    if committed:
                        self.fs.remove(layout.lease_path(job))
                    else:
                        remove_if(self.fs, layout.lease_path(job), held[1])

    def _loop(self) -> None:
        while not self._stop.wait(self.beat):
            with self._lock:
                held = list(self._held.items())
            for job, _ in held:
                with self._writer(job):
                    self._renew(job)

    def _renew(self, job: str) -> None:
        with self._lock:
            if job not in self._held:
                return  # released meanwhile
            entry, body, started = self._held[job]
        doc = json.loads(body)
        renewed = lease_body(entry, doc["worker"], doc["token"], started, self.beat)
        try:
            kept = replace_if(self.fs, layout.lease_path(job), renewed, body)
        except Exception as exc:  # a missed beat is not fatal; STALE_BEATS give room for retries
            log.warning("job %s: lease renewal failed: %s", job, exc)
            return
        with self._lock:
            if kept:
                self._held[job] = (entry, renewed, started)
            else:
                log.warning("job %s: lease taken over by another worker", job)
                self._lost.add(job)


def worker_name() -> str:
    """The name a worker signs its leases with: host and process id."""
    return f"{socket.gethostname()}-{os.getpid()}"
