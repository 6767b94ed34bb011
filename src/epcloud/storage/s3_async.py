"""Amazon S3 and S3-compatible stores as an AsyncFileSystem, on aiobotocore."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, TypeVar

from epcloud.errors import StorageNotFoundError, StoragePermissionError
from epcloud.storage.base import (
    AsyncFileSystem,
    AsyncFileSystemBase,
    FileInfo,
    FileSystem,
    LocalPath,
    probe_name,
)
from epcloud.storage.localio import temporary_beside
from epcloud.storage.paths import StorePath, normalize_path
from epcloud.storage.s3_common import MiB, S3Base, shared_loader

logger = logging.getLogger(__name__)

T = TypeVar("T")

_READ_CHUNK = MiB


def _read_part(path: str, offset: int, size: int) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read(size)


class AsyncS3FileSystem(S3Base, AsyncFileSystemBase):
    """S3FileSystem's async twin on aiobotocore (`pip install 'epcloud[async]'`), same arguments.

    Open it as `async with AsyncS3FileSystem("bucket", "prefix") as fs:`, which closes the client.
    """

    _sdk = ("aiobotocore", "async")
    _transient: ClassVar[tuple[str, ...]] = ("_client", "_client_context")

    def _reset_client(self) -> None:
        self._client: Any = None
        self._client_context: Any = None

    async def __aenter__(self) -> AsyncS3FileSystem:

        if self._client is not None:
            raise RuntimeError(f"{self!r} is already open")
        context = self._client_factory(self._config_options())
        self._client = await context.__aenter__()
        self._register_deadline(self._client.meta.events)
        self._client_context = context
        return self

    def _client_factory(self, options: dict[str, Any]) -> Any:
        """An aiobotocore client context (not yet entered) with these Config options."""
        from aiobotocore.config import AioConfig
        from aiobotocore.session import get_session

        config = AioConfig(**options)
        if self._user_config is not None:
            config = config.merge(self._user_config)
        session = get_session()
        session.register_component("data_loader", shared_loader())
        return session.create_client("s3", config=config, **self._client_kwargs)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        context = self._client_context
        self._reset_client()
        if context is not None:
            await context.__aexit__(exc_type, exc, traceback)

    @property
    def client(self) -> Any:
        """The open aiobotocore S3 client."""
        if self._client is None:
            raise RuntimeError(
                f"{self!r} is not open: use `async with AsyncS3FileSystem(...) as fs:` to open it"
            )
        return self._client

    async def _retrying_read(self, action: str, key: str, read: Callable[[], Awaitable[T]]) -> T:
        """Run a streaming read, again (bounded, with back-off) when the body is cut mid-way."""
        delays = self._read_delays()
        while True:
            try:
                with self._translated(action, key):
                    return await read()
            except Exception as exc:
                cause = exc.__cause__ or exc
                if not self._is_stream_error(cause):
                    raise
                delay = next(delays, None)
                if delay is None:
                    raise
                self._read_retry(key, cause, delay)
                await asyncio.sleep(delay)

    async def _get(self, key: str) -> bytes:
        response = await self.client.get_object(Bucket=self.bucket, Key=key)
        async with response["Body"] as body:
            data: bytes = await body.read()
        return data

    async def read_bytes(self, path: StorePath) -> bytes:
        """The content of the object at `path`; a read cut mid-body is tried again."""
        key = self._key(path)
        return await self._retrying_read("read", key, lambda: self._get(key))

    async def write_bytes(
        self, path: StorePath, data: bytes, *, if_none_match: bool = False, if_match: str | None = None
    ) -> None:
        """Replace the object at `path` with `data`; conditions as in `S3FileSystem.write_bytes`
        (a lost answer to our own create is recognised by reading the object back)."""
        key = self._key(path)
        conditions = self._conditions(if_none_match, if_match)
        try:
            await self.client.put_object(
                Bucket=self.bucket, Key=key, Body=data, **conditions, **self._put_args()
            )
        except Exception as exc:
            if not (conditions and self._is_precondition(exc)):
                with self._translated("write", key):
                    raise
            if not (if_none_match and await self._holds(key, data)):
                raise self._precondition_failed(key, if_none_match, if_match) from exc
            logger.info("%s: the lost answer to our create was our own write", self._where(key))
        logger.debug("wrote %s (%d bytes)", self._where(key), len(data))

    async def _holds(self, key: str, data: bytes) -> bool:
        """Whether the object `key` now holds exactly `data`."""
        try:
            return await self._retrying_read("read back", key, lambda: self._get(key)) == data
        except StorageNotFoundError:
            return False

    async def exists(self, path: StorePath) -> bool:
        """Whether the object exists: False only for a 404 in an existing bucket; 403 raises."""
        key = self._key(path)
        try:
            with self._translated("check", key):
                await self.client.head_object(Bucket=self.bucket, Key=key)
        except StorageNotFoundError:
            await self._confirm_bucket()
            return False
        return True

    async def _confirm_bucket(self) -> None:
        """Raise StorageBucketNotFoundError if the bucket is missing (checked once per store)."""
        if self._bucket_confirmed:
            return
        try:
            with self._translated("check the bucket", ""):
                await self.client.head_bucket(Bucket=self.bucket)
        except StoragePermissionError:
            pass  # a 403 on the bucket still proves it exists
        except StorageNotFoundError as exc:
            raise self._bucket_missing() from exc
        self._bucket_confirmed = True

    async def makedirs(self, path: StorePath, exist_ok: bool = True) -> None:
        """Validate `path`; S3 has no folders, so nothing is created."""
        normalize_path(path, allow_root=True)

    async def copy(self, src: StorePath, dst: StorePath) -> None:
        """Server-side copy with this store's SSE, class and tags; multipart (UploadPartCopy) from
        the multipart threshold on, so objects past CopyObject's 5 GB limit copy too."""
        await self._managed_copy({"Bucket": self.bucket, "Key": self._key(src)}, self._key(dst))

    async def copy_from(self, source: FileSystem | AsyncFileSystem, src: StorePath, dst: StorePath) -> None:
        """Copy `src` of `source` (sync or async) to `dst` here: server-side when `source` is an S3
        store on this endpoint, else through a local temporary file."""
        origin = self._copy_source(source, src)
        if origin is None:
            await super().copy_from(source, src, dst)
            return
        await self._managed_copy(origin, self._key(dst))

    async def _managed_copy(self, source: dict[str, str], target: str) -> None:
        """One CopyObject for small objects, else a parallel multipart copy (aborted on failure)."""
        with self._translated("copy", target):
            head = await self.client.head_object(Bucket=source["Bucket"], Key=source["Key"])
            size = int(head["ContentLength"])
            if size < self.multipart_threshold:
                await self.client.copy_object(
                    CopySource=source, Bucket=self.bucket, Key=target, **self._copy_args()
                )
            else:
                await self._multipart(target, size, self._copy_part(source))
        logger.debug("copied s3://%s/%s to %s", source["Bucket"], source["Key"], self._where(target))

    def _copy_part(self, source: dict[str, str]) -> Callable[..., Awaitable[str]]:
        async def copy_part(upload_id: str, target: str, number: int, offset: int, size: int) -> str:
            copied = await self.client.upload_part_copy(
                Bucket=self.bucket,
                Key=target,
                UploadId=upload_id,
                PartNumber=number,
                CopySource=source,
                CopySourceRange=f"bytes={offset}-{offset + size - 1}",
            )
            etag: str = copied["CopyPartResult"]["ETag"]
            return etag

        return copy_part

    async def remove(self, path: StorePath) -> None:
        """Delete the object at `path`; a missing object is not an error."""
        key = self._key(path)
        with self._translated("remove", key):
            await self.client.delete_object(Bucket=self.bucket, Key=key)
        logger.debug("removed %s", self._where(key))

    async def list_files(self, path: StorePath = "") -> list[FileInfo]:
        """Every object below the folder `path`, from one paginated ListObjectsV2 listing."""
        prefix = self._folder_key(path)

        async def listing() -> list[FileInfo]:
            found: list[FileInfo] = []
            paginator = self.client.get_paginator("list_objects_v2")
            async for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                found.extend(self._page_files(page))
            return found

        return sorted(await self._retrying_read("list", prefix, listing), key=lambda info: info.path)

    async def upload_file(self, local_path: LocalPath, path: StorePath) -> None:
        """Upload a local file: one PUT when small, else a parallel multipart upload."""
        key = self._key(path)
        source = os.fspath(local_path)
        size = await asyncio.to_thread(os.path.getsize, source)
        with self._translated("upload to", key):
            if size < self.multipart_threshold:
                data = await asyncio.to_thread(_read_part, source, 0, size)
                await self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **self._put_args())
            else:
                await self._upload_multipart(source, size, key)
        logger.debug("uploaded %s to %s (%d bytes)", source, self._where(key), size)

    async def _upload_multipart(self, source: str, size: int, key: str) -> None:
        """Upload `source` in parts, at most max_concurrency at a time; abort the upload on failure."""

        async def send(upload_id: str, target: str, number: int, offset: int, part: int) -> str:
            data = await asyncio.to_thread(_read_part, source, offset, part)
            sent = await self.client.upload_part(
                Bucket=self.bucket, Key=target, UploadId=upload_id, PartNumber=number, Body=data
            )
            etag: str = sent["ETag"]
            return etag

        await self._multipart(key, size, send)

    async def _multipart(self, key: str, size: int, send: Callable[..., Awaitable[str]]) -> None:
        """A multipart upload of `size` bytes whose parts `send(upload_id, key, number, offset, size)`
        writes, at most max_concurrency at a time; the upload is aborted on any failure."""
        created = await self.client.create_multipart_upload(Bucket=self.bucket, Key=key, **self._put_args())
        upload_id = created["UploadId"]
        part_size = self._part_size(size)
        gate = asyncio.Semaphore(self.max_concurrency)

        async def one(number: int, offset: int) -> dict[str, Any]:
            async with gate:
                etag = await send(upload_id, key, number, offset, min(part_size, size - offset))
            return {"PartNumber": number, "ETag": etag}

        tasks = [
            asyncio.ensure_future(one(number, offset))
            for number, offset in enumerate(range(0, size, part_size), 1)
        ]
        try:
            parts = await asyncio.gather(*tasks)
            await self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            try:
                await asyncio.shield(
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
                )
            except Exception:
                logger.warning("could not abort multipart upload %s of %s", upload_id, self._where(key))
            raise

    async def download_file(self, path: StorePath, local_path: LocalPath) -> None:
        """Stream the object to a temporary file beside `local_path`, then rename it into place; a
        download cut mid-body is tried again from the start."""
        key = self._key(path)
        target = Path(local_path)

        async def fetch() -> None:
            tmp = await asyncio.to_thread(temporary_beside, target)
            try:
                out = await asyncio.to_thread(open, tmp, "wb")
                try:
                    response = await self.client.get_object(Bucket=self.bucket, Key=key)
                    async with response["Body"] as body:
                        while chunk := await body.read(_READ_CHUNK):
                            await asyncio.to_thread(out.write, chunk)
                finally:
                    await asyncio.to_thread(out.close)
                await asyncio.to_thread(os.replace, tmp, target)
            finally:
                await asyncio.to_thread(Path(tmp).unlink, missing_ok=True)

        await self._retrying_read("download", key, fetch)
        logger.debug("downloaded %s to %s", self._where(key), target)

    async def stat(self, path: StorePath) -> FileInfo:
        """Size, ETag and last-modified time of the object at `path` (one HEAD)."""
        key = self._key(path)
        with self._translated("stat", key):
            head = await self.client.head_object(Bucket=self.bucket, Key=key)
        return self._info(key, head["ContentLength"], head.get("ETag"), head.get("LastModified"))

    async def check_writable(self) -> None:
        """`S3FileSystem.check_writable` for async code: a conditional PUT and a DELETE of a probe
        object, on a client of one attempt and short timeouts (an answer within 3 s), once per
        instance; works whether or not the store is open."""
        if self._writable_checked:
            return
        key = self._key(probe_name())
        with self._translated("write a probe object to", key):
            async with self._client_factory(self._probe_options()) as client:
                await client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=b"epcloud write probe\n",
                    IfNoneMatch="*",
                    **self._put_args(),
                )
                await client.delete_object(Bucket=self.bucket, Key=key)
        self._writable_checked = True
        self._bucket_confirmed = True
        logger.debug("%s is writable", self.url())
