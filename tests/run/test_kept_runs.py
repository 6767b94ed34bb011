"""A finished run is never thrown away: a failed upload keeps it locally, and `upload` finishes the job."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from epcloud.batch import SimulationJob, simulate_batch
from epcloud.errors import UploadFailedError
from epcloud.model import Shoebox
from epcloud.results.simulation_result import SimulationResult
from epcloud.run.simulate import async_simulate, simulate
from epcloud.rundir.run_status import STATUS_FILENAME
from epcloud.storage import AsyncS3FileSystem, S3FileSystem

TEMP = "Zone Mean Air Temperature"


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("EPCLOUD_CACHE_DIR", str(cache))
    return cache


def _deleter(s3_client: Any, bucket: str) -> Any:
    """A progress callback that deletes the bucket the first time the engine reports progress."""
    deleted: list[bool] = []

    def on_progress(_event: Any) -> None:
        if not deleted:
            deleted.append(True)
            s3_client.delete_bucket(Bucket=bucket)  # empty: nothing has been uploaded yet

    return on_progress, deleted


def test_bucket_deleted_during_an_annual_run_keeps_the_run(
    s3_fs: S3FileSystem, s3_client: Any, s3_bucket: str, chicago_epw: Path, private_cache: Path
) -> None:
    on_progress, deleted = _deleter(s3_client, s3_bucket)
    with pytest.raises(UploadFailedError) as caught:
        simulate(
            Shoebox().to_idf(),
            chicago_epw,
            output_dir="run-1",
            fs=s3_fs,
            annual=True,
            on_progress=on_progress,
        )
    assert deleted, "the bucket was deleted while the engine ran"
    error = caught.value
    kept = Path(error.kept_dir)
    assert kept.is_relative_to(private_cache / "unsent")
    assert (kept / "eplusout.sql").stat().st_size > 0 and (kept / STATUS_FILENAME).is_file()
    assert str(kept) in str(error) and ".upload(fs, 'run-1')" in str(error)
    assert error.destination == s3_fs.url("run-1")
    assert f"epcloud upload {kept} {s3_fs.url('run-1')}" in error.cli_message()

    # Finish it once the bucket is back: the stored run reads like any other.
    local = SimulationResult.from_directory(kept)
    assert local.success and local.status is not None and local.status.flags["annual"]
    s3_client.create_bucket(Bucket=s3_bucket)
    stored = local.upload(s3_fs, "run-1")
    assert stored.location == s3_fs.url("run-1")
    series = stored.sql.get_timeseries(TEMP, key="*")
    assert len(series.values) == 8760
    assert series.values == local.sql.get_timeseries(TEMP, key="*").values


async def test_async_simulate_keeps_the_run_too(
    s3_client: Any, s3_bucket: str, s3_options: dict[str, str], private_cache: Path
) -> None:
    on_progress, deleted = _deleter(s3_client, s3_bucket)
    async with AsyncS3FileSystem(s3_bucket, prefix="a/", **s3_options) as fs:
        with pytest.raises(UploadFailedError) as caught:
            await async_simulate(
                Shoebox().to_idf(), None, output_dir="dd", fs=fs, design_day=True, on_progress=on_progress
            )
        assert deleted
        kept = Path(caught.value.kept_dir)
        assert kept.is_relative_to(private_cache / "unsent") and (kept / "eplusout.sql").is_file()
        s3_client.create_bucket(Bucket=s3_bucket)
        stored = await SimulationResult.from_directory(kept).async_upload(fs, "dd")
        await stored.async_fetch("sql")
        assert stored.success and stored.sql.list_variables()


def test_a_batch_keeps_every_job_and_lists_them(
    s3_fs: S3FileSystem, s3_client: Any, s3_bucket: str, private_cache: Path
) -> None:
    on_progress, deleted = _deleter(s3_client, s3_bucket)
    jobs = [
        SimulationJob(
            Shoebox(wall_r=r).to_idf(), None, label=f"r{r}", output_dir=f"sweep/r{r}", design_day=True
        )
        for r in (1.0, 2.0, 3.0)
    ]
    batch = simulate_batch(jobs, fs=s3_fs, max_workers=1, on_progress=on_progress)
    assert deleted
    assert [job.label for job in batch.unsent] == ["r1.0", "r2.0", "r3.0"]
    for failure in batch.unsent:
        kept = Path(failure.kept_dir or "")
        assert kept.is_relative_to(private_cache / "unsent") and (kept / "eplusout.sql").is_file()
    assert "3 kept locally: upload failed" in repr(batch)
    assert batch.to_dataframe()["kept_dir"].notna().all()
    s3_client.create_bucket(Bucket=s3_bucket)  # for the fixture's clean-up


def test_cli_upload_sends_a_kept_run_and_removes_the_copy(
    s3_fs: S3FileSystem, s3_bucket: str, s3_options: dict[str, str], private_cache: Path, tmp_path: Path
) -> None:
    kept = private_cache / "unsent" / "20261201T000000Z-run-2-abc"
    simulate(Shoebox().to_idf(), None, output_dir=kept, design_day=True)
    env = {
        "EPCLOUD_CACHE_DIR": str(private_cache),
        "AWS_ENDPOINT_URL": s3_options["endpoint_url"],
        "AWS_ACCESS_KEY_ID": s3_options["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": s3_options["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": s3_options["region_name"],
        "PATH": "/usr/bin:/bin",
    }
    url = f"s3://{s3_bucket}/test/run-2"
    done = subprocess.run(
        [sys.executable, "-m", "epcloud", "upload", str(kept), url], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert f"uploaded {kept} to {url}" in done.stdout and "removed the kept copy" in done.stdout
    assert not kept.exists()
    stored = SimulationResult.from_directory("run-2", fs=s3_fs)
    assert stored.success and json.loads(s3_fs.read_text("run-2/" + STATUS_FILENAME))["success"]


def test_cli_upload_of_a_folder_that_is_no_run(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "epcloud", "upload", str(tmp_path), "s3://bucket/x/run"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and str(tmp_path) in done.stderr
