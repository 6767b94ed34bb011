"""A study command on a bucket that does not exist says so, not "no study here"."""

from __future__ import annotations

from pathlib import Path

import pytest

from epcloud import Study
from epcloud.cli import main
from epcloud.errors import StorageBucketNotFoundError, StorageNotFoundError, StudyNotFoundError
from epcloud.storage import S3FileSystem

COMMANDS = {
    "status": ["study", "status", "{url}"],
    "collect": ["collect", "{url}"],
    "rerun": ["rerun", "{url}", "--failed"],
    "report": ["report", "{url}", "-o", "{tmp}/report.html"],
    "worker": ["worker", "{url}", "--index", "0", "--count", "1"],
}


@pytest.fixture
def store_env(s3_options: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_options["endpoint_url"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_options["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_options["aws_secret_access_key"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", s3_options["region_name"])


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_cli_names_the_missing_bucket(
    command: str, store_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [a.format(url="s3://epcloud-no-such-bucket/st", tmp=tmp_path) for a in COMMANDS[command]]
    assert main(args) != 0
    err = capsys.readouterr().err
    assert "bucket 'epcloud-no-such-bucket' does not exist" in err and "no study" not in err
    assert not (tmp_path / "report.html").exists()


def test_cli_in_a_real_bucket_without_a_study(
    s3_bucket: str, store_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["study", "status", f"s3://{s3_bucket}/nothing-here"]) == 2
    assert "no study at" in capsys.readouterr().err


def test_api_open_raises_the_bucket_error(s3_options: dict[str, str]) -> None:
    fs = S3FileSystem("epcloud-no-such-bucket", prefix="st", **s3_options)
    with pytest.raises(StorageBucketNotFoundError) as caught:
        Study.open(fs)
    # A missing bucket is not a missing object: "absent, create it" code paths must not swallow it.
    assert not isinstance(caught.value, (StorageNotFoundError, StudyNotFoundError))
