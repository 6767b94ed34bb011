"""The local disk as a store: paths below a root folder (or plain OS paths), atomic writes."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from operator import attrgetter
from pathlib import Path
from stat import S_ISREG

from epcloud.errors import StorageNotFoundError, StoragePathError, StoragePreconditionError
from epcloud.storage.base import FileInfo, FileSystem, FileSystemBase, LocalPath
from epcloud.storage.localio import TMP_SUFFIX, os_errors_translated, temporary_beside, write_atomically
from epcloud.storage.paths import StorePath, normalize_path
from epcloud.storage.threaded import ThreadedAsyncFileSystem

logger = logging.getLogger(__name__)

_by_path = attrgetter("path")
_replace_lock = threading.Lock()
"""Serialises `if_match` replacements in this process (the check and the rename)."""


class LocalFileSystem(FileSystemBase):
    """Files on the local disk: store paths below `root` (which they cannot leave), or OS paths.

    Writes go to a temporary file renamed into place, so readers never see half a file.
    """

    def __init__(self, root: LocalPath | None = None) -> None:
        self.root = None if root is None else Path(root).expanduser().resolve()

    def __repr__(self) -> str:
        return f"LocalFileSystem(root={None if self.root is None else str(self.root)!r})"

    def _folder(self, path: StorePath) -> str:
        if self.root is not None:
            return normalize_path(path, allow_root=True)
        text = os.fspath(path)
        stripped = text.rstrip("/" + os.sep)
        return stripped or text[:1]

    def _resolve(self, path: StorePath, *, folder: bool = False) -> Path:
        """The OS path of a store path; with a root, validated so it stays below the root."""
        if self.root is None:
            if os.fspath(path):
                return Path(path)
            if folder:
                return Path()
            raise StoragePathError("an empty path names no file")
        return self.root / normalize_path(path, allow_root=folder)

    def _store_path(self, path: StorePath) -> str:
        """The path as list_files and stat report it."""
        return self._folder(path) if self.root is not None else os.fspath(path)

    def read_bytes(self, path: StorePath) -> bytes:
        """The content of the file at `path`."""
        target = self._resolve(path)
        with os_errors_translated("read", target):
            return target.read_bytes()

    def write_bytes(
        self, path: StorePath, data: bytes, *, if_none_match: bool = False, if_match: str | None = None
    ) -> None:
        """Replace the file at `path` with `data` atomically, creating folders as needed.

        `if_none_match=True` creates the file only if absent (a hard link of the finished temporary
        file, atomic on the same disk, across processes too). `if_match=` replaces the file only if
        its `FileInfo.version` (size and mtime) is that value: checked and renamed under a lock of
        this process, so two processes replacing one file at once are not excluded.
        """
        target = self._resolve(path)
        if if_none_match:
            self._create(target, data)
        elif if_match is not None:
            with _replace_lock:
                current = self.stat(path).version
                if current != if_match:
                    raise StoragePreconditionError(
                        f"{target} changed: its version is {current!r}, not {if_match!r} (if_match=)"
                    )
                self._write(path, data)
        else:
            self._write(path, data)

    def _write(self, path: StorePath, data: bytes) -> None:
        target = self._resolve(path)
        with os_errors_translated("write", target):
            write_atomically(target, lambda tmp: Path(tmp).write_bytes(data))
        logger.debug("wrote %s (%d bytes)", target, len(data))

    def _create(self, target: Path, data: bytes) -> None:
        """Create `target` with `data` only if it does not exist, atomically."""
        with os_errors_translated("create", target):
            tmp = temporary_beside(target)
            try:
                Path(tmp).write_bytes(data)
                os.link(tmp, target)
            except FileExistsError:
                raise StoragePreconditionError(f"{target} already exists (if_none_match=True)") from None
            finally:
                Path(tmp).unlink(missing_ok=True)
        logger.debug("created %s (%d bytes)", target, len(data))

    def exists(self, path: StorePath) -> bool:
        """Whether a file (not a folder) exists at `path`."""
        target = self._resolve(path)
        with os_errors_translated("check", target):
            return target.is_file()

    def makedirs(self, path: StorePath, exist_ok: bool = True) -> None:
        """Create the folder `path` and its parents."""
        target = self._resolve(path, folder=True)
        with os_errors_translated("create the folder", target):
            target.mkdir(parents=True, exist_ok=exist_ok)

    def copy(self, src: StorePath, dst: StorePath) -> None:
        """Copy the file `src` to `dst` atomically."""
        source, target = self._resolve(src), self._resolve(dst)
        with os_errors_translated("copy", source):
            write_atomically(target, lambda tmp: shutil.copyfile(source, tmp))

    def shares_service_with(self, other: object) -> bool:
        """Whether `other` is on the local disk too, so `copy_from` it is a plain file copy."""
        return isinstance(other, LocalFileSystem)

    def copy_from(self, source: FileSystem, src: StorePath, dst: StorePath) -> None:
        """Copy `src` of `source` to `dst`: a file copy from another local store, else a download."""
        if not isinstance(source, LocalFileSystem):
            super().copy_from(source, src, dst)
            return
        origin, target = source._resolve(src), self._resolve(dst)
        with os_errors_translated("copy", origin):
            write_atomically(target, lambda tmp: shutil.copyfile(origin, tmp))

    def remove(self, path: StorePath) -> None:
        """Delete the file at `path`; a missing file is not an error."""
        target = self._resolve(path)
        with os_errors_translated("remove", target):
            target.unlink(missing_ok=True)

    def list_files(self, path: StorePath = "") -> list[FileInfo]:
        """Every file below the folder `path`, recursively, sorted by path.

        An absent folder lists as empty, as does a folder or file removed while it is listed;
        symbolic links to folders are not followed. One `os.scandir` per folder and string paths
        throughout: a study's done index is 100,000 files.
        """
        top = self._resolve(path, folder=True)
        base = self._folder(path)
        found: list[FileInfo] = []
        pending = [(os.fspath(top), base if not base or base.endswith("/") else f"{base}/")]
        with os_errors_translated("list", top):
            while pending:
                folder, head = pending.pop()
                try:
                    scan = os.scandir(folder)
                except (FileNotFoundError, NotADirectoryError):
                    continue
                with scan:
                    for item in scan:
                        try:
                            if item.is_dir():
                                if not item.is_symlink():
                                    pending.append((item.path, f"{head}{item.name}/"))
                                continue
                            if item.name.endswith(TMP_SUFFIX):
                                continue
                            status = item.stat()
                        except FileNotFoundError:
                            continue
                        found.append(FileInfo(head + item.name, status.st_size, None, status.st_mtime))
        found.sort(key=_by_path)
        return found

    def upload_file(self, local_path: LocalPath, path: StorePath) -> None:
        """Copy a local file into the store at `path`, atomically."""
        target = self._resolve(path)
        with os_errors_translated("upload", local_path):
            write_atomically(target, lambda tmp: shutil.copyfile(local_path, tmp))

    def download_file(self, path: StorePath, local_path: LocalPath) -> None:
        """Copy the file at `path` to `local_path`, atomically, creating its folder."""
        source = self._resolve(path)
        with os_errors_translated("download", source):
            write_atomically(Path(local_path), lambda tmp: shutil.copyfile(source, tmp))

    def stat(self, path: StorePath) -> FileInfo:
        """Size and modification time of the file at `path` (no ETag on a local disk)."""
        target = self._resolve(path)
        with os_errors_translated("stat", target):
            status = target.stat()
        if not S_ISREG(status.st_mode):
            raise StorageNotFoundError(f"cannot stat {target}: it is not a file")
        return FileInfo(self._store_path(path), status.st_size, None, status.st_mtime)

    def url(self, path: StorePath = "") -> str:
        """The absolute local path of `path`."""
        if self.root is None:
            return str(Path(path or ".").absolute())
        return str(self._resolve(path, folder=True))


class AsyncLocalFileSystem(ThreadedAsyncFileSystem):
    """LocalFileSystem for async code: each call runs in a worker thread (asyncio.to_thread)."""

    def __init__(self, root: LocalPath | None = None) -> None:
        local = LocalFileSystem(root)
        super().__init__(local)
        self.root = local.root

    def __repr__(self) -> str:
        return f"AsyncLocalFileSystem(root={None if self.root is None else str(self.root)!r})"
