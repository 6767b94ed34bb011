"""Masks credentials in the SDK's debug logs: signed headers, presigned query strings, canonical
requests, and any key given to an S3 store, whatever the credential source (arguments, environment,
profile, role)."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

# The loggers of botocore, s3transfer and urllib3 that write requests, headers, URLs or
# credentials at DEBUG level (a logger's filters see only the records logged on that logger).
SDK_LOGGERS = (
    "botocore.auth",
    "botocore.endpoint",
    "botocore.parsers",
    "botocore.hooks",
    "botocore.httpsession",
    "botocore.awsrequest",
    "botocore.credentials",
    "botocore.retryhandler",
    "botocore.retries.standard",
    "botocore.utils",
    "botocore.client",
    "botocore.regions",
    "s3transfer.utils",
    "s3transfer.tasks",
    "s3transfer.futures",
    "urllib3.connectionpool",
)
MASK = "***"
_MIN_SECRET = 6  # shorter values (test placeholders like "x") would mask ordinary words

_PATTERNS = (
    # 'Authorization': b'AWS4-HMAC-SHA256 Credential=AKIA.../..., SignedHeaders=..., Signature=...'
    re.compile(r"""(?i)(authorization['"]?\s*[:=]\s*b?['"]?)([^'"\n]+)"""),
    re.compile(r"""(?i)(x-amz-security-token['"]?\s*[:=]\s*b?['"]?)([^'"\s&,}]+)"""),
    re.compile(r"""(?i)(x-amz-credential=)([^&\s'"]+)"""),
    re.compile(r"""(?i)(awsaccesskeyid=)([^&\s'"]+)"""),
    re.compile(r"""(?i)(x-amz-signature=)([^&\s'"]+)"""),
    re.compile(r"""(?i)(\bcredential=)([^,\s&'"]+)"""),
    re.compile(r"""(?i)(\bsignature=)([^,\s&'"]+)"""),
)

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()


def redact(text: str) -> str:
    """`text` with signed-request credentials and every registered secret masked."""
    for pattern in _PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + MASK, text)
    for secret in _secrets:
        text = text.replace(secret, MASK)
    return text


class _Redactor(logging.Filter):
    """Masks credentials in a record's message; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


_redactor = _Redactor()


def install_redaction() -> None:
    """Attach the redacting filter to every SDK logger that can log a credential (idempotent)."""
    for name in SDK_LOGGERS:
        sdk_logger = logging.getLogger(name)
        if _redactor not in sdk_logger.filters:
            sdk_logger.addFilter(_redactor)


def redact_in_sdk_logs(secrets: Iterable[object]) -> None:
    """Register credentials to mask in the SDK's log records from now on (and install the filter)."""
    global _secrets
    new = {secret for secret in secrets if isinstance(secret, str) and len(secret) >= _MIN_SECRET}
    with _lock:
        if not new.issubset(_secrets):
            _secrets = tuple(sorted(new.union(_secrets), key=len, reverse=True))
        install_redaction()
