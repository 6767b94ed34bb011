"""What the AWS credential chain finds, and an S3 store's resolved connection for other S3 clients.

Other clients of a store's objects (pyarrow's S3 reader, DuckDB) need the endpoint, region and
credentials boto3 resolved for it; this is the one place outside the store that reads them. The values
are never logged, and `S3Connection`'s repr leaves the secrets out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

__all__ = ["S3Connection", "credential_chain", "s3_connection"]


@dataclass(frozen=True)
class S3Connection:
    """Where an S3 store's requests go and with which credentials (None: anonymous)."""

    endpoint_url: str | None
    region: str
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)


def s3_connection(fs: Any) -> S3Connection:
    """The endpoint, region and credentials boto3 resolved for the store ``fs`` (an `S3FileSystem`)."""
    client = fs.client
    # What botocore resolved for this client (explicit keys, environment, profile, role), else the chain.
    signer = getattr(client, "_request_signer", None)
    credentials = getattr(signer, "_credentials", None)
    if credentials is None:
        import boto3

        credentials = boto3.session.Session().get_credentials()
    region = client.meta.region_name or "us-east-1"
    if credentials is None:
        return S3Connection(client.meta.endpoint_url, region)
    frozen = credentials.get_frozen_credentials()
    return S3Connection(
        client.meta.endpoint_url, region, frozen.access_key, frozen.secret_key, frozen.token or None
    )


def credential_chain() -> dict[str, Any]:
    """Whether botocore's chain finds credentials here, through which source, and the region; never the
    values. ``checked`` is False when the s3 extra is not installed."""
    try:
        import botocore.exceptions
        import botocore.session
    except ImportError:
        return {"checked": False, "reason": "the s3 extra is not installed: pip install 'epcloud[s3]'"}
    try:
        session = botocore.session.Session()
        credentials = session.get_credentials()
        region = session.get_config_variable("region")
    except botocore.exceptions.BotoCoreError as exc:  # a broken config file: the message names it
        return {"checked": True, "found": False, "error": f"{type(exc).__name__}: {exc}"}
    return {
        "checked": True,
        "found": credentials is not None,
        "source": getattr(credentials, "method", None) if credentials is not None else None,
        "region": region,
        "profile": os.environ.get("AWS_PROFILE"),
    }
