"""Where runs and studies live: the local disk, S3 and S3-compatible stores, any fsspec store."""

from epcloud.storage.base import AsyncFileSystem, AsyncFileSystemBase, FileInfo, FileSystem, FileSystemBase
from epcloud.storage.fsspec_adapter import FsspecFileSystem
from epcloud.storage.local import AsyncLocalFileSystem, LocalFileSystem
from epcloud.storage.paths import normalize_path
from epcloud.storage.s3 import S3FileSystem
from epcloud.storage.s3_async import AsyncS3FileSystem
from epcloud.storage.threaded import ThreadedAsyncFileSystem
from epcloud.storage.urls import open_async_fs, open_fs

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
