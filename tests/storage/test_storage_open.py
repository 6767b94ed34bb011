"""open_fs / open_async_fs: a URL picks the store, and the store works."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from epcloud.storage import (
    AsyncLocalFileSystem,
    AsyncS3FileSystem,
    FileSystem,
    FsspecFileSystem,
    LocalFileSystem,
    S3FileSystem,
    ThreadedAsyncFileSystem,
    open_async_fs,
    open_fs,
)


def test_s3_url(s3_bucket: str, s3_options: dict[str, str]) -> None:
    fs = open_fs(f"s3://{s3_bucket}/studies/001/", sse="AES256", **s3_options)
    assert isinstance(fs, S3FileSystem)
    assert (fs.bucket, fs.prefix, fs.sse) == (s3_bucket, "studies/001", "AES256")
    fs.write_text("manifest.json", "{}")
    assert fs.url("manifest.json") == f"s3://{s3_bucket}/studies/001/manifest.json"
    assert open_fs(f"s3://{s3_bucket}", **s3_options).read_text("studies/001/manifest.json") == "{}"


def test_s3_url_needs_a_bucket() -> None:
    with pytest.raises(ValueError, match="bucket"):
        open_fs("s3:///prefix")


def test_file_url_and_plain_paths(tmp_path: Path) -> None:
    for url in [f"file://{tmp_path}", str(tmp_path), tmp_path]:
        fs = open_fs(url)
        assert isinstance(fs, LocalFileSystem)
        assert fs.root == tmp_path.resolve()
    open_fs(f"file://{tmp_path}").write_text("a/b.txt", "local")
    assert (tmp_path / "a" / "b.txt").read_text() == "local"
    assert open_fs(tmp_path).url("a/b.txt") == str(tmp_path.resolve() / "a" / "b.txt")


def test_local_store_takes_no_options(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="endpoint_url"):
        open_fs(tmp_path, endpoint_url="http://x")


def test_windows_drive_is_a_path_not_a_scheme() -> None:
    assert isinstance(open_fs("C:\\runs"), LocalFileSystem)


def test_memory_url_goes_through_fsspec() -> None:
    url = f"memory://epcloud-open-{uuid.uuid4().hex[:8]}/prefix"
    fs = open_fs(url)
    assert isinstance(fs, FsspecFileSystem) and isinstance(fs, FileSystem)
    fs.write_bytes("run/x.bin", b"mem")
    assert open_fs(url).read_bytes("run/x.bin") == b"mem"
    assert fs.url("run/x.bin").startswith("memory://")
    assert fs.glob("", "*.bin") == ["run/x.bin"]
    fs.fs.rm(fs.root, recursive=True)


async def test_open_async_fs_for_each_scheme(
    tmp_path: Path, s3_bucket: str, s3_options: dict[str, str]
) -> None:
    s3 = open_async_fs(f"s3://{s3_bucket}/p", **s3_options)
    assert isinstance(s3, AsyncS3FileSystem)
    async with s3 as fs:
        await fs.write_text("a.txt", "s3")
        assert await fs.read_text("a.txt") == "s3"
    local = open_async_fs(f"file://{tmp_path}")
    assert isinstance(local, AsyncLocalFileSystem)
    async with local as fs:
        await fs.write_text("a.txt", "local")
    assert (tmp_path / "a.txt").read_text() == "local"
    memory = open_async_fs(f"memory://epcloud-async-{uuid.uuid4().hex[:8]}")
    assert isinstance(memory, ThreadedAsyncFileSystem)
    async with memory as fs:
        await fs.write_text("a.txt", "memory")
        assert await fs.glob("", "*.txt") == ["a.txt"]
