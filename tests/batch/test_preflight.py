"""A store that will be written is proven writable before any engine starts, once per store instance."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from epcloud import Study
from epcloud.batch import SimulationJob, async_simulate_batch, simulate_batch
from epcloud.errors import StorageBucketNotFoundError, StorageConnectionError, StoragePermissionError
from epcloud.model import Shoebox
from epcloud.run.simulate import async_simulate, simulate
from epcloud.storage import AsyncS3FileSystem, S3FileSystem
from fixtures_s3 import count_requests

MISSING = "epcloud-no-such-bucket"


def _jobs(n: int) -> list[SimulationJob]:
    model = Shoebox().to_idf()
    return [
        SimulationJob(model, None, label=f"j{i}", output_dir=f"b/j{i}", design_day=True) for i in range(n)
    ]


def test_simulate_into_a_missing_bucket_starts_no_engine(
    s3_options: dict[str, str], engine_runs: list[list[str]], chicago_epw: Path
) -> None:
    fs = S3FileSystem(MISSING, prefix="p", **s3_options)
    with pytest.raises(StorageBucketNotFoundError, match=MISSING):
        simulate(Shoebox().to_idf(), chicago_epw, output_dir="run-1", fs=fs, annual=True)
    assert engine_runs == []


def test_denied_write_and_bad_credentials_start_no_engine(s3_auth_server: Any, engine_runs: list) -> None:
    for keys in (s3_auth_server.denied, {"aws_access_key_id": "AKIANOSUCHKEY", "aws_secret_access_key": "x"}):
        fs = S3FileSystem(
            s3_auth_server.bucket, endpoint_url=s3_auth_server.endpoint, region_name="us-east-1", **keys
        )
        with pytest.raises(StoragePermissionError):
            simulate(Shoebox().to_idf(), None, output_dir="run", fs=fs, design_day=True)
    assert engine_runs == []


def test_unreachable_endpoint_starts_no_engine(unused_tcp_port: int, engine_runs: list) -> None:
    fs = S3FileSystem(
        "b", endpoint_url=f"http://127.0.0.1:{unused_tcp_port}", region_name="us-east-1",
        aws_access_key_id="k", aws_secret_access_key="s",
    )  # fmt: skip
    with pytest.raises(StorageConnectionError):
        simulate_batch(_jobs(3), fs=fs)
    assert engine_runs == []


def test_a_batch_probes_once(s3_fs: S3FileSystem, engine_runs: list) -> None:
    with count_requests(s3_fs) as counts:
        batch = simulate_batch(_jobs(3), fs=s3_fs, max_workers=2)
    assert batch.all_succeeded and len(engine_runs) == 3
    # The probe is the only DELETE; every job then uploads without probing again.
    assert counts["DeleteObject"] == 1
    with count_requests(s3_fs) as again:
        simulate(Shoebox().to_idf(), None, output_dir="one-more", fs=s3_fs, design_day=True)
    assert again["DeleteObject"] == 0, "the answer is cached on the store instance"


def test_async_batch_and_simulate_probe_first(s3_options: dict[str, str], engine_runs: list) -> None:
    async def go() -> None:
        async with AsyncS3FileSystem(MISSING, prefix="p", **s3_options) as fs:
            with pytest.raises(StorageBucketNotFoundError):
                await async_simulate_batch(_jobs(2), fs=fs)
            with pytest.raises(StorageBucketNotFoundError):
                await async_simulate(Shoebox().to_idf(), None, output_dir="x", fs=fs, design_day=True)

    asyncio.run(go())
    assert engine_runs == []


def test_study_create_probes_before_the_pilot(s3_options: dict[str, str], engine_runs: list) -> None:
    fs = S3FileSystem(MISSING, prefix="st", **s3_options)
    with pytest.raises(StorageBucketNotFoundError):
        Study.create(fs, _jobs(2), pilot=True)  # the pilot would run an engine: the probe comes first
    assert engine_runs == []


def test_cli_run_into_a_missing_bucket_fails_before_the_run(
    s3_options: dict[str, str], tmp_path: Path, chicago_epw: Path
) -> None:
    model = tmp_path / "shoebox.idf"
    model.write_text(Shoebox().to_idf())
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {
        **os.environ,
        "TMPDIR": str(scratch),
        "AWS_ENDPOINT_URL": s3_options["endpoint_url"],
        "AWS_ACCESS_KEY_ID": s3_options["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": s3_options["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": s3_options["region_name"],
    }
    args = ["run", str(model), "-w", str(chicago_epw), "--annual", "-o", f"s3://{MISSING}/run-1"]
    done = subprocess.run([sys.executable, "-m", "epcloud", *args], env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert f"bucket '{MISSING}' does not exist" in done.stderr and "Traceback" not in done.stderr
    assert list(scratch.iterdir()) == [], "no run folder was made: the engine never started"
