"""Where runs and studies live: the local disk, S3 and S3-compatible stores, any fsspec store."""

from typing import TYPE_CHECKING

from epcloud._lazy import lazy_exports
from epcloud.storage.base import AsyncFileSystem, AsyncFileSystemBase, FileInfo, FileSystem, FileSystemBase
from epcloud.storage.paths import normalize_path

if TYPE_CHECKING:
    from epcloud.storage.fsspec_adapter import FsspecFileSystem
    from epcloud.storage.local import AsyncLocalFileSystem, LocalFileSystem
    from epcloud.storage.s3 import S3FileSystem
    from epcloud.storage.s3_async import AsyncS3FileSystem
    from epcloud.storage.threaded import ThreadedAsyncFileSystem
    from epcloud.storage.urls import open_async_fs, open_fs

# Backends load on first use: reading a local run needs neither the S3 nor the fsspec modules.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "FsspecFileSystem": "epcloud.storage.fsspec_adapter",
        "AsyncLocalFileSystem": "epcloud.storage.local",
        "LocalFileSystem": "epcloud.storage.local",
        "S3FileSystem": "epcloud.storage.s3",
        "AsyncS3FileSystem": "epcloud.storage.s3_async",
        "ThreadedAsyncFileSystem": "epcloud.storage.threaded",
        "open_async_fs": "epcloud.storage.urls",
        "open_fs": "epcloud.storage.urls",
    },
    globals(),
)

__all__ = [
    "AsyncFileSystem",
    "AsyncFileSystemBase",
    "AsyncLocalFileSystem",
    "AsyncS3FileSystem",
    "FileInfo",
    "FileSystem",
    "FileSystemBase",
    "FsspecFileSystem",
    "LocalFileSystem",
    "S3FileSystem",
    "ThreadedAsyncFileSystem",
    "normalize_path",
    "open_async_fs",
    "open_fs",
]
