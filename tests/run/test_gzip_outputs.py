"""Optional gzip of large outputs on their way to a store, read back transparently."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest

from epcloud.errors import CorruptResultError
from epcloud.model import Shoebox
from epcloud.results.simulation_result import SimulationResult
from epcloud.run.simulate import async_simulate, simulate
from epcloud.rundir.run_status import STATUS_FILENAME
from epcloud.rundir.upload import UploadPolicy
from epcloud.simulation import TEXT_OUTPUTS
from epcloud.storage import LocalFileSystem, S3FileSystem
from fixtures_s3 import count_requests

# Every output, the text ones over 2 kB gzip'd: a design-day run's .eso, .eio and reports qualify.
PACKED = UploadPolicy(include=("*",), gzip=TEXT_OUTPUTS, gzip_min_bytes=2000)


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("EPCLOUD_CACHE_DIR", str(cache))
    return cache


def test_pack_chooses_by_pattern_size_and_upload_set(tmp_path: Path) -> None:
    (tmp_path / "eplusout.eso").write_text("1,2,3\n" * 1000)
    (tmp_path / "eplusout.mtr").write_text("tiny\n")  # under the size floor
    (tmp_path / "eplusout.sql").write_bytes(b"\0" * 5000)  # not a pattern given
    (tmp_path / "eplusout.csv").write_text("a,b\n" * 1000)  # excluded from the upload
    (tmp_path / STATUS_FILENAME).write_text("{}" + " " * 5000)
    policy = UploadPolicy(include=("*",), exclude=("*.csv",), gzip=TEXT_OUTPUTS, gzip_min_bytes=1000)
    assert policy.pack(tmp_path, "eplus") == ["eplusout.eso.gz"]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["eplusout.csv", "eplusout.eso.gz", "eplusout.mtr", "eplusout.sql", STATUS_FILENAME]
    assert gzip.decompress((tmp_path / "eplusout.eso.gz").read_bytes()) == b"1,2,3\n" * 1000
    assert policy.select(names, "eplus") == [n for n in names if n != "eplusout.csv"]
    again = tmp_path / "again"  # no timestamp inside: the same file packs to the same bytes
    again.mkdir()
    (again / "eplusout.eso").write_text("1,2,3\n" * 1000)
    policy.pack(again, "eplus")
    assert (again / "eplusout.eso.gz").read_bytes() == (tmp_path / "eplusout.eso.gz").read_bytes()


def test_no_gzip_by_default(tmp_path: Path) -> None:
    (tmp_path / "eplusout.eso").write_text("x" * (2 << 20))
    assert UploadPolicy().pack(tmp_path, "eplus") == []
    assert (tmp_path / "eplusout.eso").is_file()


def test_gzipped_run_in_s3_reads_like_a_plain_one(
    s3_fs: S3FileSystem, s3_bucket: str, s3_options: dict, tmp_path: Path
) -> None:
    result = simulate(Shoebox().to_idf(), None, output_dir="packed", fs=s3_fs, design_day=True, upload=PACKED)
    assert result.success
    stored = {info.path.rsplit("/", 1)[-1]: info.size for info in s3_fs.list_files("packed")}
    assert "eplusout.eso.gz" in stored and "eplusout.eso" not in stored
    assert "eplusout.sql" in stored and STATUS_FILENAME in stored  # binary and status: as they are
    assert result.status.outputs["eplusout.eso.gz"] == stored["eplusout.eso.gz"]
    plain = gzip.decompress(s3_fs.read_bytes("packed/eplusout.eso.gz"))
    assert len(plain) > 3 * stored["eplusout.eso.gz"]  # it did shrink

    reader = S3FileSystem(s3_bucket, prefix="test/", **s3_options)
    with count_requests(reader) as counts:
        reopened = SimulationResult.from_directory("packed", fs=reader)
        eso = reopened.path("eso")
        assert eso is not None and eso.name == "eplusout.eso"
        assert eso.read_bytes() == plain and eso.read_text().startswith("Program Version,EnergyPlus")
        assert reopened.errors.completed_successfully  # the .err may be packed too
        assert reopened.sql.list_variables()
    assert counts["ListObjectsV2"] == 0
    assert reopened.path("eso") == eso and not eso.with_name("eplusout.eso.gz").exists()
    assert reopened.has("eso") and not reopened.has("csv")

    files = reopened.download(tmp_path / "copy")
    assert all(not p.name.endswith(".gz") and p.is_file() for p in files)
    assert (tmp_path / "copy" / "eplusout.eso").read_bytes() == plain
    assert not list((tmp_path / "copy").glob("*.gz"))


def test_damaged_archive_in_the_store(s3_fs: S3FileSystem) -> None:
    simulate(Shoebox().to_idf(), None, output_dir="damaged", fs=s3_fs, design_day=True, upload=PACKED)
    data = s3_fs.read_bytes("damaged/eplusout.eso.gz")
    s3_fs.write_bytes("damaged/eplusout.eso.gz", data[: len(data) // 2])
    with pytest.raises(CorruptResultError, match=r"eplusout\.eso\.gz"):
        SimulationResult.from_directory("damaged", fs=s3_fs).path("eso")


def test_gzipped_run_in_a_local_store(tmp_path: Path, private_cache: Path) -> None:
    store = LocalFileSystem(tmp_path / "store")
    simulate(Shoebox().to_idf(), None, output_dir="run", fs=store, design_day=True, upload=PACKED)
    folder = tmp_path / "store" / "run"
    assert (folder / "eplusout.eso.gz").is_file() and not (folder / "eplusout.eso").exists()
    reopened = SimulationResult.from_directory("run", fs=store)
    eso = reopened.path("eso")
    assert eso is not None and eso.is_relative_to(private_cache)  # unpacked into the cache, not the run
    assert eso.read_bytes() == gzip.decompress((folder / "eplusout.eso.gz").read_bytes())
    assert not (folder / "eplusout.eso").exists()


async def test_async_gzipped_run(async_s3_fs: Any) -> None:
    result = await async_simulate(
        Shoebox().to_idf(), None, output_dir="apacked", fs=async_s3_fs, design_day=True, upload=PACKED
    )
    assert result.success
    reopened = await SimulationResult.async_from_directory("apacked", async_s3_fs)
    await reopened.async_fetch("eso", "sql")
    eso = reopened.path("eso")
    assert eso is not None and eso.read_text().startswith("Program Version,EnergyPlus")
    assert reopened.sql.list_variables()
