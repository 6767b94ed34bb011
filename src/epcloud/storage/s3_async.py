"""Amazon S3 and S3-compatible stores as an AsyncFileSystem: S3FileSystem's calls in worker threads.

One S3 implementation serves both twins, so they cannot drift apart: the async store is the sync store
behind the generated threaded wrapper. Measured against aiobotocore on the same server
(benchmarks/bench_async_store.py, figures in benchmarks/RESULTS.md) it is as fast or faster, and it
needs only boto3, so the `async` extra no longer pins boto3 to the narrow range aiobotocore supports.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

from epcloud.storage.s3 import S3FileSystem
from epcloud.storage.threaded import DEFAULT_CONCURRENCY, ThreadedAsyncFileSystem

logger = logging.getLogger(__name__)


class AsyncS3FileSystem(ThreadedAsyncFileSystem):
    """S3FileSystem's async twin (`pip install 'epcloud[async]'`), same arguments and behaviour.

    Open it as `async with AsyncS3FileSystem("bucket", "prefix") as fs:`; leaving the block closes its
    connections, and it can be opened again. At most `max(16, max_concurrency)` calls run at once.
    """

    def __init__(self, bucket: str, prefix: str = "", **options: Any) -> None:
        try:
            store = S3FileSystem(bucket, prefix, **options)
        except ImportError:
            raise ImportError("AsyncS3FileSystem needs boto3: pip install 'epcloud[async]'") from None
        super().__init__(store, max_concurrency=max(DEFAULT_CONCURRENCY, store.max_concurrency))
        self.sync: S3FileSystem = store
        self._open = False

    def __repr__(self) -> str:
        return f"AsyncS3FileSystem{repr(self.sync).removeprefix('S3FileSystem')}"

    def __getattr__(self, name: str) -> Any:
        """The configuration of the store (bucket, prefix, endpoint_url, ...) is the sync store's."""
        if name in ("sync", "_open", "_gates") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.sync, name)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._open = False

    def _gate(self) -> Any:
        if not self._open:
            raise RuntimeError(
                f"{self!r} is not open: use `async with AsyncS3FileSystem(...) as fs:` to open it"
            )
        return super()._gate()

    @property
    def client(self) -> Any:
        """The open store's boto3 S3 client."""
        if not self._open:
            raise RuntimeError(
                f"{self!r} is not open: use `async with AsyncS3FileSystem(...) as fs:` to open it"
            )
        return self.sync.client

    async def __aenter__(self) -> AsyncS3FileSystem:
        if self._open:
            raise RuntimeError(f"{self!r} is already open")
        self._open = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._open = False
        self.sync.close()
