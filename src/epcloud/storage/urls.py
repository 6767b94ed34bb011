"""Open a store from a URL: `s3://bucket/prefix`, `file:///path` or a plain path, any fsspec URL."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from epcloud.errors import StoragePathError
from epcloud.storage.base import FileSystem
from epcloud.storage.fsspec_adapter import FsspecFileSystem
from epcloud.storage.local import AsyncLocalFileSystem, LocalFileSystem
from epcloud.storage.s3 import S3FileSystem
from epcloud.storage.s3_async import AsyncS3FileSystem
from epcloud.storage.threaded import ThreadedAsyncFileSystem


def _parse(url: str | os.PathLike[str]) -> tuple[str, str, str]:
    """(kind, location, rest): ("s3", bucket, prefix), ("local", folder, ""), or ("fsspec", url, "")."""
    text = os.fspath(url)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme == "s3":
        if not parts.netloc:
            raise StoragePathError(f"{text!r} names no bucket: write s3://bucket/prefix")
        return "s3", parts.netloc, parts.path.lstrip("/")
    if scheme == "file":
        return "local", url2pathname(parts.path), ""
    if len(scheme) <= 1:  # a plain path; one letter is a Windows drive ("C:\\runs")
        return "local", text, ""
    return "fsspec", text, ""


def _no_options(kind: str, options: dict[str, Any]) -> None:
    if options:
        raise TypeError(f"a {kind} store takes no options, got {sorted(options)}")


def open_fs(url: str | os.PathLike[str], **options: Any) -> FileSystem:
    """The store a URL names; `options` go to S3FileSystem or to the fsspec store.

    `s3://bucket/prefix` → S3FileSystem, `file:///path` or a plain path → LocalFileSystem rooted
    there, any other scheme (`memory://`, `gs://`, `az://`...) → FsspecFileSystem (needs fsspec).
    """
    kind, location, rest = _parse(url)
    if kind == "s3":
        return S3FileSystem(location, rest, **options)
    if kind == "local":
        _no_options("local", options)
        return LocalFileSystem(location)
    return FsspecFileSystem(location, **options)


def open_async_fs(
    url: str | os.PathLike[str], **options: Any
) -> AsyncS3FileSystem | AsyncLocalFileSystem | ThreadedAsyncFileSystem:
    """open_fs for async code; use the result as `async with open_async_fs(url) as fs:`."""
    kind, location, rest = _parse(url)
    if kind == "s3":
        return AsyncS3FileSystem(location, rest, **options)
    if kind == "local":
        _no_options("local", options)
        return AsyncLocalFileSystem(location)
    return ThreadedAsyncFileSystem(FsspecFileSystem(location, **options))
