"""The decisions of an S3 store that do not depend on its client: keys, PUT arguments, client settings,
conditions, endpoints and error translation."""

from __future__ import annotations

import functools
import importlib.util
import logging
import math
import os
import random
import socket
import time
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
    StoragePreconditionError,
)
from epcloud.storage.base import FileInfo
from epcloud.storage.paths import StorePath, join_path, normalize_path, normalize_prefix, relative_path
from epcloud.storage.redact import MASK, redact, redact_in_sdk_logs

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
MIN_PART_SIZE = 5 * MiB
MAX_PARTS = 10_000
SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")

# An unreachable endpoint must fail within seconds: 3 attempts (the first and 2 retries) of at most
# 3 s each, plus at most 3 s of back-off. A silent endpoint costs read_timeout per attempt, and no
# attempt starts once an operation has run for `deadline` seconds.
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 20.0
MAX_ATTEMPTS = 3
DEADLINE = 60.0
# The write probe must answer within 3 s: one attempt a request, short timeouts; a transient answer
# (5xx, reset, timeout) is asked once more after a short pause, a refusal is final at once.
PROBE_CONNECT_TIMEOUT = 1.0
PROBE_READ_TIMEOUT = 1.0
PROBE_RETRY_DELAY = 0.2
# Streaming reads cut mid-body: this many attempts in all, back-off doubling from the first delay.
READ_BACKOFF = 0.2
READ_BACKOFF_MAX = 2.0
_ENV_SECRETS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")

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
_PRECONDITION_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict"})
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
    """The exception classes of the client stack the stores translate: botocore's and boto3's, the
    HTTP layer's below them (urllib3) and the socket errors they let through."""
    from http.client import HTTPException

    from botocore.exceptions import BotoCoreError, ClientError
    from urllib3.exceptions import HTTPError as Urllib3Error

    # Socket-level failures only: a local file the caller names (FileNotFoundError...) stays itself.
    errors: tuple[type[BaseException], ...] = (
        BotoCoreError,
        ClientError,
        Urllib3Error,
        HTTPException,
        ConnectionError,
        TimeoutError,
        socket.gaierror,
    )
    if importlib.util.find_spec("boto3") is not None:
        from boto3.exceptions import Boto3Error

        errors = (*errors, Boto3Error)
    return errors


@functools.cache
def _stream_errors() -> tuple[type[BaseException], ...]:
    """Errors of a response body cut mid-read, which botocore does not retry (botocore issue 3132).

    Errors before the answer (refused or timed-out connections) are botocore's to retry; they are
    not here, so an unreachable endpoint still fails after the store's `max_attempts`.
    """
    from http.client import IncompleteRead

    from botocore.exceptions import ResponseStreamingError
    from urllib3.exceptions import ProtocolError

    errors: tuple[type[BaseException], ...] = (
        ResponseStreamingError,
        ProtocolError,
        IncompleteRead,
        ConnectionResetError,
    )
    return errors


def configured_endpoint(user_config: Any = None) -> str | None:
    """The endpoint URL botocore would take from the environment or the profile for S3, if any.

    Looks where botocore looks, in its order: `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, the
    profile's `services` section and its `endpoint_url`; none when the configured endpoints are
    ignored (`AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` or the client config).
    """
    import botocore.session
    from botocore.configprovider import ConfiguredEndpointProvider
    from botocore.exceptions import ProfileNotFound

    session = botocore.session.Session()
    ignore = getattr(user_config, "ignore_configured_endpoint_urls", None)
    try:
        if ignore is None:
            ignore = session.get_config_variable("ignore_configured_endpoint_urls")
        if ignore:
            return None
        provider = ConfiguredEndpointProvider(
            full_config=session.full_config, scoped_config=session.get_scoped_config(), client_name="s3"
        )
    except ProfileNotFound as exc:
        raise StoragePermissionError(
            f"{exc}: set AWS_PROFILE to a profile of ~/.aws/config, or unset it"
        ) from exc
    value = provider.provide()
    return str(value) if value else None


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
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        max_attempts: int = MAX_ATTEMPTS,
        deadline: float = DEADLINE,
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
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        for name, value in (("connect_timeout", connect_timeout), ("read_timeout", read_timeout)):
            if not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
        if not deadline > 0:
            raise ValueError(f"deadline must be a positive number of seconds, not {deadline!r}")
        self.bucket = bucket
        self.prefix = normalize_prefix(prefix)
        self.sse = sse
        self.sse_kms_key_id = sse_kms_key_id
        self.storage_class = storage_class
        self.tags = {str(name): str(value) for name, value in (tags or {}).items()}
        self.max_concurrency = max_concurrency
        self.multipart_threshold = multipart_threshold
        self.multipart_chunksize = multipart_chunksize
        self.connect_timeout = float(connect_timeout)
        self.read_timeout = float(read_timeout)
        self.max_attempts = max_attempts
        self.deadline = float(deadline)
        self._user_config = client_kwargs.pop("config", None)
        # Resolved once, as botocore resolves it, and given to every client explicitly: messages,
        # the checksum setting and same-service detection all see the endpoint the requests go to.
        self.endpoint_url: str | None = client_kwargs.get("endpoint_url") or configured_endpoint(
            self._user_config
        )
        if self.endpoint_url:
            client_kwargs["endpoint_url"] = self.endpoint_url
        self._client_kwargs = client_kwargs
        redact_in_sdk_logs(
            [
                *(client_kwargs.get(name) for name in _SECRET_KWARGS),
                *(os.environ.get(n) for n in _ENV_SECRETS),
            ]
        )
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

    def _config_options(self, pool: int | None = None) -> dict[str, Any]:
        """botocore Config options: bounded retries and timeouts, a pool of `pool` connections."""
        from botocore.config import Config

        options: dict[str, Any] = {
            "retries": {"mode": "standard", "total_max_attempts": self.max_attempts},
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "max_pool_connections": pool or max(10, self.max_concurrency),
        }
        # S3-compatible stores often reject the CRC checksums botocore adds by default since 1.36.
        if self.endpoint_url and "request_checksum_calculation" in Config.OPTION_DEFAULTS:
            options["request_checksum_calculation"] = "when_required"
            options["response_checksum_validation"] = "when_required"
        return options

    def _probe_options(self) -> dict[str, Any]:
        """Config options of the write probe's client: one attempt, short timeouts (an answer in 3 s)."""
        options = self._config_options(pool=2)
        options.update(
            retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=min(self.connect_timeout, PROBE_CONNECT_TIMEOUT),
            read_timeout=min(self.read_timeout, PROBE_READ_TIMEOUT),
        )
        return options

    def _register_deadline(self, events: Any) -> None:
        """Stop retrying an operation once it has run `deadline` seconds (no new attempt starts)."""
        deadline = self.deadline

        def started(context: dict[str, Any], **_: Any) -> None:
            context["epcloud_started"] = time.monotonic()

        def attempt(request: Any, **_: Any) -> None:
            begun = getattr(request, "context", {}).get("epcloud_started")
            if begun is not None and time.monotonic() - begun > deadline:
                from botocore.exceptions import ConnectTimeoutError

                raise ConnectTimeoutError(endpoint_url=f"{request.url} (deadline of {deadline:g} s passed)")

        events.register("before-call.s3", started)
        events.register("request-created.s3", attempt)

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
        """Turn every error of the client stack raised inside the block into an epcloud storage error."""
        try:
            yield
        except StorageError:
            raise
        except _sdk_errors() as exc:
            raise self._error(exc, action, key) from exc

    def _read_delays(self) -> Iterator[float]:
        """Back-off delays before each new attempt of a streaming read (full jitter, doubling); none
        once the operation has run for the store's `deadline`."""
        begun = time.monotonic()
        for attempt in range(self.max_attempts - 1):
            delay = random.uniform(0, min(READ_BACKOFF_MAX, READ_BACKOFF * 2**attempt))
            if time.monotonic() + delay - begun > self.deadline:
                return
            yield delay

    def _read_retry(self, key: str, exc: BaseException, delay: float) -> None:
        logger.info(
            "reading %s was cut (%s); trying again in %.2f s", self._where(key), redact(str(exc)), delay
        )

    def _is_stream_error(self, exc: BaseException) -> bool:
        return isinstance(exc, _stream_errors())

    @staticmethod
    def _is_precondition(exc: BaseException) -> bool:
        """Whether `exc` is S3's answer that a conditional write's condition does not hold."""
        from botocore.exceptions import ClientError

        if not isinstance(exc, ClientError):
            return False
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return code in _PRECONDITION_CODES or status == 412

    def _conditions(self, if_none_match: bool, if_match: str | None) -> dict[str, str]:
        """The PutObject arguments of a conditional write."""
        if if_none_match and if_match is not None:
            raise ValueError("give if_none_match=True or if_match=, not both")
        if if_none_match:
            return {"IfNoneMatch": "*"}
        if if_match is not None:
            return {"IfMatch": if_match if if_match.startswith('"') else f'"{if_match}"'}
        return {}

    def _precondition_failed(
        self, key: str, if_none_match: bool, if_match: str | None
    ) -> StoragePreconditionError:
        where = self._where(key)
        if if_none_match:
            return StoragePreconditionError(f"{where} already exists (if_none_match=True)")
        return StoragePreconditionError(f"{where} changed since version {if_match!r} (if_match=)")

    def service(self) -> tuple[str, str]:
        """What identifies the S3 service this store talks to: server-side copies work within one."""
        return ("s3", (self.endpoint_url or "aws").rstrip("/").lower())

    def shares_service_with(self, other: object) -> bool:
        """Whether `other` is an S3 store (sync or async) on the same endpoint: `copy_from` it is
        server-side (any bucket, any prefix)."""
        target = getattr(other, "sync", other)  # a threaded wrapper stands for its store
        return isinstance(target, S3Base) and target.service() == self.service()

    def _copy_source(self, source: object, src: StorePath) -> dict[str, str] | None:
        """The CopySource of `src` in `source` when it is on this store's service, else None."""
        target = getattr(source, "sync", source)
        if not isinstance(target, S3Base) or not self.shares_service_with(target):
            return None
        return {"Bucket": target.bucket, "Key": target._key(src)}

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
        detail = redact(self._scrub(str(cause)))
        if isinstance(cause, (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError)):
            return StoragePermissionError(
                f"cannot {action} {where}: {detail}. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "AWS_PROFILE, or pass aws_access_key_id= and aws_secret_access_key= to the store."
            )
        if isinstance(
            cause, (ConnectionError, HTTPClientError, OSError, *_stream_errors())
        ) or not isinstance(cause, _botocore_errors()):
            endpoint = self.endpoint_url or "the AWS S3 endpoint"
            return StorageConnectionError(
                f"cannot {action} {where}: the connection to {endpoint} failed "
                f"({type(cause).__name__}: {detail}) after {self.max_attempts} attempts. Check the "
                "network and the endpoint (endpoint_url=, AWS_ENDPOINT_URL), then run again; the "
                "timeouts are the store's connect_timeout=, read_timeout= and deadline=."
            )
        return StorageError(f"cannot {action} {where}: {detail}")


def _botocore_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    errors: tuple[type[BaseException], ...] = (BotoCoreError, ClientError)
    if importlib.util.find_spec("boto3") is not None:
        from boto3.exceptions import Boto3Error

        errors = (*errors, Boto3Error)
    return errors
