"""Helpers of the storage tests (importable from test modules, unlike conftest)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any

from epcloud.errors import StorageNotFoundError
from epcloud.storage import AsyncFileSystemBase, AsyncS3FileSystem, FileInfo, FileSystemBase
from epcloud.storage.paths import StorePath, normalize_path


class Blocking:
    """An async store seen through blocking calls: each coroutine runs on one event loop, opened with
    the store and closed after it, as in an application that keeps one loop."""

    def __init__(self, inner: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.inner = inner
        self.loop = loop
        self.clones: list[Any] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.inner, name)
        if not inspect.iscoroutinefunction(method):
            return method  # type: ignore[no-any-return]

        def call(*args: Any, **kwargs: Any) -> Any:
            args = tuple(arg.inner if isinstance(arg, Blocking) else arg for arg in args)
            return self.loop.run_until_complete(method(*args, **kwargs))

        return call

    def reopened(self, inner: Any) -> Blocking:
        """Another async store (e.g. an unpickled copy) on this loop, opened like this one (and closed
        with it)."""
        if isinstance(inner, AsyncS3FileSystem):
            self.loop.run_until_complete(inner.__aenter__())
            self.clones.append(inner)
        return Blocking(inner, self.loop)


_SHELVES: dict[str, dict[str, tuple[bytes, float]]] = {}
"""The content of every minimal store, by name (so a pickled copy sees the same files)."""


class _Shelf:
    """What the minimal stores share: files in a process-wide dict, paths validated like every store."""

    def __init__(self, name: str) -> None:
        self.name = name
        _SHELVES.setdefault(name, {})

    @property
    def files(self) -> dict[str, tuple[bytes, float]]:
        return _SHELVES[self.name]

    def _read(self, path: StorePath) -> bytes:
        key = normalize_path(path)
        if key not in self.files:
            raise StorageNotFoundError(f"no such file: {self.url(path)}")
        return self.files[key][0]

    def _put(self, path: StorePath, data: bytes) -> None:
        self.files[normalize_path(path)] = (bytes(data), time.time())

    def _stat(self, path: StorePath) -> FileInfo:
        key = normalize_path(path)
        if key not in self.files:
            raise StorageNotFoundError(f"no such file: {self.url(path)}")
        data, mtime = self.files[key]
        return FileInfo(key, len(data), None, mtime)

    def _delete(self, path: StorePath) -> None:
        self.files.pop(normalize_path(path), None)

    def _list(self, path: StorePath) -> list[FileInfo]:
        base = normalize_path(path, allow_root=True)
        below = [key for key in self.files if not base or key.startswith(f"{base}/")]
        return [self._stat(key) for key in sorted(below)]

    def url(self, path: StorePath = "") -> str:
        return f"minimal://{self.name}/{normalize_path(path, allow_root=True)}"


class MinimalFileSystem(_Shelf, FileSystemBase):
    """The fewest methods a store writes; `FileSystemBase` supplies the rest of the contract."""

    def read_bytes(self, path: StorePath) -> bytes:
        return self._read(path)

    def _write(self, path: StorePath, data: bytes) -> None:
        self._put(path, data)

    def stat(self, path: StorePath) -> FileInfo:
        return self._stat(path)

    def remove(self, path: StorePath) -> None:
        self._delete(path)

    def list_files(self, path: StorePath = "") -> list[FileInfo]:
        return self._list(path)


class MinimalAsyncFileSystem(_Shelf, AsyncFileSystemBase):
    """The fewest coroutines an async store writes; `AsyncFileSystemBase` supplies the rest."""

    async def read_bytes(self, path: StorePath) -> bytes:
        return self._read(path)

    async def _write(self, path: StorePath, data: bytes) -> None:
        self._put(path, data)

    async def stat(self, path: StorePath) -> FileInfo:
        return self._stat(path)

    async def remove(self, path: StorePath) -> None:
        self._delete(path)

    async def list_files(self, path: StorePath = "") -> list[FileInfo]:
        return self._list(path)
