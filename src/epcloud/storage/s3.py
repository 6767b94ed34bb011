"""Amazon S3 and S3-compatible stores as a FileSystem, on boto3 and its managed transfers."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any, ClassVar

from epcloud.errors import StorageNotFoundError, StoragePermissionError
from epcloud.storage.base import FileInfo, FileSystemBase, LocalPath
from epcloud.storage.paths import StorePath, normalize_path
from epcloud.storage.s3_common import S3Base

logger = logging.getLogger(__name__)

_session_lock = threading.Lock()
_session: Any = None
_session_pid: int | None = None


def _client_from_shared_session(**kwargs: Any) -> Any:
    """A boto3 S3 client from this process's one Session (building a Session reloads the service
    models, the slow part); boto3 Sessions are not thread-safe, so creation is serialised."""
    global _session, _session_pid
    import boto3

    with _session_lock:
        if _session is None or _session_pid != os.getpid():
            _session, _session_pid = boto3.session.Session(), os.getpid()
        return _session.client("s3", **kwargs)


class S3FileSystem(S3Base, FileSystemBase):
    """Files in an S3 bucket below `prefix`, on boto3 (`pip install 'epcloud[s3]'`); arguments: S3Base.

    Thread-safe and picklable: the client is rebuilt lazily in the process that receives it.
    """

    _sdk = ("boto3", "s3")
    _transient: ClassVar[tuple[str, ...]] = ("_client", "_client_pid", "_lock")

    def _reset_client(self) -> None:
        self._lock = threading.Lock()
        self._client: Any = None
        self._client_pid: int | None = None

    @property
    def client(self) -> Any:
        """The boto3 S3 client, built on first use and again in a new process."""
        pid = os.getpid()
        if self._client is None or self._client_pid != pid:
            with self._lock:
                if self._client is None or self._client_pid != pid:
                    self._client = self._new_client()
                    self._client_pid = pid
        return self._client

    def _new_client(self) -> Any:
        from botocore.config import Config

        config = Config(**self._config_options())
        if self._user_config is not None:
            config = config.merge(self._user_config)
        return _client_from_shared_session(config=config, **self._client_kwargs)

    def _transfer_config(self) -> Any:
        from boto3.s3.transfer import TransferConfig

        return TransferConfig(
            multipart_threshold=self.multipart_threshold,
            multipart_chunksize=self.multipart_chunksize,
            max_concurrency=self.max_concurrency,
        )

    def read_bytes(self, path: StorePath) -> bytes:
        """The content of the object at `path`."""
        key = self._key(path)
        with self._translated("read", key):
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
            data: bytes = body.read()
        return data

    def write_bytes(self, path: StorePath, data: bytes) -> None:
        """Replace the object at `path` with `data` (one PUT, with SSE, storage class and tags)."""
        key = self._key(path)
        with self._translated("write", key):
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **self._put_args())
        logger.debug("wrote %s (%d bytes)", self._where(key), len(data))

    def exists(self, path: StorePath) -> bool:
        """Whether the object exists: False only for a 404 in an existing bucket; 403 raises."""
        key = self._key(path)
        try:
            with self._translated("check", key):
                self.client.head_object(Bucket=self.bucket, Key=key)
        except StorageNotFoundError:
            self._confirm_bucket()
            return False
        return True

    def _confirm_bucket(self) -> None:
        """Raise StorageBucketNotFoundError if the bucket is missing (checked once per store)."""
        if self._bucket_confirmed:
            return
        try:
            with self._translated("check the bucket", ""):
                self.client.head_bucket(Bucket=self.bucket)
        except StoragePermissionError:
            pass  # a 403 on the bucket still proves it exists
        except StorageNotFoundError as exc:
            raise self._bucket_missing() from exc
        self._bucket_confirmed = True

    def makedirs(self, path: StorePath, exist_ok: bool = True) -> None:
        """Validate `path`; S3 has no folders, so nothing is created."""
        normalize_path(path, allow_root=True)

    def copy(self, src: StorePath, dst: StorePath) -> None:
        """Server-side copy (multipart for large objects) with this store's SSE, class and tags."""
        source, target = self._key(src), self._key(dst)
        with self._translated("copy", source):
            self.client.copy(
                {"Bucket": self.bucket, "Key": source},
                self.bucket,
                target,
                ExtraArgs=self._copy_args(),
                Config=self._transfer_config(),
            )
        logger.debug("copied %s to %s", self._where(source), self._where(target))

    def shares_service_with(self, other: object) -> bool:
        """Whether `other` is an S3FileSystem on the same endpoint, so `copy_from` it is server-side."""
        return isinstance(other, S3FileSystem) and other.endpoint_url == self.endpoint_url

    def copy_from(self, source: S3FileSystem, src: StorePath, dst: StorePath) -> None:
        """Server-side copy of `src` in `source` (same endpoint, any bucket or prefix) to `dst` here."""
        if not self.shares_service_with(source):
            raise ValueError(f"{source!r} is not on the same S3 endpoint as {self!r}")
        source_key, target = source._key(src), self._key(dst)
        with self._translated("copy", target):
            self.client.copy(
                {"Bucket": source.bucket, "Key": source_key},
                self.bucket,
                target,
                ExtraArgs=self._copy_args(),
                Config=self._transfer_config(),
            )
        logger.debug("copied %s to %s", source._where(source_key), self._where(target))

    def remove(self, path: StorePath) -> None:
        """Delete the object at `path`; a missing object is not an error."""
        key = self._key(path)
        with self._translated("remove", key):
            self.client.delete_object(Bucket=self.bucket, Key=key)
        logger.debug("removed %s", self._where(key))

    def list_files(self, path: StorePath = "") -> list[FileInfo]:
        """Every object below the folder `path`, from one paginated ListObjectsV2 listing."""
        prefix = self._folder_key(path)
        found: list[FileInfo] = []
        with self._translated("list", prefix):
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                found.extend(self._page_files(page))
        return sorted(found, key=lambda info: info.path)

    def upload_file(self, local_path: LocalPath, path: StorePath) -> None:
        """Upload a local file: one PUT streamed from the file when small, else boto3's managed transfer
        (multipart, parallel). The managed transfer costs a thread pool per file, too much for small ones."""
        key = self._key(path)
        source = os.fspath(local_path)
        with self._translated("upload to", key):
            if os.path.getsize(source) < self.multipart_threshold:
                with open(source, "rb") as body:
                    self.client.put_object(Bucket=self.bucket, Key=key, Body=body, **self._put_args())
            else:
                self.client.upload_file(
                    source, self.bucket, key, ExtraArgs=self._put_args(), Config=self._transfer_config()
                )
        logger.debug("uploaded %s to %s", local_path, self._where(key))

    def download_file(self, path: StorePath, local_path: LocalPath) -> None:
        """Download to `local_path` with boto3's managed transfer (written to a temp file, renamed)."""
        key = self._key(path)
        target = Path(local_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with self._translated("download", key):
            self.client.download_file(self.bucket, key, os.fspath(target), Config=self._transfer_config())
        logger.debug("downloaded %s to %s", self._where(key), target)

    def stat(self, path: StorePath) -> FileInfo:
        """Size, ETag and last-modified time of the object at `path` (one HEAD)."""
        key = self._key(path)
        with self._translated("stat", key):
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        return self._info(key, head["ContentLength"], head.get("ETag"), head.get("LastModified"))
