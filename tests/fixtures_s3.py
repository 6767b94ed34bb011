"""S3 test servers and stores: a real moto_server over HTTP (or EPCLOUD_TEST_S3_ENDPOINT), fresh buckets.

Fixtures: `s3_server` (endpoint URL), `s3_options` (client arguments), `s3_client` (plain boto3),
`s3_bucket` (a new bucket), `s3_fs` / `async_s3_fs` (stores on it, prefix "test/"), and
`s3_auth_server` (a second moto_server that enforces IAM, for 403s). `count_requests(fs)` counts
the HTTP requests a store sends, by operation.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ENDPOINT_ENV = "EPCLOUD_TEST_S3_ENDPOINT"
REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
START_TIMEOUT = 30.0


_START_ATTEMPTS = 3


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MotoServer:
    """A moto_server subprocess on a free local port, with its output in a log file."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        script = Path(sys.executable).parent / "moto_server"
        command = [str(script)] if script.exists() else [sys.executable, "-m", "moto.server"]
        server_env = {k: v for k, v in os.environ.items() if k != "INITIAL_NO_AUTH_ACTION_COUNT"}
        server_env.update(env or {})
        # A port found free can be taken by another process before moto binds it (suites or benchmarks
        # running side by side): moto then exits at once, and the server is started on another port.
        for _ in range(_START_ATTEMPTS):
            self.port = _free_port()
            self.endpoint = f"http://127.0.0.1:{self.port}"
            self.log = tempfile.NamedTemporaryFile(prefix="moto-", suffix=".log", delete=False)  # noqa: SIM115
            self.process = subprocess.Popen(
                [*command, "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=self.log,
                stderr=subprocess.STDOUT,
                env=server_env,
            )
            if self._wait_ready():
                return
        pytest.fail(f"moto_server found no free port in {_START_ATTEMPTS} attempts")

    def _wait_ready(self) -> bool:
        """True once this server answers; False when it exited because its port was taken."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = Path(self.log.name).read_text()  # before stop(), which deletes the log
                self.stop()
                if "in use" in output:
                    return False
                pytest.fail(f"moto_server exited at start-up:\n{output}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/data.json", timeout=1):
                    pass
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
                continue
            if self.process.poll() is None:  # the answer came from this server, not a neighbour's
                return True
        self.stop()
        pytest.fail(f"moto_server did not answer on {self.endpoint} within {START_TIMEOUT} s")

    def post(self, path: str, body: bytes) -> None:
        """POST to moto's own control API (e.g. /moto-api/reset-auth)."""
        request = urllib.request.Request(
            f"{self.endpoint}{path}", data=body, method="POST", headers={"Content-Type": "text/plain"}
        )
        with urllib.request.urlopen(request, timeout=5):
            pass

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


def new_client(endpoint: str, service: str = "s3", **credentials: str) -> Any:
    """A plain boto3 client for the test server."""
    import boto3

    return boto3.session.Session().client(
        service, endpoint_url=endpoint, region_name=REGION, **(credentials or CREDENTIALS)
    )


def empty_and_delete_bucket(client: Any, bucket: str) -> None:
    """Delete every object version, delete marker and the bucket itself (on an external server only:
    a moto_server started by the suite is thrown away whole at the end, which is faster)."""
    if not os.environ.get(ENDPOINT_ENV):
        return
    while True:  # always the first page: paging on while deleting skips entries
        page = client.list_object_versions(Bucket=bucket)
        doomed = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if not doomed:
            break
        client.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
    client.delete_bucket(Bucket=bucket)


@contextmanager
def count_requests(fs: Any) -> Iterator[Counter[str]]:
    """Count the HTTP requests `fs` sends inside the block, by S3 operation (e.g. counts["PutObject"]).

    Works for S3FileSystem and AsyncS3FileSystem; retries count as separate requests.
    """
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def on_send(event_name: str, **_: Any) -> None:
        with lock:
            counts[event_name.rsplit(".", 1)[-1]] += 1

    def watch(client: Any) -> Any:
        client.meta.events.register("before-send.s3", on_send)
        watched.append(client)
        return client

    watched: list[Any] = []
    store = getattr(fs, "sync", fs)  # an async store is the sync store in threads
    watch(store.client)
    # The store builds a new client when it widens its connection pool, and one for its write probe:
    # count on those too.
    build = store._new_client
    store._new_client = lambda *args, **kwargs: watch(build(*args, **kwargs))
    try:
        yield counts
    finally:
        del store._new_client
        for client in watched:
            client.meta.events.unregister("before-send.s3", on_send)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """Endpoint URL of the S3 server the storage tests talk to."""
    external = os.environ.get(ENDPOINT_ENV)
    if external:
        try:
            urllib.request.urlopen(external, timeout=5).close()
        except urllib.error.HTTPError:
            pass  # it answered
        except (urllib.error.URLError, OSError) as exc:
            pytest.fail(f"{ENDPOINT_ENV}={external} does not answer: {exc}")
        yield external.rstrip("/")
        return
    server = MotoServer()
    try:
        yield server.endpoint
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_options(s3_server: str) -> dict[str, str]:
    """Client arguments of a store on the test server."""
    return {"endpoint_url": s3_server, "region_name": REGION, **CREDENTIALS}


@pytest.fixture(scope="session")
def s3_client(s3_server: str) -> Any:
    """A plain boto3 S3 client for arranging and asserting."""
    return new_client(s3_server)


@pytest.fixture
def s3_bucket(s3_client: Any) -> Iterator[str]:
    """A new, empty bucket, deleted with its content afterwards."""
    bucket = f"epcloud-test-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=bucket)
    yield bucket
    empty_and_delete_bucket(s3_client, bucket)


@pytest.fixture
def s3_fs(s3_bucket: str, s3_options: dict[str, str]) -> Any:
    """An S3FileSystem on a fresh bucket, prefix "test/"."""
    from epcloud.storage import S3FileSystem

    return S3FileSystem(s3_bucket, prefix="test/", **s3_options)


@pytest.fixture
async def async_s3_fs(s3_bucket: str, s3_options: dict[str, str]) -> AsyncIterator[Any]:
    """An open AsyncS3FileSystem on a fresh bucket, prefix "test/"."""
    from epcloud.storage import AsyncS3FileSystem

    async with AsyncS3FileSystem(s3_bucket, prefix="test/", **s3_options) as fs:
        yield fs


@dataclass(frozen=True)
class AuthServer:
    """A moto_server enforcing IAM: `allowed` keys may use `bucket`, `denied` keys exist but may not."""

    endpoint: str
    bucket: str
    allowed: dict[str, str]
    denied: dict[str, str]


def _access_key(iam: Any, user: str, policy: str | None) -> dict[str, str]:
    iam.create_user(UserName=user)
    if policy:
        iam.put_user_policy(UserName=user, PolicyName="s3", PolicyDocument=policy)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


@pytest.fixture(scope="session")
def s3_auth_server() -> Iterator[AuthServer]:
    """A second moto_server with authentication on, for 403 tests (always moto, even on CI's LocalStack)."""
    server = MotoServer()
    try:
        iam = new_client(server.endpoint, "iam")
        allow_all = (
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'
        )
        allowed = _access_key(iam, "epcloud-allowed", allow_all)
        denied = _access_key(iam, "epcloud-denied", None)
        s3 = new_client(server.endpoint)
        s3.create_bucket(Bucket="epcloud-auth")
        s3.put_object(Bucket="epcloud-auth", Key="test/present.txt", Body=b"present")
        # From here on, every request must be signed by a known key whose policy allows it.
        server.post("/moto-api/reset-auth", b"0")
        yield AuthServer(server.endpoint, "epcloud-auth", allowed, denied)
    finally:
        server.stop()
