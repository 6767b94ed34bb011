"""Masks credentials given to S3 stores in botocore's debug logs (signed headers, canonical requests)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

# botocore logs the signed request (Authorization, X-Amz-Security-Token) here at DEBUG level.
SDK_LOGGERS = ("botocore.auth", "botocore.endpoint")  # aiobotocore logs through the latter too
MASK = "***"

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()


class _Redactor(logging.Filter):
    """Replaces every registered credential in a record's message; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = _secrets
        if secrets:
            message = record.getMessage()
            masked = message
            for secret in secrets:
                masked = masked.replace(secret, MASK)
            if masked != message:
                record.msg, record.args = masked, None
        return True


_redactor = _Redactor()


def redact_in_sdk_logs(secrets: Iterable[object]) -> None:
    """Register credentials to mask in the SDK's log records from now on."""
    global _secrets
    new = {secret for secret in secrets if isinstance(secret, str) and secret}
    with _lock:
        if new.issubset(_secrets):
            return
        _secrets = tuple(sorted(new.union(_secrets), key=len, reverse=True))
        for name in SDK_LOGGERS:
            sdk_logger = logging.getLogger(name)
            if _redactor not in sdk_logger.filters:
                sdk_logger.addFilter(_redactor)
