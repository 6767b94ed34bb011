"""Bad input and faults: wrong bucket, refused credentials, no credentials, dead endpoints, leaks."""

from __future__ import annotations

import importlib.util
import logging
import socket
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config

from epcloud.errors import (
    StorageConnectionError,
    StorageError,
    StorageNotFoundError,
    StoragePathError,
    StoragePermissionError,
)
from epcloud.storage import AsyncS3FileSystem, S3FileSystem, open_fs
from fixtures_s3 import AuthServer

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
TOKEN = "FwoGZXIvYXdzEJr//SESSION/TOKEN/VALUE"
KEY_ID = "AKIAEPCLOUDKEYID0001"
CREDS = {"aws_access_key_id": "k", "aws_secret_access_key": "s"}
NO_RETRIES = Config(retries={"total_max_attempts": 1})


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """An endpoint that never completes a TCP handshake: a listener with a full backlog."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        for _ in range(4):  # fill the accept queue so later SYNs are dropped
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            for filler in fillers:
                filler.close()


def _auth_fs(server: AuthServer, **credentials: str) -> S3FileSystem:
    return S3FileSystem(
        server.bucket, "test", endpoint_url=server.endpoint, region_name="us-east-1", **credentials
    )


# ---------------------------------------------------------------- credentials refused (403)


def test_allowed_keys_work_on_the_auth_server(s3_auth_server: AuthServer) -> None:
    fs = _auth_fs(s3_auth_server, **s3_auth_server.allowed)
    assert fs.read_text("present.txt") == "present"
    assert fs.exists("present.txt")
    assert not fs.exists("missing.txt")  # a genuine 404


def test_unknown_access_key_is_a_permission_error(s3_auth_server: AuthServer) -> None:
    fs = _auth_fs(s3_auth_server, aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
    with pytest.raises(StoragePermissionError, match="InvalidAccessKeyId") as caught:
        fs.read_bytes("present.txt")
    assert "s3://epcloud-auth/test/present.txt" in str(caught.value)
    assert isinstance(caught.value, PermissionError)


def test_wrong_secret_is_a_permission_error(s3_auth_server: AuthServer) -> None:
    key_id = s3_auth_server.allowed["aws_access_key_id"]
    fs = _auth_fs(s3_auth_server, aws_access_key_id=key_id, aws_secret_access_key=SECRET)
    with pytest.raises(StoragePermissionError, match="SignatureDoesNotMatch"):
        fs.read_bytes("present.txt")


def test_exists_raises_on_403_instead_of_answering_false(s3_auth_server: AuthServer) -> None:
    fs = _auth_fs(s3_auth_server, **s3_auth_server.denied)
    with pytest.raises(StoragePermissionError):
        fs.exists("present.txt")
    with pytest.raises(StoragePermissionError):
        fs.exists("missing.txt")


def test_every_operation_maps_403(s3_auth_server: AuthServer, tmp_path: Path) -> None:
    fs = _auth_fs(s3_auth_server, **s3_auth_server.denied)
    local = tmp_path / "f.bin"
    local.write_bytes(b"1")
    operations: list[Callable[[], Any]] = [
        lambda: fs.read_bytes("present.txt"),
        lambda: fs.write_bytes("new.txt", b"1"),
        lambda: fs.stat("present.txt"),
        lambda: fs.list_files(),
        lambda: fs.copy("present.txt", "copy.txt"),
        lambda: fs.remove("present.txt"),
        lambda: fs.upload_file(local, "up.bin"),
        lambda: fs.download_file("present.txt", tmp_path / "down.bin"),
    ]
    for operation in operations:
        with pytest.raises(StoragePermissionError):
            operation()
    assert not (tmp_path / "down.bin").exists()


def test_missing_credentials_are_a_permission_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, s3_server: str, s3_bucket: str
) -> None:
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # The process's shared boto3 session may have resolved credentials in an earlier test.
    import epcloud.storage.s3 as s3_module

    monkeypatch.setattr(s3_module, "_session", None)
    fs = S3FileSystem(s3_bucket, endpoint_url=s3_server, region_name="us-east-1")
    with pytest.raises(StoragePermissionError, match="credentials"):
        fs.read_bytes("a.txt")
    with pytest.raises(StoragePermissionError):
        fs.exists("a.txt")


# ---------------------------------------------------------------- wrong place


def test_missing_key_names_the_object(s3_fs: S3FileSystem) -> None:
    with pytest.raises(StorageNotFoundError, match=f"s3://{s3_fs.bucket}/test/run/missing.sql"):
        s3_fs.read_bytes("run/missing.sql")


def test_unreachable_endpoint_fails_fast(closed_port: int) -> None:
    fs = S3FileSystem(
        "bucket",
        endpoint_url=f"http://127.0.0.1:{closed_port}",
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key=SECRET,
    )
    started = time.monotonic()
    with pytest.raises(StorageConnectionError, match=f"127.0.0.1:{closed_port}") as caught:
        fs.read_bytes("a.txt")
    assert time.monotonic() - started < 15
    assert isinstance(caught.value, ConnectionError)
    once = S3FileSystem("bucket", endpoint_url=fs.endpoint_url, config=NO_RETRIES, **CREDS)
    with pytest.raises(StorageConnectionError):  # not False: "cannot tell" is not "absent"
        once.exists("a.txt")


@pytest.mark.skipif(sys.platform != "linux", reason="relies on Linux dropping SYNs to a full backlog")
def test_endpoint_that_never_answers_times_out(silent_endpoint: str) -> None:
    short = Config(connect_timeout=0.5, retries={"total_max_attempts": 1})
    fs = S3FileSystem(
        "bucket",
        endpoint_url=silent_endpoint,
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
        config=short,
    )
    started = time.monotonic()
    with pytest.raises(StorageConnectionError):
        fs.read_bytes("a.txt")
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    "bad", ["../escape", "a/../../escape", "/abs/key", "a//b", "a\\b", "C:/win", "a/./b"]
)
def test_prefix_escape_is_rejected_before_any_request(bad: str, closed_port: int) -> None:
    fs = S3FileSystem(
        "bucket",
        "safe/prefix",
        endpoint_url=f"http://127.0.0.1:{closed_port}",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    )
    for operation in (fs.read_bytes, fs.exists, fs.stat, fs.remove, lambda p: fs.write_bytes(p, b"")):
        with pytest.raises(StoragePathError):  # not StorageConnectionError: nothing was sent
            operation(bad)
    with pytest.raises(StoragePathError):
        fs.copy("ok.txt", bad)


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"bucket": "a/b"}, ValueError),
        ({"bucket": ""}, ValueError),
        ({"bucket": "b", "prefix": "../up"}, StoragePathError),
        ({"bucket": "b", "sse": "rot13"}, ValueError),
        ({"bucket": "b", "sse_kms_key_id": "key"}, ValueError),
        ({"bucket": "b", "max_concurrency": 0}, ValueError),
        ({"bucket": "b", "aws_secret_key": "typo"}, TypeError),
    ],
)
def test_bad_constructor_arguments(arguments: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        S3FileSystem(**arguments)


def test_fsspec_scheme_without_fsspec_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fsspec", None)
    monkeypatch.setitem(sys.modules, "fsspec.core", None)
    with pytest.raises(ImportError, match=r"epcloud\[fsspec\]"):
        open_fs("memory://anything")


@pytest.mark.parametrize(("store", "extra"), [(S3FileSystem, "s3"), (AsyncS3FileSystem, "async")])
def test_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch, store: type, extra: str) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match=rf"epcloud\[{extra}\]"):
        store("bucket")


def test_unknown_scheme_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="nosuchscheme"):
        open_fs("nosuchscheme://x/y")


# ---------------------------------------------------------------- secrets never leak


def test_secrets_never_appear_in_repr_errors_or_logs(
    caplog: pytest.LogCaptureFixture, s3_auth_server: AuthServer, closed_port: int
) -> None:
    caplog.set_level(logging.DEBUG)
    stores = [
        _auth_fs(
            s3_auth_server, aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, aws_session_token=TOKEN
        ),
        S3FileSystem(
            "b",
            "p",
            endpoint_url=f"http://127.0.0.1:{closed_port}",
            region_name="us-east-1",
            aws_access_key_id=KEY_ID,
            aws_secret_access_key=SECRET,
            aws_session_token=TOKEN,
            config=NO_RETRIES,
        ),
    ]
    messages = []
    for fs in stores:
        assert fs.bucket in repr(fs) and fs.endpoint_url in repr(fs)
        messages += [repr(fs), str(fs)]
        for operation in (partial(fs.read_bytes, "present.txt"), partial(fs.exists, "x"), fs.list_files):
            with pytest.raises(StorageError) as caught:
                operation()
            messages.append(str(caught.value))
            messages.append(repr(caught.value))
    for text in messages:
        for secret in (SECRET, TOKEN, KEY_ID):
            assert secret not in text
    for secret in (SECRET, TOKEN, KEY_ID):  # botocore's own debug records included
        assert secret not in caplog.text
