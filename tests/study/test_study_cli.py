"""`epcloud study create|status|worker|collect|rerun` and the short forms, in process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from epcloud.cli import main
from epcloud.storage import S3FileSystem


@pytest.fixture
def study_url(study_fs: S3FileSystem, s3_options: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_options["endpoint_url"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_options["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_options["aws_secret_access_key"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", s3_options["region_name"])
    return study_fs.url()


def test_create_worker_status_collect(
    study_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep = tmp_path / "sweep.json"
    sweep.write_text(json.dumps([{"label": f"r{r}", "wall_r": r} for r in (1.0, 2.0, 3.0)]))
    args = ["study", "create", study_url, str(sweep), "--design-day", "--shards", "2", "--metadata", "who=me"]
    assert main([*args, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["job_count"], info["shard_count"], info["metadata"]) == (3, 2, {"who": "me"})
    assert main(args) == 2  # refuses the existing study (bad input: exit 2)
    assert "already exists" in capsys.readouterr().err

    assert main(["worker", study_url, "--index", "1", "--count", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["succeeded"] == 1
    assert main(["worker", study_url, "--index", "2", "--count", "2"]) == 2
    assert "out of range" in capsys.readouterr().err

    assert main(["study", "status", study_url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "total": 3,
        "succeeded": 1,
        "failed": 0,
        "running": 0,
        "pending": 2,
    }
    assert main(["collect", study_url, "--json"]) == 0
    collected = json.loads(capsys.readouterr().out)
    assert collected["jobs"] == 3 and collected["status"] == {"pending": 2, "succeeded": 1}

    assert main(["rerun", study_url, "--missing", "--run", "--json"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert json.loads(out[0])["selected"] == ["job-000000", "job-000002"]
    assert json.loads(out[1])["succeeded"] == 2


def test_status_watch_follows_the_workers_until_done(
    study_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import threading

    sweep = tmp_path / "sweep.json"
    sweep.write_text(json.dumps([{"label": f"r{r}", "wall_r": r} for r in (1.0, 3.0)]))
    assert main(["study", "create", study_url, str(sweep), "--design-day", "--shards", "1", "--json"]) == 0
    capsys.readouterr()
    watched: list[int] = []
    watcher = threading.Thread(target=lambda: watched.append(main(["status", study_url, "--watch", "0.2"])))
    watcher.start()
    try:
        watcher.join(timeout=1.0)
        assert watcher.is_alive()  # nothing has run yet: still watching
        assert main(["worker", study_url, "--index", "0", "--count", "1", "--json"]) == 0
    finally:
        watcher.join(timeout=60)
    assert not watcher.is_alive() and watched == [0]
    assert "2 jobs: 2 succeeded, 0 failed, 0 running, 0 pending" in capsys.readouterr().out
