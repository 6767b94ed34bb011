"""Where a run's files are: a local folder, or a folder in a store fetched on demand into a local cache.

A remote run is opened with one GET of its status file, whose digest names this version of the run and
which records the size of every output: an output is then downloaded with one GET, the first time it is
needed, into a cache keyed by location and that digest, so a second open — in this process or another —
reuses it. Files the status does not record are found through one listing (names, sizes, ETags).
"""

from __future__ import annotations

import asyncio
import builtins
import hashlib
import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from epcloud.cachedir import cache_dir
from epcloud.errors import ResultNotFoundError, StorageNotFoundError
from epcloud.rundir.compression import GZ, gunzip_to
from epcloud.rundir.run_status import STATUS_FILENAME, RunStatus
from epcloud.storage.localio import write_atomically

if TYPE_CHECKING:
    from epcloud.storage import AsyncFileSystem, FileInfo, FileSystem

__all__ = ["AsyncRemoteRunFiles", "LocalRunFiles", "RemoteRunFiles", "RunFiles", "cache_root"]


def cache_root() -> Path:
    """The local cache of outputs fetched from stores: the ``results`` folder of epcloud's cache."""
    return cache_dir("results")


def _cache_slot(identity: str, name: str, area: str = "") -> Path:
    """Where the cache keeps file ``name`` of the thing ``identity`` describes (location and version)."""
    digest = hashlib.sha256(identity.encode()).hexdigest()[:40]
    return cache_root() / area / digest[:2] / digest / name


def _forms(name: str) -> tuple[str, ...]:
    """The names an output may be stored under: itself, or gzip'd (``NAME.gz``)."""
    return (name,) if name.endswith(GZ) else (name, name + GZ)


class RunFiles(Protocol):
    """The files of one run, wherever they are."""

    location: str

    def names(self) -> list[str]: ...

    def local(self, name: str) -> Path | None:
        """A local path of the file (fetched first if remote), None if the run has no such file."""
        ...

    def download(self, local_dir: Path) -> list[Path]: ...


class LocalRunFiles:
    """A run folder on this machine."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.location = str(run_dir)

    def names(self) -> list[str]:
        return sorted(entry.name for entry in os.scandir(self.run_dir) if entry.is_file())

    def read_status(self) -> RunStatus | None:
        path = self.run_dir / STATUS_FILENAME
        return RunStatus.from_json(path.read_text("utf-8"), str(path)) if path.is_file() else None

    def local(self, name: str) -> Path | None:
        path = self.run_dir / name
        if path.is_file():
            return path
        packed = self.run_dir / (name + GZ)
        if name.endswith(GZ) or not packed.is_file():
            return None
        st = packed.stat()  # unpacked into the cache, not into the run folder
        identity = f"{packed.resolve()}\n{st.st_size}\n{st.st_mtime_ns}"
        return gunzip_to(packed, _cache_slot(identity, name, area="unpacked"))

    def download(self, local_dir: Path) -> list[Path]:
        local_dir.mkdir(parents=True, exist_ok=True)
        names = self.names()
        for name in names:
            shutil.copy2(self.run_dir / name, local_dir / name)
        return unpack_all(local_dir, names)


# Files up to this size come in one GET (their size is known from the listing); larger ones go through
# the store's managed download (parallel ranged GETs), which costs a HEAD and a transfer pool per file.
_SINGLE_GET_BYTES = 8 * 1024 * 1024


def unpack_all(local_dir: Path, names: list[str]) -> list[Path]:
    """Unpack the gzip'd files among ``names`` in ``local_dir`` (removing the ``.gz``); the plain paths."""
    paths = []
    for name in names:
        path = local_dir / name
        if name.endswith(GZ):
            path = gunzip_to(path, local_dir / name[: -len(GZ)])
            (local_dir / name).unlink()
        paths.append(path)
    return paths


def _write_bytes(target: Path, data: bytes) -> None:
    write_atomically(target, lambda tmp: Path(tmp).write_bytes(data))


def _join(folder: str, name: str) -> str:
    return f"{folder.rstrip('/')}/{name}" if folder else name


class _RemoteListing:
    """What sync and async remote runs share: the status digest, the listing, the cache layout."""

    files: dict[str, FileInfo]

    def __init__(self, url: str, folder: str) -> None:
        self.location = url
        self.folder = folder
        self._run_tag: str | None = None
        self._sizes: dict[str, int] = {}
        self._absent: set[str] = set()  # recorded by the status, but not in the store (see `upload=`)

    def adopt_status(self, data: bytes) -> RunStatus:
        """Parse the run's status; its digest then stands for the version of every output it records."""
        text = data.decode("utf-8", errors="replace")
        status = RunStatus.from_json(text, _join(self.location, STATUS_FILENAME))
        self._run_tag = hashlib.sha256(data).hexdigest()
        self._sizes = {name: int(size) for name, size in status.outputs.items() if name != STATUS_FILENAME}
        return status

    def _index(self, listing: list[FileInfo]) -> dict[str, FileInfo]:
        prefix = self.folder.rstrip("/") + "/" if self.folder else ""
        files = {info.path[len(prefix) :]: info for info in listing}
        files = {name: info for name, info in files.items() if "/" not in name}
        if not files:
            raise ResultNotFoundError(f"no run at {self.location}: the folder is empty or absent")
        return files

    def names(self) -> list[str]:
        return sorted(self.files)

    def recorded_as(self, name: str) -> str | None:
        """The name the status records the output under: itself, or gzip'd (``NAME.gz``)."""
        return next((form for form in _forms(name) if self.recorded(form)), None)

    def listed_as(self, name: str) -> str | None:
        """The name the listing shows the output under: itself, or gzip'd (``NAME.gz``)."""
        return next((form for form in _forms(name) if form in self.files), None)

    def stored_target(self, name: str, stored: str) -> tuple[Path, Path]:
        """Where the stored file goes in the cache, and the plain file the reader gets."""
        target = self.cached_path(stored)
        return target, target.with_name(name)

    def recorded(self, name: str) -> bool:
        """Whether the status records this output, so it is fetched without a listing."""
        return self._run_tag is not None and name in self._sizes and name not in self._absent

    def size(self, name: str) -> int:
        return self._sizes[name] if self.recorded(name) else self.files[name].size

    def cached_path(self, name: str) -> Path:
        version = f"run {self._run_tag}" if self.recorded(name) else self.files[name].version
        return _cache_slot(f"{self.location}\n{name}\n{version}", name)


class RemoteRunFiles(_RemoteListing):
    """A run folder in a store, listed on first use; each file fetched once into the local cache."""

    def __init__(self, fs: FileSystem, folder: str) -> None:
        super().__init__(fs.url(folder), folder)
        self.fs = fs
        self._lock = threading.Lock()

    @cached_property
    def files(self) -> dict[str, FileInfo]:  # type: ignore[override]
        return self._index(self.fs.list_files(self.folder))

    def read_status(self) -> RunStatus | None:
        try:
            data = self.fs.read_bytes(_join(self.folder, STATUS_FILENAME))
        except StorageNotFoundError:
            return None
        return self.adopt_status(data)

    def local(self, name: str) -> Path | None:
        if name in self._absent:
            return None
        stored = self.recorded_as(name) or self.listed_as(name)
        if stored is None:
            return None
        target, plain = self.stored_target(name, stored)
        with self._lock:
            if plain.is_file():
                return plain
            try:
                self._get(stored, target)
            except StorageNotFoundError:
                if not self.recorded(stored):
                    raise
                self._absent.update((name, stored))  # the run made it, but it was not uploaded (`upload=`)
                return None
            if stored != name:
                gunzip_to(target, plain)
                target.unlink()
        return plain

    def _get(self, name: str, target: Path) -> None:
        path = _join(self.folder, name)
        if self.size(name) <= _SINGLE_GET_BYTES:
            _write_bytes(target, self.fs.read_bytes(path))
        else:
            self.fs.download_file(path, target)

    def download(self, local_dir: Path, max_workers: int = 8) -> list[Path]:
        """Every file of the run into ``local_dir``: one listing, parallel GETs."""
        names = self.names()
        with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(names)))) as pool:
            list(pool.map(lambda n: self._get(n, local_dir / n), names))
        return unpack_all(local_dir, names)


class AsyncRemoteRunFiles(_RemoteListing):
    """The async twin: listed and fetched with `await`; `local()` returns only what is already here."""

    def __init__(self, fs: AsyncFileSystem, folder: str) -> None:
        super().__init__(fs.url(folder), folder)
        self.fs = fs
        self._listing: dict[str, FileInfo] | None = None
        self._lock = asyncio.Lock()

    @property
    def files(self) -> dict[str, FileInfo]:  # type: ignore[override]
        if self._listing is None:
            raise RuntimeError(f"{self.location} is not listed yet: await result.async_fetch() first")
        return self._listing

    async def list(self) -> None:
        if self._listing is None:
            self._listing = self._index(await self.fs.list_files(self.folder))

    async def read_status(self) -> RunStatus | None:
        try:
            data = await self.fs.read_bytes(_join(self.folder, STATUS_FILENAME))
        except StorageNotFoundError:
            return None
        return self.adopt_status(data)

    def local(self, name: str) -> Path | None:
        if name in self._absent:
            return None
        stored = self.recorded_as(name) or self.listed_as(name)
        if stored is None:
            return None
        plain = self.stored_target(name, stored)[1]
        if not plain.is_file():
            raise RuntimeError(
                f"{name} of {self.location} is not fetched yet: await result.async_fetch() first, "
                "or use the async form (await result.async_sql(), async_errors(), async_eso(), ...)"
            )
        return plain

    async def fetch(self, name: str) -> Path | None:
        if name in self._absent:
            return None
        stored = self.recorded_as(name)
        if stored is None:
            await self.list()
            stored = self.listed_as(name)
            if stored is None:
                return None
        target, plain = self.stored_target(name, stored)
        async with self._lock:
            if plain.is_file():
                return plain
            try:
                await self._get(stored, target)
            except StorageNotFoundError:
                if not self.recorded(stored):
                    raise
                self._absent.update((name, stored))
                return None
            if stored != name:
                await asyncio.to_thread(gunzip_to, target, plain)
                target.unlink()
        return plain

    async def _get(self, name: str, target: Path) -> None:
        path = _join(self.folder, name)
        if self.size(name) <= _SINGLE_GET_BYTES:
            data = await self.fs.read_bytes(path)
            await asyncio.to_thread(_write_bytes, target, data)
        else:
            await self.fs.download_file(path, target)

    def download(self, local_dir: Path) -> builtins.list[Path]:
        raise RuntimeError("use `await result.async_download(local_dir)` for a run opened asynchronously")

    async def async_download(self, local_dir: Path, max_workers: int = 8) -> builtins.list[Path]:
        await self.list()
        gate = asyncio.Semaphore(max_workers)

        async def one(name: str) -> Path:
            async with gate:
                await self._get(name, local_dir / name)
            return local_dir / name

        names = self.names()
        await asyncio.gather(*(one(n) for n in names))
        return await asyncio.to_thread(unpack_all, local_dir, names)
