"""The FileSystem protocols every store implements, and the generic defaults written once for all.

A store implements a handful of primitives (read, write, stat, remove, list, url); `FileSystemBase`
derives the rest (exists, copy, text, glob, uploads and downloads, copies between stores, the write
probe), as fsspec's AbstractFileSystem does. Stores override a default where they can do better
(a server-side copy, a streamed managed transfer, an atomic conditional create).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import tempfile
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Protocol, runtime_checkable

from epcloud.errors import StorageNotFoundError, StoragePreconditionError
from epcloud.storage.localio import write_atomically
from epcloud.storage.paths import StorePath, normalize_path, relative_path

LocalPath = str | os.PathLike[str]
"""A path on the local disk (the other side of an upload or download)."""

PROBE_PREFIX = ".epcloud-write-probe-"
"""Name start of the small file `check_writable` creates and deletes at the top of a store."""


@dataclass(frozen=True)
class FileInfo:
    """One file of a store: its store path, size in bytes, ETag (None locally) and mtime (epoch s)."""

    path: str
    size: int
    etag: str | None = None
    mtime: float | None = None

    @property
    def version(self) -> str:
        """What identifies this content of the file: its ETag, else its size and mtime.

        This is the value `write_bytes(..., if_match=)` compares with.
        """
        return self.etag or f"{self.size}-{self.mtime}"


@runtime_checkable
class FileSystem(Protocol):
    """A store of files addressed by `/`-separated paths: the local disk, S3, or any fsspec store."""

    def read_bytes(self, path: StorePath) -> bytes:
        """The content of the file at `path`."""
        ...

    def write_bytes(
        self, path: StorePath, data: bytes, *, if_none_match: bool = False, if_match: str | None = None
    ) -> None:
        """Replace the file at `path` with `data`, creating folders as needed.

        Args:
            if_none_match: create only: raise `StoragePreconditionError` if the file exists.
            if_match: replace only the content whose `FileInfo.version` is this; else raise
                `StoragePreconditionError`.
        """
        ...

    def read_text(self, path: StorePath, encoding: str = "utf-8") -> str:
        """The content of the file at `path`, decoded."""
        ...

    def write_text(self, path: StorePath, text: str, encoding: str = "utf-8") -> None:
        """Replace the file at `path` with `text`, encoded."""
        ...

    def exists(self, path: StorePath) -> bool:
        """Whether a file exists at `path`; errors other than "not found" raise."""
        ...

    def makedirs(self, path: StorePath, exist_ok: bool = True) -> None:
        """Create the folder `path` (a no-op on object stores, which have no folders)."""
        ...

    def copy(self, src: StorePath, dst: StorePath) -> None:
        """Copy a file within the store (server-side on object stores, multipart when large)."""
        ...

    def copy_from(self, source: FileSystem, src: StorePath, dst: StorePath) -> None:
        """Copy `src` of the store `source` to `dst` here: server-side when both are on one service
        (`shares_service_with`), else through a local temporary file."""
        ...

    def shares_service_with(self, other: object) -> bool:
        """Whether `copy_from(other, ...)` is a server-side copy (same service and endpoint)."""
        ...

    def glob(self, path: StorePath, pattern: str) -> list[str]:
        """Store paths of the files below `path` whose path relative to it matches `pattern`."""
        ...

    def remove(self, path: StorePath) -> None:
        """Delete the file at `path`; a missing file is not an error."""
        ...

    def list_files(self, path: StorePath = "") -> list[FileInfo]:
        """Every file below the folder `path`, recursively, sorted by path."""
        ...

    def upload_file(self, local_path: LocalPath, path: StorePath) -> None:
        """Copy a local file into the store at `path`."""
        ...

    def download_file(self, path: StorePath, local_path: LocalPath) -> None:
        """Copy the file at `path` to a local file, creating its folder; atomic."""
        ...

    def stat(self, path: StorePath) -> FileInfo:
        """Size, ETag and modification time of the file at `path`."""
        ...

    def check_writable(self) -> None:
        """Prove, once per store instance, that the store exists and these credentials can write
        under its prefix (or root folder); raise the specific storage error within seconds if not."""
        ...

    def url(self, path: StorePath = "") -> str:
        """Where `path` lives, for people and logs: `s3://bucket/key` or a local absolute path."""
        ...


@runtime_checkable
class AsyncFileSystem(Protocol):
    """The FileSystem protocol as coroutines (url() and shares_service_with() stay plain methods:
    they do no I/O). `copy_from` accepts a sync or an async source store."""

    async def read_bytes(self, path: StorePath) -> bytes:
        """The content of the file at `path`."""
        ...

    async def write_bytes(
        self, path: StorePath, data: bytes, *, if_none_match: bool = False, if_match: str | None = None
    ) -> None:
        """Replace the file at `path` with `data`; conditions as in `FileSystem.write_bytes`."""
        ...

    async def read_text(self, path: StorePath, encoding: str = "utf-8") -> str:
        """The content of the file at `path`, decoded."""
        ...

    async def write_text(self, path: StorePath, text: str, encoding: str = "utf-8") -> None:
        """Replace the file at `path` with `text`, encoded."""
        ...

    async def exists(self, path: StorePath) -> bool:
        """Whether a file exists at `path`; errors other than "not found" raise."""
        ...

    async def makedirs(self, path: StorePath, exist_ok: bool = True) -> None:
        """Create the folder `path` (a no-op on object stores)."""
        ...

    async def copy(self, src: StorePath, dst: StorePath) -> None:
        """Copy a file within the store (server-side on object stores, multipart when large)."""
        ...

    async def copy_from(self, source: FileSystem | AsyncFileSystem, src: StorePath, dst: StorePath) -> None:
        """Copy `src` of `source` to `dst` here; server-side when both are on one service."""
        ...

    def shares_service_with(self, other: object) -> bool:
        """Whether `copy_from(other, ...)` is a server-side copy."""
        ...

    async def glob(self, path: StorePath, pattern: str) -> list[str]:
        """Store paths of the files below `path` whose path relative to it matches `pattern`."""
        ...

    async def remove(self, path: StorePath) -> None:
        """Delete the file at `path`; a missing file is not an error."""
        ...

    async def list_files(self, path: StorePath = "") -> list[FileInfo]:
        """Every file below the folder `path`, recursively, sorted by path."""
        ...

    async def upload_file(self, local_path: LocalPath, path: StorePath) -> None:
        """Copy a local file into the store at `path`."""
        ...

    async def download_file(self, path: StorePath, local_path: LocalPath) -> None:
        """Copy the file at `path` to a local file; atomic."""
        ...

    async def stat(self, path: StorePath) -> FileInfo:
        """Size, ETag and modification time of the file at `path`."""
        ...

    async def check_writable(self) -> None:
        """`FileSystem.check_writable` for async code."""
        ...

    def url(self, path: StorePath = "") -> str:
        """Where `path` lives, for people and logs."""
        ...


ASYNC_METHODS: tuple[str, ...] = tuple(
    name for name, member in vars(AsyncFileSystem).items() if inspect.iscoroutinefunction(member)
)
"""The coroutine methods of the AsyncFileSystem protocol (what the threaded wrapper forwards)."""

PLAIN_METHODS: tuple[str, ...] = tuple(
    name
    for name, member in vars(AsyncFileSystem).items()
    if inspect.isfunction(member) and not name.startswith("_") and name not in ASYNC_METHODS
)
"""The plain (no I/O) methods of the AsyncFileSystem protocol."""


def match_glob(base: str, files: Iterable[FileInfo], pattern: str) -> list[str]:
    """Paths of `files` whose path relative to the folder `base` matches `pattern` (`*` spans `/`)."""
    return [info.path for info in files if fnmatchcase(relative_path(base, info.path), pattern)]


def probe_name() -> str:
    """A fresh name for a write-probe file (unique, so concurrent probes never collide)."""
    return f"{PROBE_PREFIX}{uuid.uuid4().hex}"


class FileSystemBase(ABC):
    """Generic defaults of a FileSystem, built on the backend's bytes, stat and listing primitives."""

    _writable_checked = False

    @abstractmethod
    def read_bytes(self, path: StorePath) -> bytes: ...

    @abstractmethod
    def _write(self, path: StorePath, data: bytes) -> None:
        """Replace the file at `path` with `data`, unconditionally."""

    @abstractmethod
    def stat(self, path: StorePath) -> FileInfo: ...

    @abstractmethod
    def remove(self, path: StorePath) -> None: ...

    @abstractmethod
    def list_files(self, path: StorePath = "") -> list[FileInfo]: ...

    @abstractmethod
    def url(self, path: StorePath = "") -> str: ...

    def _folder(self, path: StorePath) -> str:
        """The folder `path` as list_files writes it at the head of the paths it returns."""
        return normalize_path(path, allow_root=True)

    def write_bytes(
        self, path: StorePath, data: bytes, *, if_none_match: bool = False, if_match: str | None = None
    ) -> None:
        """Replace the file at `path` with `data`; conditional forms as in `FileSystem.write_bytes`.

        This default checks the condition, then writes: atomic only against writers in this process
        order; stores with real conditional writes (S3, the local disk) override it.
        """
        if if_none_match and self.exists(path):
            raise StoragePreconditionError(f"{self.url(path)} already exists (if_none_match=True)")
        if if_match is not None:
            current = self.stat(path).version
            if current != if_match:
                raise StoragePreconditionError(
                    f"{self.url(path)} changed: its version is {current!r}, not {if_match!r} (if_match=)"
                )
        self._write(path, data)

    def read_text(self, path: StorePath, encoding: str = "utf-8") -> str:
        """The content of the file at `path`, decoded."""
        return self.read_bytes(path).decode(encoding)

    def write_text(self, path: StorePath, text: str, encoding: str = "utf-8") -> None:
        """Replace the file at `path` with `text`, encoded."""
        self.write_bytes(path, text.encode(encoding))

    def exists(self, path: StorePath) -> bool:
        """Whether a file exists at `path` (one stat); errors other than "not found" raise."""
        try:
            self.stat(path)
        except StorageNotFoundError:
            return False
        return True

    def makedirs(self, path: StorePath, exist_ok: bool = True) -> None:
        """Validate `path`; stores without folders create nothing."""
        normalize_path(path, allow_root=True)

    def glob(self, path: StorePath, pattern: str) -> list[str]:
        """Store paths of the files below `path` whose relative path matches `pattern`; one listing."""
        return match_glob(self._folder(path), self.list_files(path), pattern)

    def copy(self, src: StorePath, dst: StorePath) -> None:
        """Copy a file within the store: read it, write it (stores with a native copy override this)."""
        self._write(dst, self.read_bytes(src))

    def shares_service_with(self, other: object) -> bool:
        """Whether `copy_from(other, ...)` copies server-side: by default only from this very store."""
        return other is self

    def copy_from(self, source: FileSystem, src: StorePath, dst: StorePath) -> None:
        """Copy `src` of `source` to `dst` here: `copy` when `source` is this store, else the bytes
        go through a local temporary file (memory stays bounded by the transfer chunk)."""
        if source is self:
            self.copy(src, dst)
            return
        with tempfile.TemporaryDirectory(prefix="epcloud-copy-") as folder:
            local = Path(folder, "file")
            source.download_file(src, local)
            self.upload_file(local, dst)

    def upload_file(self, local_path: LocalPath, path: StorePath) -> None:
        """Copy a local file into the store at `path` (its bytes in one write)."""
        self._write(path, Path(local_path).read_bytes())

    def download_file(self, path: StorePath, local_path: LocalPath) -> None:
        """Copy the file at `path` to `local_path`: written beside it, then renamed into place."""
        data = self.read_bytes(path)
        write_atomically(Path(local_path), lambda tmp: Path(tmp).write_bytes(data))

    def check_writable(self) -> None:
        """Prove the store can be written: create a unique probe file (conditionally) and delete it.

        Two requests, once per store instance (the answer is kept on the instance); raises the
        store's specific error (not found, permission, connection) when it cannot.
        """
        if self._writable_checked:
            return
        name = probe_name()
        self.write_bytes(name, b"epcloud write probe\n", if_none_match=True)
        self.remove(name)
        self._writable_checked = True


class AsyncFileSystemBase(ABC):
    """Generic defaults of an AsyncFileSystem, built on the backend's bytes, stat and listing
    primitives (the async counterpart of `FileSystemBase`, for stores with a native async client)."""

    _writable_checked = False

    @abstractmethod
    async def read_bytes(self, path: StorePath) -> bytes: ...

    @abstractmethod
    async def _write(self, path: StorePath, data: bytes) -> None:
        """Replace the file at `path` with `data`, unconditionally."""

    @abstractmethod
    async def stat(self, path: StorePath) -> FileInfo: ...

    @abstractmethod
    async def remove(self, path: StorePath) -> None: ...

    @abstractmethod
    async def list_files(self, path: StorePath = "") -> list[FileInfo]: ...

    @abstractmethod
    def url(self, path: StorePath = "") -> str: ...

    def _folder(self, path: StorePath) -> str:
        """The folder `path` as list_files writes it at the head of the paths it returns."""
        return normalize_path(path, allow_root=True)

    async def write_bytes(
        self, path: StorePath, data: bytes, *, if_none_match: bool = False, if_match: str | None = None
    ) -> None:
        """Replace the file at `path` with `data`; conditions checked, then written (not atomic:
        stores with real conditional writes override this)."""
        if if_none_match and await self.exists(path):
            raise StoragePreconditionError(f"{self.url(path)} already exists (if_none_match=True)")
        if if_match is not None:
            current = (await self.stat(path)).version
            if current != if_match:
                raise StoragePreconditionError(
                    f"{self.url(path)} changed: its version is {current!r}, not {if_match!r} (if_match=)"
                )
        await self._write(path, data)

    async def read_text(self, path: StorePath, encoding: str = "utf-8") -> str:
        """The content of the file at `path`, decoded."""
        return (await self.read_bytes(path)).decode(encoding)

    async def write_text(self, path: StorePath, text: str, encoding: str = "utf-8") -> None:
        """Replace the file at `path` with `text`, encoded."""
        await self.write_bytes(path, text.encode(encoding))

    async def exists(self, path: StorePath) -> bool:
        """Whether a file exists at `path` (one stat); errors other than "not found" raise."""
        try:
            await self.stat(path)
        except StorageNotFoundError:
            return False
        return True

    async def makedirs(self, path: StorePath, exist_ok: bool = True) -> None:
        """Validate `path`; stores without folders create nothing."""
        normalize_path(path, allow_root=True)

    async def glob(self, path: StorePath, pattern: str) -> list[str]:
        """Store paths of the files below `path` whose relative path matches `pattern`; one listing."""
        return match_glob(self._folder(path), await self.list_files(path), pattern)

    async def copy(self, src: StorePath, dst: StorePath) -> None:
        """Copy a file within the store: read it, write it (stores with a native copy override this)."""
        await self._write(dst, await self.read_bytes(src))

    def shares_service_with(self, other: object) -> bool:
        """Whether `copy_from(other, ...)` copies server-side: by default only from this very store."""
        return other is self

    async def copy_from(self, source: FileSystem | AsyncFileSystem, src: StorePath, dst: StorePath) -> None:
        """Copy `src` of `source` (sync or async) to `dst` here, through a local temporary file."""
        if source is self:
            await self.copy(src, dst)
            return
        folder = await asyncio.to_thread(tempfile.mkdtemp, prefix="epcloud-copy-")
        local = Path(folder, "file")
        try:
            await download_from(source, src, local)
            await self.upload_file(local, dst)
        finally:
            await asyncio.to_thread(_remove_tree, folder)

    async def upload_file(self, local_path: LocalPath, path: StorePath) -> None:
        """Copy a local file into the store at `path` (its bytes in one write)."""
        await self._write(path, await asyncio.to_thread(Path(local_path).read_bytes))

    async def download_file(self, path: StorePath, local_path: LocalPath) -> None:
        """Copy the file at `path` to `local_path`: written beside it, then renamed into place."""
        data = await self.read_bytes(path)
        await asyncio.to_thread(write_atomically, Path(local_path), lambda tmp: Path(tmp).write_bytes(data))

    async def check_writable(self) -> None:
        """`FileSystemBase.check_writable` for async stores: a conditional probe write and a delete."""
        if self._writable_checked:
            return
        name = probe_name()
        await self.write_bytes(name, b"epcloud write probe\n", if_none_match=True)
        await self.remove(name)
        self._writable_checked = True


async def download_from(source: FileSystem | AsyncFileSystem, path: StorePath, local: LocalPath) -> None:
    """`source.download_file(path, local)` for a sync store (in a thread) or an async one."""
    download = source.download_file
    if inspect.iscoroutinefunction(download):
        await download(path, local)
    else:
        await asyncio.to_thread(download, path, local)


def _remove_tree(folder: str) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
