"""What S3FileSystem and AsyncS3FileSystem share: keys, PUT arguments, client settings, errors."""

from __future__ import annotations

import functools
import importlib.util
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

from epcloud.errors import (
    StorageBucketNotFoundError,
    StorageConnectionError,
    StorageError,
    StorageNotFoundError,
    StoragePermissionError,
)
from epcloud.storage.base import FileInfo
from epcloud.storage.paths import StorePath, join_path, normalize_path, normalize_prefix, relative_path
from epcloud.storage.redact import MASK, redact_in_sdk_logs

MiB = 1024 * 1024
MIN_PART_SIZE = 5 * MiB
MAX_PARTS = 10_000
SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")

# An unreachable endpoint must fail within seconds: 3 attempts (the first and 2 retries) of at most
# 3 s each, plus at most 3 s of back-off.
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 60.0
MAX_ATTEMPTS = 3

CLIENT_KWARGS = frozenset(
    {
        "endpoint_url",
        "region_name",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "config",
        "verify",
        "use_ssl",
    }
)
_SECRET_KWARGS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NotFound", "404"})
_PERMISSION_CODES = frozenset(
    {
        "AccessDenied",
        "AllAccessDisabled",
        "Forbidden",
        "403",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "InvalidSecurity",
    }
)


@functools.cache
def _sdk_errors() -> tuple[type[BaseException], ...]:
    """The exception classes of botocore (and boto3, when installed) that the stores translate."""
    from botocore.exceptions import BotoCoreError, ClientError

    errors: tuple[type[BaseException], ...] = (BotoCoreError, ClientError)
    try:
        from boto3.exceptions import Boto3Error
    except ImportError:
        return errors
    return (*errors, Boto3Error)


@functools.cache
def shared_loader() -> Any:
    """One botocore data loader per process: loading the S3 service model is the slow part of a client."""
    from botocore.loaders import create_loader

    return create_loader()


class S3Base(ABC):
    """Configuration and every decision of an S3 store that does not depend on sync or async I/O."""

    _sdk: ClassVar[tuple[str, str]]
    """The SDK module the store needs and the epcloud extra that installs it."""
    _transient: ClassVar[tuple[str, ...]] = ()
    """Attributes (clients, locks) dropped on pickling and rebuilt lazily afterwards."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        sse: str | None = None,
        sse_kms_key_id: str | None = None,
        storage_class: str | None = None,
        tags: Mapping[str, str] | None = None,
        max_concurrency: int = 10,
        multipart_threshold: int = 8 * MiB,
        multipart_chunksize: int = 8 * MiB,
        **client_kwargs: Any,
    ) -> None:
        module, extra = self._sdk
        if importlib.util.find_spec(module) is None:
            raise ImportError(f"{type(self).__name__} needs {module}: pip install 'epcloud[{extra}]'")
        if not isinstance(bucket, str) or not bucket or "/" in bucket:
            raise ValueError(f"invalid bucket name {bucket!r}: give the bare name, e.g. 'my-bucket'")
        unknown = sorted(set(client_kwargs) - CLIENT_KWARGS)
        if unknown:
            raise TypeError(f"unknown S3 client arguments {unknown}; accepted: {sorted(CLIENT_KWARGS)}")
        if sse is not None and sse not in SSE_ALGORITHMS:
            raise ValueError(f"sse must be one of {SSE_ALGORITHMS} or None, not {sse!r}")
        if sse_kms_key_id and not (sse or "").startswith("aws:kms"):
            raise ValueError("sse_kms_key_id needs sse='aws:kms' (or 'aws:kms:dsse')")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, not {max_concurrency}")
        self.bucket = bucket
        self.prefix = normalize_prefix(prefix)
        self.sse = sse
        self.sse_kms_key_id = sse_kms_key_id
        self.storage_class = storage_class
        self.tags = {str(name): str(value) for name, value in (tags or {}).items()}
        self.max_concurrency = max_concurrency
        self.multipart_threshold = multipart_threshold
        self.multipart_chunksize = multipart_chunksize
        self.endpoint_url: str | None = client_kwargs.get("endpoint_url")
        self._user_config = client_kwargs.pop("config", None)
        self._client_kwargs = client_kwargs
        redact_in_sdk_logs(client_kwargs.get(name) for name in _SECRET_KWARGS)
        self._bucket_confirmed = False
        self._reset_client()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(bucket={self.bucket!r}, prefix={self.prefix!r}, "
            f"endpoint_url={self.endpoint_url!r})"
        )

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for name in self._transient:
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._reset_client()

    @abstractmethod
    def _reset_client(self) -> None:
        """Forget any client, so the next call builds one (after unpickling or in a forked child)."""

    # ------------------------------------------------------------ keys

    def _key(self, path: StorePath) -> str:
        """The object key of a file path, below the prefix."""
        return join_path(self.prefix, normalize_path(path))

    def _folder_key(self, path: StorePath) -> str:
        """The key prefix that lists the folder `path` (ends with `/`, or is empty for the bucket)."""
        key = join_path(self.prefix, normalize_path(path, allow_root=True))
        return f"{key}/" if key else ""

    def _store_path(self, key: str) -> str:
        """The store path of an object key (the key without the prefix)."""
        return relative_path(self.prefix, key)

    def _where(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}" if key else f"s3://{self.bucket}"

    def url(self, path: StorePath = "") -> str:
        """`s3://bucket/prefix/path`."""
        return self._where(join_path(self.prefix, normalize_path(path, allow_root=True)))

    # ------------------------------------------------------------ request arguments

    def _put_args(self) -> dict[str, str]:
        """Arguments of every PUT (single, multipart, managed upload): SSE, storage class, tags."""
        args: dict[str, str] = {}
        if self.sse:
            args["ServerSideEncryption"] = self.sse
        if self.sse_kms_key_id:
            args["SSEKMSKeyId"] = self.sse_kms_key_id
        if self.storage_class:
            args["StorageClass"] = self.storage_class
        if self.tags:
            args["Tagging"] = urlencode(self.tags)
        return args

    def _copy_args(self) -> dict[str, str]:
        """The PUT arguments for a server-side copy; our tags replace the source's."""
        args = self._put_args()
        if self.tags:
            args["TaggingDirective"] = "REPLACE"
        return args

    def _config_options(self) -> dict[str, Any]:
        """botocore Config options: bounded retries and timeouts, a pool as wide as the transfers."""
        from botocore.config import Config

        options: dict[str, Any] = {
            "retries": {"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
            "connect_timeout": CONNECT_TIMEOUT,
            "read_timeout": READ_TIMEOUT,
            "max_pool_connections": max(10, self.max_concurrency),
        }
        # S3-compatible stores often reject the CRC checksums botocore adds by default since 1.36.
        if self.endpoint_url and "request_checksum_calculation" in Config.OPTION_DEFAULTS:
            options["request_checksum_calculation"] = "when_required"
            options["response_checksum_validation"] = "when_required"
        return options

    def _part_size(self, size: int) -> int:
        """The multipart part size for a file of `size` bytes: within S3's 5 MiB and 10,000-part limits."""
        return max(self.multipart_chunksize, MIN_PART_SIZE, math.ceil(size / MAX_PARTS))

    def _page_files(self, page: Mapping[str, Any]) -> list[FileInfo]:
        """The files of one ListObjectsV2 page, without folder markers (keys ending in `/`)."""
        return [
            self._info(obj["Key"], obj["Size"], obj.get("ETag"), obj.get("LastModified"))
            for obj in page.get("Contents", [])
            if not obj["Key"].endswith("/")
        ]

    def _info(self, key: str, size: int, etag: str | None, modified: datetime | None) -> FileInfo:
        return FileInfo(
            path=self._store_path(key),
            size=int(size),
            etag=etag.strip('"') if etag else None,
            mtime=modified.timestamp() if modified else None,
        )

    # ------------------------------------------------------------ errors

    @contextmanager
    def _translated(self, action: str, key: str) -> Iterator[None]:
        """Turn botocore/boto3 errors raised inside the block into epcloud storage errors."""
        try:
            yield
        except _sdk_errors() as exc:
            raise self._error(exc, action, key) from exc

    def _bucket_missing(self) -> StorageBucketNotFoundError:
        at = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return StorageBucketNotFoundError(
            f"bucket {self.bucket!r} does not exist{at}; check the bucket name, region and endpoint"
        )

    def _scrub(self, text: str) -> str:
        """`text` with any credential given to this store masked."""
        for name in _SECRET_KWARGS:
            secret = self._client_kwargs.get(name)
            if isinstance(secret, str) and secret:
                text = text.replace(secret, MASK)
        return text

    def _error(self, exc: BaseException, action: str, key: str) -> StorageError:
        """The storage error for an SDK error met while trying to `action` the object `key`."""
        from botocore.exceptions import (
            ClientError,
            ConnectionError,
            CredentialRetrievalError,
            HTTPClientError,
            NoCredentialsError,
            PartialCredentialsError,
        )

        where = self._where(key)
        # boto3's managed upload wraps the ClientError it met in an S3UploadFailedError.
        cause: BaseException = exc
        if not isinstance(exc, ClientError) and isinstance(exc.__context__, ClientError):
            cause = exc.__context__
        if isinstance(cause, ClientError):
            error = cause.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            message = self._scrub(str(error.get("Message", "")))
            if code == "NoSuchBucket":
                return self._bucket_missing()
            if code in _NOT_FOUND_CODES or status == 404:
                return StorageNotFoundError(f"no such object: {where}")
            if code in _PERMISSION_CODES or status in (401, 403):
                return StoragePermissionError(
                    f"access denied ({code}) when trying to {action} {where}: {message}. Check the "
                    "credentials (environment, AWS profile or the keys given to the store) and the "
                    "bucket policy."
                )
            return StorageError(f"cannot {action} {where}: {code}: {message}")
        detail = self._scrub(str(cause))
        if isinstance(cause, (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError)):
            return StoragePermissionError(
                f"cannot {action} {where}: {detail}. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "AWS_PROFILE, or pass aws_access_key_id= and aws_secret_access_key= to the store."
            )
        if isinstance(cause, (ConnectionError, HTTPClientError)):
            endpoint = self.endpoint_url or "the AWS S3 endpoint"
            return StorageConnectionError(f"cannot {action} {where}: no answer from {endpoint} ({detail})")
        return StorageError(f"cannot {action} {where}: {detail}")
