"""Any fsspec store (`memory://`, `gs://`, `az://`, ...) as a FileSystem; needs fsspec."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from epcloud.errors import StorageNotFoundError
from epcloud.storage.base import FileInfo, FileSystem, FileSystemBase, LocalPath
from epcloud.storage.localio import os_errors_translated, write_atomically
from epcloud.storage.paths import StorePath, join_path, normalize_path, relative_path

T = TypeVar("T")


def _mtime(info: Mapping[str, Any]) -> float | None:
    """The modification time fsspec implementations report under one of several names."""
    for name in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(name)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, (int, float)):
            return float(value)
    return None


def _file_info(path: str, info: Mapping[str, Any]) -> FileInfo:
    etag = info.get("ETag") or info.get("etag")
    return FileInfo(path, int(info.get("size") or 0), str(etag).strip('"') if etag else None, _mtime(info))


class FsspecFileSystem(FileSystemBase):
    """A FileSystem over the fsspec store a URL names; `storage_options` go to that store."""

    def __init__(self, url: str, **storage_options: Any) -> None:
        try:
            from fsspec.core import url_to_fs
        except ImportError:
            raise ImportError(f"opening {url!r} needs fsspec: pip install 'epcloud[fsspec]'") from None
        try:
            self.fs, root = url_to_fs(url, **storage_options)
        except ImportError as exc:
            raise ImportError(f"fsspec cannot open {url!r}: {exc}") from exc
        self.root: str = root.rstrip("/")

    def __repr__(self) -> str:
        return f"FsspecFileSystem({self.url()!r})"

    def _full(self, path: StorePath, *, folder: bool = False) -> str:
        """The path in fsspec's terms: the URL's root joined with the validated store path."""
        return join_path(self.root, normalize_path(path, allow_root=folder))

    def _with_parent(self, full: str, write: Callable[[], T]) -> T:
        """Run `write`; if the store needs the parent folder to exist first, create it and retry."""
        try:
            return write()
        except FileNotFoundError:
            self.fs.makedirs(posixpath.dirname(full), exist_ok=True)
            return write()

    def read_bytes(self, path: StorePath) -> bytes:
        """The content of the file at `path`."""
        full = self._full(path)
        with os_errors_translated("read", self.url(path)):
            data: bytes = self.fs.cat_file(full)
        return data

    def _write(self, path: StorePath, data: bytes) -> None:
        """Replace the file at `path` with `data` (conditions: FileSystemBase.write_bytes)."""
        full = self._full(path)
        with os_errors_translated("write", self.url(path)):
            self._with_parent(full, lambda: self.fs.pipe_file(full, data))

    def exists(self, path: StorePath) -> bool:
        """Whether a file exists at `path`."""
        full = self._full(path)
        with os_errors_translated("check", self.url(path)):
            return bool(self.fs.isfile(full))

    def makedirs(self, path: StorePath, exist_ok: bool = True) -> None:
        """Create the folder `path` (stores without folders ignore it)."""
        full = self._full(path, folder=True)
        with os_errors_translated("create the folder", self.url(path)):
            self.fs.makedirs(full, exist_ok=exist_ok)

    def copy(self, src: StorePath, dst: StorePath) -> None:
        """Copy a file within the store (server-side where the store can)."""
        source, target = self._full(src), self._full(dst)
        with os_errors_translated("copy", self.url(src)):
            self._with_parent(target, lambda: self.fs.cp_file(source, target))

    def shares_service_with(self, other: object) -> bool:
        """Whether `other` is an fsspec store on the same fsspec filesystem, so copies stay in it."""
        return isinstance(other, FsspecFileSystem) and other.fs is self.fs

    def copy_from(self, source: FileSystem, src: StorePath, dst: StorePath) -> None:
        """Copy `src` of `source` to `dst`: within the fsspec filesystem when shared, else through a
        local temporary file."""
        if not (isinstance(source, FsspecFileSystem) and self.shares_service_with(source)):
            super().copy_from(source, src, dst)
            return
        origin, target = source._full(src), self._full(dst)
        with os_errors_translated("copy", source.url(src)):
            self._with_parent(target, lambda: self.fs.cp_file(origin, target))

    def remove(self, path: StorePath) -> None:
        """Delete the file at `path`; a missing file is not an error."""
        full = self._full(path)
        with os_errors_translated("remove", self.url(path)):
            if self.fs.isfile(full):
                self.fs.rm_file(full)

    def list_files(self, path: StorePath = "") -> list[FileInfo]:
        """Every file below the folder `path`, recursively, sorted by path."""
        base = self._folder(path)
        top = self._full(path, folder=True)
        # Paths come back in the store's own form (memory:// adds a leading "/", for instance).
        listed_top = self.fs._strip_protocol(top).rstrip("/")
        with os_errors_translated("list", self.url(path)):
            found = self.fs.find(top, detail=True)
        return sorted(
            (
                _file_info(join_path(base, relative_path(listed_top, name)), info)
                for name, info in found.items()
                if info.get("type") == "file"
            ),
            key=lambda info: info.path,
        )

    def upload_file(self, local_path: LocalPath, path: StorePath) -> None:
        """Copy a local file into the store at `path`."""
        full = self._full(path)
        with os_errors_translated("upload to", self.url(path)):
            self._with_parent(full, lambda: self.fs.put_file(str(local_path), full))

    def download_file(self, path: StorePath, local_path: LocalPath) -> None:
        """Copy the file at `path` to `local_path`, atomically."""
        full = self._full(path)
        with os_errors_translated("download", self.url(path)):
            write_atomically(Path(local_path), lambda tmp: self.fs.get_file(full, tmp))

    def stat(self, path: StorePath) -> FileInfo:
        """Size, ETag (when the store has one) and modification time of the file at `path`."""
        full = self._full(path)
        with os_errors_translated("stat", self.url(path)):
            info = self.fs.info(full)
        if info.get("type") != "file":
            raise StorageNotFoundError(f"cannot stat {self.url(path)}: it is not a file")
        return _file_info(normalize_path(path), info)

    def url(self, path: StorePath = "") -> str:
        """The fsspec URL of `path`, e.g. `memory://folder/file`."""
        return str(self.fs.unstrip_protocol(self._full(path, folder=True)))
