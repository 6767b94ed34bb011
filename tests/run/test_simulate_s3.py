"""simulate(fs=...) end to end: the real engine, outputs in the S3 test server, results re-opened lazily."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from epcloud.errors import ResultNotFoundError, StoragePathError
from epcloud.model import Shoebox, load_idf
from epcloud.results.simulation_result import SimulationResult
from epcloud.run.simulate import async_simulate, simulate
from epcloud.rundir.run_status import STATUS_FILENAME
from epcloud.rundir.upload import DEFAULT_UPLOAD
from epcloud.storage import LocalFileSystem, S3FileSystem
from fixtures_s3 import count_requests

TEMP = "Zone Mean Air Temperature"
HEATING = "Zone Ideal Loads Zone Total Heating Energy"


@pytest.fixture(scope="module")
def local_reference(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    return simulate(
        load_idf(Shoebox().to_idf()), None, output_dir=tmp_path_factory.mktemp("ref"), design_day=True
    )


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("EPCLOUD_CACHE_DIR", str(cache))
    return cache


def _keys(client: Any, bucket: str, prefix: str) -> list[str]:
    listing = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(obj["Key"] for obj in listing.get("Contents", []))


def test_simulate_to_s3_and_reopen_elsewhere(
    s3_fs: S3FileSystem,
    s3_client: Any,
    s3_bucket: str,
    s3_options: dict,
    local_reference: SimulationResult,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with count_requests(s3_fs) as counts:
        result = simulate(load_idf(Shoebox().to_idf()), None, output_dir="run-001", fs=s3_fs, design_day=True)
    # The local temporary run folder is gone; the store is the only copy.
    assert list(scratch.iterdir()) == []
    assert result.success
    keys = _keys(s3_client, s3_bucket, "test/run-001/")
    names = [k.rsplit("/", 1)[-1] for k in keys]
    assert "eplusout.sql" in names and STATUS_FILENAME in names and "eplusout.err" in names
    assert not any(n.endswith((".eso", ".epw", ".audit", ".shd")) for n in names)
    # One PUT per output, plus the store's write probe (a PUT and a DELETE) before the run.
    assert counts["PutObject"] == len(keys) + 1 and counts["DeleteObject"] == 1
    assert sum(counts.values()) == len(keys) + 2
    assert result.location == s3_fs.url("run-001")

    other = S3FileSystem(s3_bucket, prefix="test/", **s3_options)
    reopened = SimulationResult.from_directory("run-001", fs=other)
    with reopened:
        assert reopened.success and reopened.status == result.status
        assert reopened.sql.get_timeseries(TEMP).values == local_reference.sql.get_timeseries(TEMP).values


def test_reopen_and_five_queries_download_sql_once(
    s3_fs: S3FileSystem, s3_bucket: str, s3_options: dict, private_cache: Path
) -> None:
    simulate(load_idf(Shoebox().to_idf()), None, output_dir="q", fs=s3_fs, design_day=True)
    reader = S3FileSystem(s3_bucket, prefix="test/", **s3_options)
    with count_requests(reader) as counts:
        with SimulationResult.from_directory("q", fs=reader) as result:
            sql = result.sql
            sql.get_timeseries(TEMP)
            sql.get_timeseries(HEATING)
            sql.list_variables()
            sql.list_environments()
            sql.get_tabular_data(table_name="End Uses")
        first_open = dict(counts)
        # a second open in this or another process finds the SQL in the cache: the status GET only
        with SimulationResult.from_directory("q", fs=reader) as again:
            again.sql.get_timeseries(TEMP)
    assert first_open == {"GetObject": 2}  # the status file, then the SQL file; no listing
    assert dict(counts) == {"GetObject": 3}
    assert any(private_cache.rglob("eplusout.sql"))


def test_simulated_result_reads_sql_with_one_get(s3_fs: S3FileSystem) -> None:
    result = simulate(load_idf(Shoebox().to_idf()), None, output_dir="one-get", fs=s3_fs, design_day=True)
    assert result.status.outputs["eplusout.sql"] > 0 and STATUS_FILENAME not in result.status.outputs
    with count_requests(s3_fs) as counts:
        assert result.sql.list_variables()
    assert dict(counts) == {"GetObject": 1}


def test_output_left_out_of_the_upload_is_absent(s3_fs: S3FileSystem) -> None:
    simulate(
        load_idf(Shoebox().to_idf()), None, output_dir="sql-only", fs=s3_fs, design_day=True, upload=["*.sql"]
    )
    reopened = SimulationResult.from_directory("sql-only", fs=s3_fs)
    assert "eplusout.err" in reopened.status.outputs  # the run wrote it; it was not uploaded
    with count_requests(s3_fs) as counts:
        assert reopened.err_path is None and reopened.err_path is None
    assert dict(counts) == {"GetObject": 1}  # asked once: the store does not have it
    assert reopened.sql.list_variables()


def test_status_without_output_sizes_falls_back_to_the_listing(s3_fs: S3FileSystem) -> None:
    """Runs stored by an epcloud that did not record output sizes still open (with one listing)."""
    import json

    simulate(load_idf(Shoebox().to_idf()), None, output_dir="older", fs=s3_fs, design_day=True)
    status = json.loads(s3_fs.read_text(f"older/{STATUS_FILENAME}"))
    del status["outputs"]
    s3_fs.write_text(f"older/{STATUS_FILENAME}", json.dumps(status))
    with count_requests(s3_fs) as counts:
        reopened = SimulationResult.from_directory("older", fs=s3_fs)
        assert reopened.success and reopened.sql.list_variables()
    assert dict(counts) == {"GetObject": 2, "ListObjectsV2": 1}


def test_batch_download(s3_fs: S3FileSystem, tmp_path: Path) -> None:
    result = simulate(load_idf(Shoebox().to_idf()), None, output_dir="dl", fs=s3_fs, design_day=True)
    with count_requests(s3_fs) as counts:
        files = result.download(tmp_path / "copy")
    assert {p.name for p in files} >= {"eplusout.sql", "eplusout.err", STATUS_FILENAME}
    assert all(p.is_file() and p.stat().st_size > 0 for p in files)
    assert counts["ListObjectsV2"] == 1 and counts["GetObject"] == len(files)
    local = SimulationResult.from_directory(tmp_path / "copy")
    assert local.success and local.sql.list_variables()


def test_upload_patterns(s3_fs: S3FileSystem, s3_client: Any, s3_bucket: str) -> None:
    simulate(
        load_idf(Shoebox().to_idf()), None, output_dir="few", fs=s3_fs, design_day=True, upload=["*.sql"]
    )
    names = [k.rsplit("/", 1)[-1] for k in _keys(s3_client, s3_bucket, "test/few/")]
    assert names == ["eplusout.sql", STATUS_FILENAME]
    simulate(load_idf(Shoebox().to_idf()), None, output_dir="all", fs=s3_fs, design_day=True, upload="all")
    everything = [k.rsplit("/", 1)[-1] for k in _keys(s3_client, s3_bucket, "test/all/")]
    assert "eplusout.eso" in everything and len(everything) > len(DEFAULT_UPLOAD.include)


def test_status_uploaded_last(s3_fs: S3FileSystem) -> None:
    order: list[str] = []

    def on_send(request: Any, **_: Any) -> None:
        order.append(request.url.rsplit("/", 1)[-1].split("?")[0])

    s3_fs.client.meta.events.register("before-send.s3.PutObject", on_send)
    simulate(load_idf(Shoebox().to_idf()), None, output_dir="ordered", fs=s3_fs, design_day=True)
    assert order[-1] == STATUS_FILENAME and len(order) > 3


def test_failed_run_lands_with_failed_status(s3_fs: S3FileSystem) -> None:
    text = Shoebox().to_idf().replace("Construction, Roof, Roof Membrane,", "Construction, Roof, Missing,")
    result = simulate(load_idf(text), None, output_dir="bad", fs=s3_fs, design_day=True)
    assert not result.success
    reopened = SimulationResult.from_directory("bad", fs=s3_fs)
    assert not reopened.success and reopened.errors.fatal


@pytest.mark.parametrize("bad", ["../escape", "/abs/run", "a//b", "a/../../b", ""])
def test_output_dir_escaping_prefix_rejected_before_running(s3_fs: S3FileSystem, bad: str) -> None:
    with count_requests(s3_fs) as counts, pytest.raises(StoragePathError):
        simulate(load_idf(Shoebox().to_idf()), None, output_dir=bad, fs=s3_fs, design_day=True)
    assert sum(counts.values()) == 0


def test_fs_requires_output_dir(s3_fs: S3FileSystem) -> None:
    with pytest.raises(ValueError, match="output_dir is required"):
        simulate(load_idf(Shoebox().to_idf()), None, fs=s3_fs, design_day=True)


def test_missing_run_directory_in_store(s3_fs: S3FileSystem) -> None:
    with pytest.raises(ResultNotFoundError, match="no run at"):
        SimulationResult.from_directory("never-ran", fs=s3_fs)


def test_truncated_sql_in_store(s3_fs: S3FileSystem) -> None:
    from epcloud.errors import CorruptResultError

    simulate(load_idf(Shoebox().to_idf()), None, output_dir="trunc", fs=s3_fs, design_day=True)
    data = s3_fs.read_bytes("trunc/eplusout.sql")
    s3_fs.write_bytes("trunc/eplusout.sql", data[:4096])
    with pytest.raises(CorruptResultError, match=r"eplusout\.sql"):
        SimulationResult.from_directory("trunc", fs=s3_fs).sql.list_variables()


def test_local_filesystem_store(tmp_path: Path) -> None:
    fs = LocalFileSystem(tmp_path / "store")
    result = simulate(load_idf(Shoebox().to_idf()), None, output_dir="runs/one", fs=fs, design_day=True)
    assert (tmp_path / "store" / "runs" / "one" / "eplusout.sql").is_file()
    reopened = SimulationResult.from_directory("runs/one", fs=fs)
    assert reopened.sql_path == tmp_path / "store" / "runs" / "one" / "eplusout.sql"
    assert reopened.sql.get_timeseries(TEMP).values == result.sql.get_timeseries(TEMP).values


async def test_async_simulate_to_s3(
    async_s3_fs: Any, local_reference: SimulationResult, tmp_path: Path
) -> None:
    result = await async_simulate(
        load_idf(Shoebox().to_idf()), None, output_dir="arun", fs=async_s3_fs, design_day=True
    )
    assert result.success
    with count_requests(async_s3_fs) as counts:
        reopened = await SimulationResult.async_from_directory("arun", async_s3_fs)
        await reopened.async_fetch("sql")
    assert dict(counts) == {"GetObject": 2}  # the status, then the SQL; no listing
    assert reopened.sql.get_timeseries(TEMP).values == local_reference.sql.get_timeseries(TEMP).values
    files = await reopened.async_download(tmp_path / "copy")
    assert (tmp_path / "copy" / "eplusout.sql").stat().st_size == reopened.sql_path.stat().st_size
    assert len(files) >= 3
