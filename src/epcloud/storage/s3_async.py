"""Amazon S3 and S3-compatible stores as an AsyncFileSystem, on aiobotocore."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

from epcloud.errors import StorageNotFoundError, StoragePermissionError
from epcloud.storage.base import AsyncFileSystemBase, FileInfo, LocalPath
from epcloud.storage.localio import temporary_beside
from epcloud.storage.paths import StorePath, normalize_path
from epcloud.storage.s3_common import MiB, S3Base, shared_loader

logger = logging.getLogger(__name__)

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
        from aiobotocore.config import AioConfig
        from aiobotocore.session import get_session

        if self._client is not None:
            raise RuntimeError(f"{self!r} is already open")
        config = AioConfig(**self._config_options())
        if self._user_config is not None:
            config = config.merge(self._user_config)
        session = get_session()
        session.register_component("data_loader", shared_loader())
        context = session.create_client("s3", config=config, **self._client_kwargs)
        self._client = await context.__aenter__()
        self._client_context = context
        return self

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

    async def read_bytes(self, path: StorePath) -> bytes:
        """The content of the object at `path`."""
        key = self._key(path)
        with self._translated("read", key):
            response = await self.client.get_object(Bucket=self.bucket, Key=key)
            async with response["Body"] as body:
                data: bytes = await body.read()
        return data

    async def write_bytes(self, path: StorePath, data: bytes) -> None:
        """Replace the object at `path` with `data` (one PUT, with SSE, storage class and tags)."""
        key = self._key(path)
        with self._translated("write", key):
            await self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **self._put_args())
        logger.debug("wrote %s (%d bytes)", self._where(key), len(data))

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
        """Server-side CopyObject (objects up to 5 GB) with this store's SSE, class and tags."""
        source, target = self._key(src), self._key(dst)
        with self._translated("copy", source):
            await self.client.copy_object(
                CopySource={"Bucket": self.bucket, "Key": source},
                Bucket=self.bucket,
                Key=target,
                **self._copy_args(),
            )
        logger.debug("copied %s to %s", self._where(source), self._where(target))

    async def remove(self, path: StorePath) -> None:
        """Delete the object at `path`; a missing object is not an error."""
        key = self._key(path)
        with self._translated("remove", key):
            await self.client.delete_object(Bucket=self.bucket, Key=key)
        logger.debug("removed %s", self._where(key))

    async def list_files(self, path: StorePath = "") -> list[FileInfo]:
        """Every object below the folder `path`, from one paginated ListObjectsV2 listing."""
        prefix = self._folder_key(path)
        found: list[FileInfo] = []
        with self._translated("list", prefix):
            paginator = self.client.get_paginator("list_objects_v2")
            async for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                found.extend(self._page_files(page))
        return sorted(found, key=lambda info: info.path)

    async def upload_file(self, local_path: LocalPath, path: StorePath) -> None:
        """Upload a local file: one PUT when small, else a parallel multipart upload."""
        key = self._key(path)
        source = os.fspath(local_path)
        size = os.path.getsize(source)
        with self._translated("upload to", key):
            if size < self.multipart_threshold:
                data = await asyncio.to_thread(_read_part, source, 0, size)
                await self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **self._put_args())
            else:
                await self._upload_multipart(source, size, key)
        logger.debug("uploaded %s to %s (%d bytes)", source, self._where(key), size)

    async def _upload_multipart(self, source: str, size: int, key: str) -> None:
        """Upload `source` in parts, at most max_concurrency at a time; abort the upload on failure."""
        created = await self.client.create_multipart_upload(Bucket=self.bucket, Key=key, **self._put_args())
        upload_id = created["UploadId"]
        part_size = self._part_size(size)
        gate = asyncio.Semaphore(self.max_concurrency)

        async def send(number: int, offset: int) -> dict[str, Any]:
            async with gate:
                data = await asyncio.to_thread(_read_part, source, offset, part_size)
                sent = await self.client.upload_part(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
                )
            return {"PartNumber": number, "ETag": sent["ETag"]}

        tasks = [
            asyncio.ensure_future(send(number, offset))
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
        """Stream the object to a temporary file beside `local_path`, then rename it into place."""
        key = self._key(path)
        target = Path(local_path)
        tmp = temporary_beside(target)
        try:
            with open(tmp, "wb") as out, self._translated("download", key):
                response = await self.client.get_object(Bucket=self.bucket, Key=key)
                async with response["Body"] as body:
                    while chunk := await body.read(_READ_CHUNK):
                        await asyncio.to_thread(out.write, chunk)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        logger.debug("downloaded %s to %s", self._where(key), target)

    async def stat(self, path: StorePath) -> FileInfo:
        """Size, ETag and last-modified time of the object at `path` (one HEAD)."""
        key = self._key(path)
        with self._translated("stat", key):
            head = await self.client.head_object(Bucket=self.bucket, Key=key)
        return self._info(key, head["ContentLength"], head.get("ETag"), head.get("LastModified"))
