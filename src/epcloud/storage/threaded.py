"""An AsyncFileSystem that runs a blocking FileSystem's calls in worker threads."""

from __future__ import annotations

import asyncio
from types import TracebackType

from epcloud.storage.base import FileInfo, FileSystem, LocalPath
from epcloud.storage.paths import StorePath


class ThreadedAsyncFileSystem:
    """Wraps a FileSystem so each call runs in `asyncio.to_thread`, keeping the event loop free.

    Also a (no-op) async context manager, so code can `async with` any async store.
    """

    def __init__(self, fs: FileSystem) -> None:
        self.sync = fs

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.sync!r})"

    async def __aenter__(self) -> ThreadedAsyncFileSystem:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    async def read_bytes(self, path: StorePath) -> bytes:
        """The content of the file at `path`."""
        return await asyncio.to_thread(self.sync.read_bytes, path)

    async def write_bytes(self, path: StorePath, data: bytes) -> None:
        """Replace the file at `path` with `data`."""
        await asyncio.to_thread(self.sync.write_bytes, path, data)

    async def read_text(self, path: StorePath, encoding: str = "utf-8") -> str:
        """The content of the file at `path`, decoded."""
        return await asyncio.to_thread(self.sync.read_text, path, encoding)

    async def write_text(self, path: StorePath, text: str, encoding: str = "utf-8") -> None:
        """Replace the file at `path` with `text`, encoded."""
        await asyncio.to_thread(self.sync.write_text, path, text, encoding)

    async def exists(self, path: StorePath) -> bool:
        """Whether a file exists at `path`."""
        return await asyncio.to_thread(self.sync.exists, path)

    async def makedirs(self, path: StorePath, exist_ok: bool = True) -> None:
        """Create the folder `path`."""
        await asyncio.to_thread(self.sync.makedirs, path, exist_ok)

    async def copy(self, src: StorePath, dst: StorePath) -> None:
        """Copy a file within the store."""
        await asyncio.to_thread(self.sync.copy, src, dst)

    async def glob(self, path: StorePath, pattern: str) -> list[str]:
        """Store paths of the files below `path` whose relative path matches `pattern`."""
        return await asyncio.to_thread(self.sync.glob, path, pattern)

    async def remove(self, path: StorePath) -> None:
        """Delete the file at `path`; a missing file is not an error."""
        await asyncio.to_thread(self.sync.remove, path)

    async def list_files(self, path: StorePath = "") -> list[FileInfo]:
        """Every file below the folder `path`, recursively, sorted by path."""
        return await asyncio.to_thread(self.sync.list_files, path)

    async def upload_file(self, local_path: LocalPath, path: StorePath) -> None:
        """Copy a local file into the store at `path`."""
        await asyncio.to_thread(self.sync.upload_file, local_path, path)

    async def download_file(self, path: StorePath, local_path: LocalPath) -> None:
        """Copy the file at `path` to a local file."""
        await asyncio.to_thread(self.sync.download_file, path, local_path)

    async def stat(self, path: StorePath) -> FileInfo:
        """Size, ETag and modification time of the file at `path`."""
        return await asyncio.to_thread(self.sync.stat, path)

    def url(self, path: StorePath = "") -> str:
        """Where `path` lives."""
        return self.sync.url(path)
