"""Amazon S3 and S3-compatible stores as a FileSystem, on boto3 and its managed transfers."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from epcloud.errors import (
    StorageBucketNotFoundError,
    StorageError,
    StorageNotFoundError,
    StoragePathError,
    StoragePermissionError,
)
from epcloud.storage.base import FileInfo, FileSystem, FileSystemBase, LocalPath, probe_name
from epcloud.storage.localio import temporary_beside
from epcloud.storage.paths import StorePath, normalize_path
from epcloud.storage.s3_common import PROBE_RETRY_DELAY, S3Base

logger = logging.getLogger(__name__)

T = TypeVar("T")

_session_lock = threading.Lock()
_session: Any = None
_session_pid: int | None = None
_CHUNK = 1024 * 1024


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

    Thread-safe and picklable: the client is rebuilt lazily in the process that receives it. Its
    connection pool grows with the calls in flight, so a batch's threads never overflow it.
    """

    _sdk = ("boto3", "s3")
    _transient: ClassVar[tuple[str, ...]] = ("_client", "_client_pid", "_lock", "_active", "_pool")

    def _reset_client(self) -> None:
        self._lock = threading.Lock()
        self._client: Any = None
        self._client_pid: int | None = None
        self._active = 0
        self._pool = max(10, self.max_concurrency)

    @property
    def client(self) -> Any:
        """The boto3 S3 client, built on first use, again in a new process or for a wider pool."""
        pid = os.getpid()
        if self._client is None or self._client_pid != pid:
            with self._lock:
                if self._client is None or self._client_pid != pid:
                    self._client = self._new_client()
                    self._client_pid = pid
        return self._client

    def _new_client(self, options: dict[str, Any] | None = None) -> Any:
        from botocore.config import Config

        config = Config(**(options or self._config_options(self._pool)))
        if self._user_config is not None:
            config = config.merge(self._user_config)
        client = _client_from_shared_session(config=config, **self._client_kwargs)
        self._register_deadline(client.meta.events)
        return client

    @contextmanager
    def _in_flight(self, connections: int = 1) -> Iterator[None]:
        """Count the connections a call may hold; widen the pool (a new client) when they exceed it.

        urllib3 warns "Connection pool is full, discarding connection" when more threads use a
        client than its pool holds: the pool follows the concurrency actually in use instead.
        """
        with self._lock:
            self._active += connections
            if self._active > self._pool:
                self._pool = max(self._active, 2 * self._pool)
                self._client = None  # the next `client` is built with the wider pool
                logger.debug("%r: connection pool widened to %d", self, self._pool)
        try:
            yield
        finally:
            with self._lock:
                self._active -= connections

    @contextmanager
    def _call(self, action: str, key: str, connections: int = 1) -> Iterator[None]:
        with self._in_flight(connections), self._translated(action, key):
            yield

    def close(self) -> None:
        """Close the client's connections; the next call builds a new client."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _transfer_config(self) -> Any:
        from boto3.s3.transfer import TransferConfig

        return TransferConfig(
            multipart_threshold=self.multipart_threshold,
            multipart_chunksize=self.multipart_chunksize,
            max_concurrency=self.max_concurrency,
        )

    def _retrying_read(self, action: str, key: str, read: Callable[[], T]) -> T:
        """Run a streaming read, again (bounded, with back-off) when the body is cut mid-way."""
        delays = self._read_delays()
        while True:
            try:
                with self._call(action, key):
                    return read()
            except Exception as exc:
                cause = exc.__cause__ or exc
                if not self._is_stream_error(cause):
                    raise
                delay = next(delays, None)
                if delay is None:
                    raise
                self._read_retry(key, cause, delay)
                time.sleep(delay)

    def read_bytes(self, path: StorePath) -> bytes:
        """The content of the object at `path`; a read cut mid-body is tried again."""
        key = self._key(path)

        def read() -> bytes:
            data: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            return data

        return self._retrying_read("read", key, read)

    def write_bytes(
        self, path: StorePath, data: bytes, *, if_none_match: bool = False, if_match: str | None = None
    ) -> None:
        """Replace the object at `path` with `data` (one PUT, with SSE, storage class and tags).

        `if_none_match=True` creates it only if absent, `if_match=ETAG` replaces only that version;
        S3 decides atomically and a lost condition raises `StoragePreconditionError`. A create that
        meets 412 reads the object back: when the answer to our PUT was lost and a retry (botocore's
        or the HTTP layer's) met the object this call wrote, it is byte-identical and the call
        succeeds. Writers that must tell their creates apart put a token in the data (leases name
        their worker and time).
        """
        key = self._key(path)
        conditions = self._conditions(if_none_match, if_match)
        try:
            with self._in_flight():
                self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=data, **conditions, **self._put_args()
                )
        except Exception as exc:
            if not (conditions and self._is_precondition(exc)):
                with self._translated("write", key):
                    raise
            if not (if_none_match and self._holds(key, data)):
                raise self._precondition_failed(key, if_none_match, if_match) from exc
            logger.info("%s: the lost answer to our create was our own write", self._where(key))
        logger.debug("wrote %s (%d bytes)", self._where(key), len(data))

    def _write(self, path: StorePath, data: bytes) -> None:
        self.write_bytes(path, data)

    def _holds(self, key: str, data: bytes) -> bool:
        """Whether the object `key` now holds exactly `data`."""

        def read() -> bytes:
            current: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            return current

        try:
            return self._retrying_read("read back", key, read) == data
        except StorageNotFoundError:
            return False

    def exists(self, path: StorePath) -> bool:
        """Whether the object exists: False only for a 404 in an existing bucket; 403 raises."""
        key = self._key(path)
        try:
            with self._call("check", key):
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
            with self._call("check the bucket", ""):
                self.client.head_bucket(Bucket=self.bucket)
        except StoragePermissionError:
            pass  # a 403 on the bucket still proves it exists
        except StorageNotFoundError as exc:
            raise self._bucket_missing() from exc
        self._bucket_confirmed = True

    def makedirs(self, path: StorePath, exist_ok: bool = True) -> None:
        """Validate `path`; S3 has no folders, so nothing is created."""
        normalize_path(path, allow_root=True)

    def _managed_copy(self, source: dict[str, str], target: str) -> None:
        with self._call("copy", target):  # one request below the multipart threshold
            self.client.copy(
                source, self.bucket, target, ExtraArgs=self._copy_args(), Config=self._transfer_config()
            )
        logger.debug("copied s3://%s/%s to %s", source["Bucket"], source["Key"], self._where(target))

    def copy(self, src: StorePath, dst: StorePath) -> None:
        """Server-side copy (multipart for large objects) with this store's SSE, class and tags."""
        self._managed_copy({"Bucket": self.bucket, "Key": self._key(src)}, self._key(dst))

    def copy_from(self, source: FileSystem, src: StorePath, dst: StorePath) -> None:
        """Copy `src` of `source` to `dst` here: a managed server-side copy when `source` is an S3
        store on this endpoint (any bucket or prefix), else through a local temporary file."""
        origin = self._copy_source(source, src)
        if origin is None:
            super().copy_from(source, src, dst)
            return
        self._managed_copy(origin, self._key(dst))

    def remove(self, path: StorePath) -> None:
        """Delete the object at `path`; a missing object is not an error."""
        key = self._key(path)
        with self._call("remove", key):
            self.client.delete_object(Bucket=self.bucket, Key=key)
        logger.debug("removed %s", self._where(key))

    def list_files(self, path: StorePath = "") -> list[FileInfo]:
        """Every object below the folder `path`, from one paginated ListObjectsV2 listing."""
        prefix = self._folder_key(path)

        def listing() -> list[FileInfo]:
            found: list[FileInfo] = []
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                found.extend(self._page_files(page))
            return found

        return sorted(self._retrying_read("list", prefix, listing), key=lambda info: info.path)

    def upload_file(self, local_path: LocalPath, path: StorePath) -> None:
        """Upload a local file: one PUT streamed from the file when small, else boto3's managed transfer
        (multipart, parallel). The managed transfer costs a thread pool per file, too much for small ones."""
        key = self._key(path)
        source = os.fspath(local_path)
        small = os.path.getsize(source) < self.multipart_threshold
        with self._call("upload to", key, 1 if small else self.max_concurrency):
            if small:
                with open(source, "rb") as body:
                    self.client.put_object(Bucket=self.bucket, Key=key, Body=body, **self._put_args())
            else:
                self.client.upload_file(
                    source, self.bucket, key, ExtraArgs=self._put_args(), Config=self._transfer_config()
                )
        logger.debug("uploaded %s to %s", local_path, self._where(key))

    def download_file(self, path: StorePath, local_path: LocalPath) -> None:
        """Download to `local_path` (a temporary file beside it, renamed into place): one streamed GET
        when small, else boto3's managed transfer; a download cut mid-body is tried again."""
        key = self._key(path)
        target = Path(local_path)

        def fetch() -> None:
            tmp = temporary_beside(target)
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=key)
                if response["ContentLength"] < self.multipart_threshold:
                    with open(tmp, "wb") as out:
                        for chunk in response["Body"].iter_chunks(_CHUNK):
                            out.write(chunk)
                else:
                    response["Body"].close()
                    self.client.download_file(self.bucket, key, tmp, Config=self._transfer_config())
                os.replace(tmp, target)
            finally:
                Path(tmp).unlink(missing_ok=True)

        self._retrying_read("download", key, fetch)
        logger.debug("downloaded %s to %s", self._where(key), target)

    def stat(self, path: StorePath) -> FileInfo:
        """Size, ETag and last-modified time of the object at `path` (one HEAD)."""
        key = self._key(path)
        with self._call("stat", key):
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        return self._info(key, head["ContentLength"], head.get("ETag"), head.get("LastModified"))

    def _probe_step(self, action: str, key: str, call: Callable[[], object]) -> None:
        """One request of the probe, sent again once after a transient answer (5xx, reset, timeout):
        a missing bucket or a refusal is known at once, a passing hiccup costs no failed start."""
        for attempt in (1, 2):
            try:
                with self._translated(action, key):
                    call()
                return
            except (StorageBucketNotFoundError, StoragePermissionError, StoragePathError):
                raise
            except StorageError:
                if attempt == 2:
                    raise
                time.sleep(PROBE_RETRY_DELAY)

    def check_writable(self) -> None:
        """Prove, before any compute, that the bucket exists and these credentials can write under
        the prefix: a conditional PUT of a small probe object and its DELETE (2 requests), with a
        client of one attempt and short timeouts, so every refusal is known at once; a transient
        answer (5xx, reset, a timeout) is asked once more, so a silent endpoint fails in about 2 s.

        The answer is kept on this instance: a batch of 10,000 runs pays once. Raises
        `StorageBucketNotFoundError`, `StoragePermissionError` (denied write, bad or missing
        credentials) or `StorageConnectionError` (endpoint unreachable).
        """
        if self._writable_checked:
            return
        client = self._new_client(self._probe_options())
        key = self._key(probe_name())  # unique: a retried PUT whose first answer was lost never meets 412

        def put() -> None:
            client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=b"epcloud write probe\n",
                IfNoneMatch="*",
                **self._put_args(),
            )

        self._probe_step("write a probe object to", key, put)
        self._probe_step(
            "delete the probe object", key, lambda: client.delete_object(Bucket=self.bucket, Key=key)
        )
        self._writable_checked = True
        self._bucket_confirmed = True
        logger.debug("%s is writable", self.url())
