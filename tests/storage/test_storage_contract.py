"""The one FileSystem contract, run against every store: local disk, S3 over HTTP, fsspec memory, and the
async local and async S3 stores (their coroutines run on an event loop by the `Blocking` facade)."""

from __future__ import annotations

import inspect
import pickle
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from storage_helpers import Blocking

from epcloud.errors import StorageNotFoundError, StoragePathError, StoragePreconditionError
from epcloud.storage import AsyncFileSystem, FileInfo, FileSystem, LocalFileSystem
from epcloud.storage.base import ASYNC_METHODS


def test_every_backend_is_a_filesystem(store: FileSystem) -> None:
    if isinstance(store, Blocking):
        assert isinstance(store.inner, AsyncFileSystem)
        assert all(inspect.iscoroutinefunction(getattr(store.inner, name)) for name in ASYNC_METHODS)
    else:
        assert isinstance(store, FileSystem)


def test_bytes_round_trip(store: FileSystem) -> None:
    data = bytes(range(256)) * 10
    store.write_bytes("run-1/eplusout.sql", data)
    assert store.read_bytes("run-1/eplusout.sql") == data


def test_text_round_trip_with_unicode_key_and_content(store: FileSystem) -> None:
    text = "Zone ünïcødé — 温度 ✓\nline 2\n"
    store.write_text("données/résumé 1.txt", text)
    assert store.read_text("données/résumé 1.txt") == text
    store.write_text("latin.txt", "café", encoding="latin-1")
    assert store.read_bytes("latin.txt") == "café".encode("latin-1")
    assert store.read_text("latin.txt", encoding="latin-1") == "café"


def test_path_objects_are_accepted(store: FileSystem) -> None:
    store.write_bytes(PurePosixPath("a") / "b.txt", b"x")
    assert store.exists("a/b.txt")
    assert store.read_bytes(PurePosixPath("a/b.txt")) == b"x"


def test_overwrite_replaces_content(store: FileSystem) -> None:
    store.write_bytes("f.txt", b"first, longer content")
    store.write_bytes("f.txt", b"second")
    assert store.read_bytes("f.txt") == b"second"


def test_empty_file(store: FileSystem) -> None:
    store.write_bytes("empty.bin", b"")
    assert store.read_bytes("empty.bin") == b""
    assert store.stat("empty.bin").size == 0


def test_exists(store: FileSystem) -> None:
    assert not store.exists("nothing/here.txt")
    store.write_bytes("nothing/here.txt", b"1")
    assert store.exists("nothing/here.txt")
    assert not store.exists("nothing")  # a folder is not a file


def test_missing_file_raises_not_found_naming_it(store: FileSystem) -> None:
    with pytest.raises(StorageNotFoundError, match=r"missing\.txt") as caught:
        store.read_bytes("run/missing.txt")
    assert isinstance(caught.value, FileNotFoundError)
    with pytest.raises(StorageNotFoundError):
        store.stat("run/missing.txt")
    with pytest.raises(StorageNotFoundError):
        store.copy("run/missing.txt", "run/copy.txt")


def test_list_files_is_recursive_sorted_and_below_the_folder(store: FileSystem) -> None:
    for name in ["run/b.txt", "run/a.txt", "run/sub/deep/c.csv", "runner/x.txt", "top.txt"]:
        store.write_bytes(name, b"12345")
    listed = store.list_files("run")
    assert [info.path for info in listed] == ["run/a.txt", "run/b.txt", "run/sub/deep/c.csv"]
    assert all(isinstance(info, FileInfo) and info.size == 5 for info in listed)
    assert all(info.mtime is not None and info.mtime > 1e9 for info in listed)
    assert [info.path for info in store.list_files("run/")] == [info.path for info in listed]
    assert len(store.list_files()) == 5
    assert store.list_files("nowhere") == []


def test_glob_matches_paths_relative_to_the_folder(store: FileSystem) -> None:
    for name in ["run/eplusout.sql", "run/eplusout.err", "run/sub/other.sql", "run2/x.sql"]:
        store.write_bytes(name, b"")
    assert store.glob("run", "*.sql") == ["run/eplusout.sql", "run/sub/other.sql"]
    assert store.glob("run", "eplusout.*") == ["run/eplusout.err", "run/eplusout.sql"]
    assert store.glob("run", "sub/*") == ["run/sub/other.sql"]
    assert store.glob("", "run*/*.sql") == ["run/eplusout.sql", "run/sub/other.sql", "run2/x.sql"]
    assert store.glob("run", "*.csv") == []
    for found in store.glob("run", "*"):
        store.read_bytes(found)  # results are store paths that work as they are


def test_copy(store: FileSystem) -> None:
    store.write_bytes("src/a.bin", b"payload")
    store.copy("src/a.bin", "dst/deeper/b.bin")
    assert store.read_bytes("dst/deeper/b.bin") == b"payload"
    assert store.read_bytes("src/a.bin") == b"payload"


def test_remove_is_idempotent(store: FileSystem) -> None:
    store.write_bytes("gone.txt", b"x")
    store.remove("gone.txt")
    assert not store.exists("gone.txt")
    store.remove("gone.txt")
    store.remove("never/existed.txt")


def test_makedirs_then_write_inside(store: FileSystem) -> None:
    store.makedirs("a/b/c")
    store.makedirs("a/b/c", exist_ok=True)
    store.write_bytes("a/b/c/f.txt", b"1")
    assert store.glob("a", "*") == ["a/b/c/f.txt"]


def test_upload_and_download(store: FileSystem, tmp_path: Path) -> None:
    source = tmp_path / "local" / "in.bin"
    source.parent.mkdir()
    source.write_bytes(b"\x00\x01" * 5000)
    store.upload_file(source, "runs/1/in.bin")
    assert store.read_bytes("runs/1/in.bin") == source.read_bytes()
    target = tmp_path / "out" / "nested" / "copy.bin"
    store.download_file("runs/1/in.bin", target)
    assert target.read_bytes() == source.read_bytes()
    assert [p.name for p in target.parent.iterdir()] == ["copy.bin"]  # no temporary files left


def test_download_of_missing_file_leaves_nothing(store: FileSystem, tmp_path: Path) -> None:
    folder = tmp_path / "dl"
    with pytest.raises(StorageNotFoundError):
        store.download_file("missing.bin", folder / "x.bin")
    assert not folder.exists() or list(folder.iterdir()) == []


def test_stat(store: FileSystem) -> None:
    store.write_bytes("s/file.txt", b"hello")
    info = store.stat("s/file.txt")
    assert info.path == "s/file.txt"
    assert info.size == 5
    assert info.mtime is not None


def test_url_names_the_location(store: FileSystem) -> None:
    url = store.url("run/eplusout.sql")
    assert url.endswith("run/eplusout.sql")
    assert "://" in url or Path(url).is_absolute()


@pytest.mark.parametrize(
    "bad",
    ["../escape.txt", "a/../../escape.txt", "/etc/passwd", "a//b.txt", "a\\..\\b.txt", "./a.txt", "", "C:/x"],
)
def test_paths_leaving_the_store_are_rejected(store: FileSystem, bad: str) -> None:
    with pytest.raises(StoragePathError):
        store.write_bytes(bad, b"x")
    with pytest.raises(StoragePathError):
        store.read_bytes(bad)


def test_store_survives_pickling(store: FileSystem) -> None:
    store.write_bytes("p.txt", b"before")
    if isinstance(store, Blocking):
        clone: Any = store.reopened(pickle.loads(pickle.dumps(store.inner)))
    else:
        clone = pickle.loads(pickle.dumps(store))
    assert clone.read_bytes("p.txt") == b"before"
    clone.write_bytes("p.txt", b"after")
    assert store.read_bytes("p.txt") == b"after"


def test_conditional_create(store: FileSystem) -> None:
    store.write_bytes("lease.json", b"mine", if_none_match=True)
    with pytest.raises(StoragePreconditionError, match=r"lease\.json"):
        store.write_bytes("lease.json", b"theirs", if_none_match=True)
    assert store.read_bytes("lease.json") == b"mine"


def test_conditional_replace(store: FileSystem) -> None:
    store.write_bytes("lease.json", b"first")
    version = store.stat("lease.json").version
    store.write_bytes("lease.json", b"second, longer", if_match=version)
    assert store.read_bytes("lease.json") == b"second, longer"
    with pytest.raises(StoragePreconditionError):
        store.write_bytes("lease.json", b"third", if_match=version)  # the version it had is gone
    assert store.read_bytes("lease.json") == b"second, longer"


def test_copy_from_another_store_of_another_kind(store: FileSystem, tmp_path: Path) -> None:
    other = LocalFileSystem(tmp_path / "elsewhere")
    other.write_bytes("runs/out.sql", b"sql bytes" * 100)
    store.copy_from(other, "runs/out.sql", "copied/out.sql")
    assert store.read_bytes("copied/out.sql") == b"sql bytes" * 100
    store.copy_from(store, "copied/out.sql", "again.sql")  # from itself: a plain copy
    assert store.read_bytes("again.sql") == b"sql bytes" * 100


def test_write_probe_leaves_nothing(store: FileSystem) -> None:
    store.write_bytes("kept.txt", b"1")
    store.check_writable()
    store.check_writable()  # answered from the instance
    assert [info.path for info in store.list_files()] == ["kept.txt"]
