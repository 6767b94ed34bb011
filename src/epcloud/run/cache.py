"""`SimulationCache`: finished runs stored by the content of everything that decides their outputs.

The key hashes the prepared model text (Output:SQLite ensured), the weather bytes, the run flags (the
output naming included; not the time limits), the engine version and build, and the bytes of files the
model references (``Schedule:File``). Entries live on any FileSystem, an S3 store included, so workers on
many machines share them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import AsyncIterator, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from epcloud.cachedir import cache_dir
from epcloud.errors import StorageNotFoundError

if TYPE_CHECKING:
    from epcloud.run.prepare import RunPlan
    from epcloud.storage import AsyncFileSystem, FileSystem

__all__ = ["CacheEntry", "SimulationCache", "default_cache_dir", "referenced_files"]

log = logging.getLogger(__name__)

ENTRY_FILE = "entry.json"
KEY_FORMAT = 1
_TRANSFER_WORKERS = 8
# Object types whose file-name field names an input file, and that field's position (0 = the name).
_FILE_FIELDS = {"SCHEDULE:FILE": 2, "SCHEDULE:FILE:SHADING": 0}
_EPJSON_FILE_TYPES = ("Schedule:File", "Schedule:File:Shading")


def default_cache_dir() -> Path:
    """The ``simulations`` folder of epcloud's cache (see `epcloud.cachedir`)."""
    return cache_dir("simulations")


@dataclass(frozen=True)
class CacheEntry:
    """One cached run: its key, the store folder holding its files, their names and total size."""

    key: str
    folder: str
    files: tuple[str, ...]
    size: int
    created_at: str = ""


def _idf_file_names(text: str) -> list[str]:
    """File names in the IDF text's ``Schedule:File`` objects (comments stripped, no full parse)."""
    body = "\n".join(line.split("!", 1)[0] for line in text.splitlines())
    names = []
    for statement in body.split(";"):
        fields = [f.strip() for f in statement.split(",")]
        position = _FILE_FIELDS.get(fields[0].upper())
        if position is not None and len(fields) > position + 1 and fields[position + 1]:
            names.append(fields[position + 1])
    return names


def _epjson_file_names(text: str) -> list[str]:
    data = json.loads(text)
    return [
        str(obj["file_name"])
        for kind in _EPJSON_FILE_TYPES
        for obj in data.get(kind, {}).values()
        if obj.get("file_name")
    ]


def referenced_files(plan: RunPlan) -> list[tuple[str, Path]]:
    """The external files the model reads, as written in the model and resolved next to the model."""
    source = Path(plan.model_source) if plan.model_source else None
    base = source.parent if source is not None and source.is_file() else Path.cwd()
    is_epjson = plan.model_suffix.lower() == ".epjson"
    names = _epjson_file_names(plan.model_text) if is_epjson else _idf_file_names(plan.model_text)
    return [(name, (base / Path(name).expanduser()).resolve()) for name in dict.fromkeys(names)]


def _file_digest(path: Path) -> str | None:
    from epcloud.run.prepare import file_sha256

    return file_sha256(path) if path.is_file() else None


class SimulationCache:
    """Finished runs by content key, in ``cache_dir`` (a local folder, or a folder in ``fs``).

    Writes are atomic per file and an entry's index file is written last, so a reader in another
    process or machine never takes half an entry. Only successful runs are stored.
    """

    def __init__(self, cache_dir: str | os.PathLike[str] | None = None, fs: FileSystem | None = None) -> None:
        from epcloud.storage.paths import normalize_path

        if fs is None:
            from epcloud.storage import LocalFileSystem

            root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
            self.fs: FileSystem = LocalFileSystem(root)
            self.root = ""
        else:
            self.fs = fs
            self.root = normalize_path(cache_dir or "", allow_root=True)
        self._init_locks()

    def _init_locks(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}
        self._async_locks: dict[tuple[int, str], tuple[asyncio.Lock, int]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"fs": self.fs, "root": self.root}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_locks()

    def __repr__(self) -> str:
        return f"SimulationCache({self.fs.url(self.root)!r})"

    # ------------------------------------------------------------ keys

    def key(self, plan: RunPlan) -> str:
        """The content key of a prepared run."""
        opts = plan.options
        payload = {
            "format": KEY_FORMAT,
            "model": plan.model_sha256,
            "model_suffix": plan.model_suffix.lower(),
            "weather": plan.weather_sha256,
            "engine": [plan.engine.version_string, plan.engine.build],
            "flags": {
                "annual": opts.annual,
                "design_day": opts.design_day,
                "expand_objects": plan.needs_expand,
                "readvars": opts.readvars,
                "output_prefix": opts.output_prefix,
                "extra_args": list(opts.extra_args),
                # only when not legacy, so keys of runs cached before the option existed stay valid
                **({"output_suffix": opts.output_suffix} if opts.output_suffix != "L" else {}),
            },
            "files": [[name, _file_digest(path)] for name, path in referenced_files(plan)],
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()

    def _folder(self, key: str) -> str:
        if not re.fullmatch(r"[0-9a-f]{64}", key):
            raise ValueError(f"not a cache key: {key!r}")
        folder = f"{key[:2]}/{key}"
        return f"{self.root}/{folder}" if self.root else folder

    # ------------------------------------------------------------ entries

    def contains(self, key: str) -> bool:
        """Whether a complete entry exists for ``key``."""
        return self.fs.exists(f"{self._folder(key)}/{ENTRY_FILE}")

    __contains__ = contains

    def get(self, key: str) -> CacheEntry | None:
        """The entry for ``key``, or None on a miss."""
        folder = self._folder(key)
        try:
            data = json.loads(self.fs.read_text(f"{folder}/{ENTRY_FILE}"))
        except StorageNotFoundError:
            return None
        return CacheEntry(key, folder, tuple(data["files"]), int(data["size"]), data.get("created_at", ""))

    def put(self, key: str, run_dir: str | os.PathLike[str]) -> CacheEntry:
        """Store every file of a finished run folder under ``key``; the index file goes last."""
        folder = self._folder(key)
        paths = sorted(p for p in Path(run_dir).iterdir() if p.is_file() and not p.name.startswith("."))
        self._parallel(lambda p: self.fs.upload_file(p, f"{folder}/{p.name}"), paths)
        entry = CacheEntry(
            key,
            folder,
            tuple(p.name for p in paths),
            sum(p.stat().st_size for p in paths),
            datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        index = {"files": list(entry.files), "size": entry.size, "created_at": entry.created_at}
        self.fs.write_text(f"{folder}/{ENTRY_FILE}", json.dumps(index, indent=1))
        log.debug("cached %d files under %s", len(paths), self.fs.url(folder))
        return entry

    def fetch(self, entry: CacheEntry, local_dir: Path, names: Iterable[str] | None = None) -> list[Path]:
        """Copy an entry's files (or just ``names``) into the local folder ``local_dir``."""
        local_dir.mkdir(parents=True, exist_ok=True)
        chosen = list(entry.files if names is None else names)
        self._parallel(lambda name: self.fs.download_file(f"{entry.folder}/{name}", local_dir / name), chosen)
        return [local_dir / name for name in chosen]

    def copy_to_store(self, entry: CacheEntry, fs: FileSystem, dest: str, names: list[str]) -> bool:
        """Server-side copy of ``names`` to ``dest`` in ``fs`` when both are on one service.

        Returns False (nothing copied) when the stores differ; the caller then moves the bytes itself.
        The status file, when among ``names``, is copied last: its presence marks the run complete.
        """
        if not fs.shares_service_with(self.fs):
            return False
        first, last = self._copy_order(names)
        self._parallel(lambda name: fs.copy_from(self.fs, f"{entry.folder}/{name}", f"{dest}/{name}"), first)
        for name in last:
            fs.copy_from(self.fs, f"{entry.folder}/{name}", f"{dest}/{name}")
        return True

    async def async_copy_to_store(
        self, entry: CacheEntry, fs: AsyncFileSystem, dest: str, names: list[str]
    ) -> bool:
        """`copy_to_store` into an async store: concurrent server-side copies, the status file last."""
        if not fs.shares_service_with(self.fs):
            return False
        first, last = self._copy_order(names)
        gate = asyncio.Semaphore(_TRANSFER_WORKERS)

        async def one(name: str) -> None:
            async with gate:
                await fs.copy_from(self.fs, f"{entry.folder}/{name}", f"{dest}/{name}")

        await asyncio.gather(*(one(name) for name in first))
        for name in last:
            await one(name)
        return True

    @staticmethod
    def _copy_order(names: list[str]) -> tuple[list[str], list[str]]:
        """The names to copy first (in parallel) and last (the status file, which marks completion)."""
        from epcloud.rundir.run_status import STATUS_FILENAME

        return [n for n in names if n != STATUS_FILENAME], [n for n in names if n == STATUS_FILENAME]

    def _parallel(self, action: Any, items: list[Any]) -> None:
        if len(items) <= 1:
            for item in items:
                action(item)
            return
        with ThreadPoolExecutor(max_workers=min(_TRANSFER_WORKERS, len(items))) as pool:
            list(pool.map(action, items))

    # ------------------------------------------------------------ housekeeping

    def _listing(self) -> list[Any]:
        try:
            return self.fs.list_files(self.root)
        except StorageNotFoundError:
            return []

    def size(self) -> int:
        """Bytes held by the cache."""
        return sum(info.size for info in self._listing())

    def entry_count(self) -> int:
        """Number of complete entries."""
        return sum(1 for info in self._listing() if info.path.endswith(f"/{ENTRY_FILE}"))

    def __len__(self) -> int:
        return self.entry_count()

    def clear(self) -> int:
        """Delete every entry; returns the number of files removed."""
        paths = [info.path for info in self._listing()]
        # index files first, so no reader takes an entry whose files are going
        paths.sort(key=lambda path: not path.endswith(f"/{ENTRY_FILE}"))
        for path in paths:
            self.fs.remove(path)
        return len(paths)

    # ------------------------------------------------------------ one run per key at a time

    @contextlib.contextmanager
    def key_lock(self, key: str) -> Iterator[None]:
        """Hold ``key`` in this process: concurrent misses of one key run the simulation once."""
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)

    @contextlib.asynccontextmanager
    async def async_key_lock(self, key: str) -> AsyncIterator[None]:
        """`key_lock` for coroutines on one event loop."""
        slot = (id(asyncio.get_running_loop()), key)
        lock, users = self._async_locks.get(slot, (asyncio.Lock(), 0))
        self._async_locks[slot] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._async_locks[slot]
            if users == 1:
                del self._async_locks[slot]
            else:
                self._async_locks[slot] = (lock, users - 1)
