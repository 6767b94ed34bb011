"""Faults between the client and the server, injected by tests/faultproxy.py in front of moto: cut
bodies, resets, 5xx answers, silent answers, lost answers to conditional writes; sync and async twins."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

from epcloud.errors import (
    StorageConnectionError,
    StorageError,
    StorageNotFoundError,
    StoragePreconditionError,
)
from epcloud.storage import S3FileSystem
from faultproxy import FaultProxy, Rule

DATA = os.urandom(200_000)


def _store_with(proxied: Any, **settings: Any) -> Any:
    """The `proxied` store's twin with other settings (same bucket, prefix and proxy)."""
    inner = getattr(proxied, "inner", proxied)
    clone = type(inner)(
        inner.bucket,
        inner.prefix,
        **{**inner._client_kwargs, **({"config": inner._user_config} if inner._user_config else {})},
        **settings,
    )
    return proxied.reopened(clone) if hasattr(proxied, "reopened") else clone


# ---------------------------------------------------------------- reads cut mid-body


def test_read_cut_mid_body_is_retried(proxied: Any, fault_proxy: FaultProxy) -> None:
    proxied.write_bytes("study.json", DATA)
    rule = fault_proxy.add(Rule("cut", method="GET", path=r"/test/study\.json"))
    assert proxied.read_bytes("study.json") == DATA
    assert rule.faulted == 1 and fault_proxy.count("GET", r"/test/study\.json") == 2


def test_download_cut_mid_body_is_retried_and_leaves_no_partial_file(
    proxied: Any, fault_proxy: FaultProxy, tmp_path: Path
) -> None:
    proxied.write_bytes("out/eplusout.sql", DATA)
    fault_proxy.add(Rule("cut", method="GET", path=r"eplusout\.sql"))
    target = tmp_path / "dl" / "eplusout.sql"
    proxied.download_file("out/eplusout.sql", target)
    assert target.read_bytes() == DATA
    assert [p.name for p in target.parent.iterdir()] == ["eplusout.sql"]


def test_listing_cut_mid_body_is_retried(proxied: Any, fault_proxy: FaultProxy) -> None:
    for number in range(30):
        proxied.write_bytes(f"runs/{number:03d}.txt", b"x")
    fault_proxy.add(Rule("cut", method="GET", path=r"list-type=2"))
    assert len(proxied.list_files("runs")) == 30


def test_reads_cut_every_time_give_up_with_a_storage_error(proxied: Any, fault_proxy: FaultProxy) -> None:
    proxied.write_bytes("study.json", DATA)
    fault_proxy.add(Rule("cut", method="GET", path=r"study\.json", times=100))
    with pytest.raises(StorageConnectionError) as caught:
        proxied.read_bytes("study.json")
    message = str(caught.value)
    assert "study.json" in message and fault_proxy.endpoint in message and "run again" in message
    assert fault_proxy.count("GET", r"study\.json") == 3  # the store's max_attempts, then it stops


def test_cut_404_error_body_is_not_a_raw_urllib3_error(proxied: Any, fault_proxy: FaultProxy) -> None:
    fault_proxy.add(Rule("cut", method="GET", path=r"collect/state\.json"))
    with pytest.raises(StorageNotFoundError, match=r"collect/state\.json"):
        proxied.read_bytes("collect/state.json")  # the retry gets the whole 404
    fault_proxy.add(Rule("cut", method="GET", path=r"collect/state\.json", times=100))
    with pytest.raises(StorageError, match=r"collect/state\.json") as caught:
        proxied.read_bytes("collect/state.json")
    assert "urllib3" not in type(caught.value).__module__


def test_results_cache_fetch_survives_a_cut(
    proxied: Any, fault_proxy: FaultProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from epcloud.results.runfiles import AsyncRemoteRunFiles, RemoteRunFiles

    monkeypatch.setenv("EPCLOUD_CACHE_DIR", str(tmp_path / "cache"))
    proxied.write_bytes("run/eplusout.err", DATA)
    fault_proxy.add(Rule("cut", method="GET", path=r"eplusout\.err"))
    if hasattr(proxied, "inner"):
        files: Any = AsyncRemoteRunFiles(proxied.inner, "run")
        fetched = proxied.loop.run_until_complete(files.fetch("eplusout.err"))
    else:
        fetched = RemoteRunFiles(proxied, "run").local("eplusout.err")
    assert fetched is not None and Path(fetched).read_bytes() == DATA


# ---------------------------------------------------------------- resets and 5xx


@pytest.mark.parametrize("action", ["503", "500", "reset"])
@pytest.mark.parametrize("after", [False, True], ids=["before", "after-applied"])
def test_write_and_read_survive_one_fault(
    proxied: Any, fault_proxy: FaultProxy, action: str, after: bool
) -> None:
    fault_proxy.add(Rule(action, method="PUT", path=r"/test/a\.bin", after=after))
    proxied.write_bytes("a.bin", DATA)
    fault_proxy.add(Rule(action, method="GET", path=r"/test/a\.bin", after=after))
    assert proxied.read_bytes("a.bin") == DATA
    assert fault_proxy.count("PUT", r"/test/a\.bin") == 2 and fault_proxy.count("GET", r"/test/a\.bin") == 2


def test_connection_errors_name_key_endpoint_and_what_to_do(proxied: Any, fault_proxy: FaultProxy) -> None:
    fault_proxy.add(Rule("reset", method="PUT", times=100))
    with pytest.raises(StorageConnectionError) as caught:
        proxied.write_bytes("runs/1/eplusout.sql", b"x")
    message = str(caught.value)
    assert "runs/1/eplusout.sql" in message and fault_proxy.endpoint in message
    assert "Check the network" in message and "connect_timeout=" in message


# ---------------------------------------------------------------- timeouts and the deadline


def test_silent_answer_times_out_and_is_retried(proxied: Any, fault_proxy: FaultProxy) -> None:
    store = _store_with(proxied, read_timeout=0.3)
    store.write_bytes("slow.txt", b"late")
    fault_proxy.add(Rule("delay", method="GET", path=r"slow\.txt", delay=1.0))
    assert store.read_bytes("slow.txt") == b"late"
    assert fault_proxy.count("GET", r"slow\.txt") == 2


def test_deadline_stops_retries(proxied: Any, fault_proxy: FaultProxy) -> None:
    store = _store_with(proxied, read_timeout=0.2, max_attempts=10, deadline=0.5)
    store.write_bytes("slow.txt", b"late")
    fault_proxy.add(Rule("delay", method="GET", path=r"slow\.txt", delay=0.6, times=100))
    with pytest.raises(StorageConnectionError, match="deadline"):
        store.read_bytes("slow.txt")
    assert fault_proxy.count("GET", r"slow\.txt") < 10  # stopped by the deadline, not the attempts


# ---------------------------------------------------------------- lost answers to conditional writes


def test_lost_answer_to_our_own_create_is_a_success(proxied: Any, fault_proxy: FaultProxy) -> None:
    rule = fault_proxy.add(Rule("reset", method="PUT", path=r"leases/job-1", after=True))
    proxied.write_bytes("leases/job-1.json", b'{"worker": "me"}', if_none_match=True)
    assert rule.faulted == 1 and fault_proxy.count("PUT", r"leases/job-1") == 2  # the retry met 412
    assert proxied.read_bytes("leases/job-1.json") == b'{"worker": "me"}'


def test_lost_answer_does_not_hide_another_writer(proxied: Any, fault_proxy: FaultProxy) -> None:
    proxied.write_bytes("leases/job-2.json", b'{"worker": "other"}', if_none_match=True)
    fault_proxy.add(Rule("reset", method="PUT", path=r"leases/job-2", after=True))
    with pytest.raises(StoragePreconditionError, match="already exists"):
        proxied.write_bytes("leases/job-2.json", b'{"worker": "me"}', if_none_match=True)
    assert proxied.read_bytes("leases/job-2.json") == b'{"worker": "other"}'


# ---------------------------------------------------------------- credentials in logs


CREDENTIAL_SOURCES = ["arguments", "environment", "profile"]


@pytest.mark.parametrize("source", CREDENTIAL_SOURCES)
def test_credentials_never_reach_the_logs(
    source: str,
    s3_bucket: str,
    s3_server: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import epcloud.storage.s3 as s3_module

    key_id, secret, token = (
        "AKIAEPCLOUDLOGTEST01",
        "s3cr3t-value-for-the-log-test",
        "session-token-LOG-TEST-123",
    )
    monkeypatch.setattr(s3_module, "_session", None)  # resolve credentials afresh
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    options: dict[str, str] = {}
    if source == "arguments":
        options = {"aws_access_key_id": key_id, "aws_secret_access_key": secret, "aws_session_token": token}
    elif source == "environment":
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
        monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    else:
        (tmp_path / "credentials").write_text(
            f"[logtest]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n"
            f"aws_session_token = {token}\n"
        )
        monkeypatch.setenv("AWS_PROFILE", "logtest")
    caplog.set_level(logging.DEBUG)
    fs = S3FileSystem(s3_bucket, "test", endpoint_url=s3_server, region_name="us-east-1", **options)
    fs.write_bytes("logged.txt", b"1")
    assert fs.read_bytes("logged.txt") == b"1"
    url = fs.client.generate_presigned_url(
        "get_object", Params={"Bucket": s3_bucket, "Key": "test/logged.txt"}
    )
    logging.getLogger("botocore.endpoint").debug("presigned %s", url)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "Authorization" in text and "presigned" in text  # the signed requests were logged
    assert key_id not in text and secret not in text and token not in text
    assert "AWSAccessKeyId=***" in text  # the presigned URL's key is masked too


def test_signed_request_values_are_masked_without_knowing_the_keys() -> None:
    from epcloud.storage.redact import redact

    header = "{'Authorization': b'AWS4-HMAC-SHA256 Credential=AKIAUNKNOWN0000000/20260101/us-east-1/s3/"
    header += "aws4_request, SignedHeaders=host, Signature=abc123', "
    header += "'X-Amz-Security-Token': b'FwoGZXIvYXdzEUNKNOWN'}"
    masked = redact(header)
    assert "AKIAUNKNOWN" not in masked and "FwoGZXIvYXdzEUNKNOWN" not in masked and "abc123" not in masked
    url = "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIAUNKNOWN0000000%2F2026&X-Amz-Signature=ff&X-Amz-Security-Token=tok"
    assert (
        redact(url)
        == "https://b.s3.amazonaws.com/k?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Security-Token=***"
    )
    canonical = "host:b.s3.amazonaws.com\nx-amz-security-token:FwoGZXIvYXdzEUNKNOWN\n"
    assert "FwoGZXIvYXdzEUNKNOWN" not in redact(canonical)
