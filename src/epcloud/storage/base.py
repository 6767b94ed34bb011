"""The FileSystem protocols every store implements, and the generic helpers written once for all."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Protocol, runtime_checkable

from epcloud.storage.paths import StorePath, normalize_path, relative_path

LocalPath = str | os.PathLike[str]
"""A path on the local disk (the other side of an upload or download)."""


@dataclass(frozen=True)
class FileInfo:
    """One file of a store: its store path, size in bytes, ETag (None locally) and mtime (epoch s)."""

    path: str
    size: int
    etag: str | None = None
    mtime: float | None = None

    @property
    def version(self) -> str:
        """What identifies this content of the file: its ETag, else its size and mtime."""
        return self.etag or f"{self.size}-{self.mtime}"


@runtime_checkable
class FileSystem(Protocol):
    """A store of files addressed by `/`-separated paths: the local disk, S3, or any fsspec store."""

    def read_bytes(self, path: StorePath) -> bytes:
        """The content of the file at `path`."""
        ...

    def write_bytes(self, path: StorePath, data: bytes) -> None:
        """Replace the file at `path` with `data`, creating folders as needed."""
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
        """Copy a file within the store (server-side on object stores)."""
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

    def url(self, path: StorePath = "") -> str:
        """Where `path` lives, for people and logs: `s3://bucket/key` or a local absolute path."""
        ...


@runtime_checkable
class AsyncFileSystem(Protocol):
    """The FileSystem protocol as coroutines (url() stays a plain method: it does no I/O)."""

    async def read_bytes(self, path: StorePath) -> bytes:
        """The content of the file at `path`."""
        ...

    async def write_bytes(self, path: StorePath, data: bytes) -> None:
        """Replace the file at `path` with `data`."""
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
        """Copy a file within the store."""
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

    def url(self, path: StorePath = "") -> str:
        """Where `path` lives, for people and logs."""
        ...


def match_glob(base: str, files: Iterable[FileInfo], pattern: str) -> list[str]:
    """Paths of `files` whose path relative to the folder `base` matches `pattern` (`*` spans `/`)."""
    return [info.path for info in files if fnmatchcase(relative_path(base, info.path), pattern)]


class FileSystemBase(ABC):
    """Generic helpers of a FileSystem, built on the backend's bytes and listing primitives."""

    @abstractmethod
    def read_bytes(self, path: StorePath) -> bytes: ...

    @abstractmethod
    def write_bytes(self, path: StorePath, data: bytes) -> None: ...

    @abstractmethod
    def list_files(self, path: StorePath = "") -> list[FileInfo]: ...

    def _folder(self, path: StorePath) -> str:
        """The folder `path` as list_files writes it at the head of the paths it returns."""
        return normalize_path(path, allow_root=True)

    def read_text(self, path: StorePath, encoding: str = "utf-8") -> str:
        """The content of the file at `path`, decoded."""
        return self.read_bytes(path).decode(encoding)

    def write_text(self, path: StorePath, text: str, encoding: str = "utf-8") -> None:
        """Replace the file at `path` with `text`, encoded."""
        self.write_bytes(path, text.encode(encoding))

    def glob(self, path: StorePath, pattern: str) -> list[str]:
        """Store paths of the files below `path` whose relative path matches `pattern`; one listing."""
        return match_glob(self._folder(path), self.list_files(path), pattern)


class AsyncFileSystemBase(ABC):
    """Generic helpers of an AsyncFileSystem, built on the backend's bytes and listing primitives."""

    @abstractmethod
    async def read_bytes(self, path: StorePath) -> bytes: ...

    @abstractmethod
    async def write_bytes(self, path: StorePath, data: bytes) -> None: ...

    @abstractmethod
    async def list_files(self, path: StorePath = "") -> list[FileInfo]: ...

    def _folder(self, path: StorePath) -> str:
        """The folder `path` as list_files writes it at the head of the paths it returns."""
        return normalize_path(path, allow_root=True)

    async def read_text(self, path: StorePath, encoding: str = "utf-8") -> str:
        """The content of the file at `path`, decoded."""
        return (await self.read_bytes(path)).decode(encoding)

    async def write_text(self, path: StorePath, text: str, encoding: str = "utf-8") -> None:
        """Replace the file at `path` with `text`, encoded."""
        await self.write_bytes(path, text.encode(encoding))

    async def glob(self, path: StorePath, pattern: str) -> list[str]:
        """Store paths of the files below `path` whose relative path matches `pattern`; one listing."""
        return match_glob(self._folder(path), await self.list_files(path), pattern)
