"""Store path rules, and the local backend's own behaviour (roots, plain OS paths, atomic writes)."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

from epcloud.errors import StorageError, StorageNotFoundError, StoragePathError
from epcloud.storage import LocalFileSystem, normalize_path
from epcloud.storage.localio import write_atomically
from epcloud.storage.paths import join_path, normalize_prefix, relative_path


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("a", "a"),
        ("a/b/c.txt", "a/b/c.txt"),
        ("folder/", "folder"),
        ("ünï/温度 1.txt", "ünï/温度 1.txt"),
        ("a..b/c", "a..b/c"),
        ("...", "..."),
        (PurePosixPath("x/y"), "x/y"),
        (PureWindowsPath("x\\y"), "x/y"),
    ],
)
def test_valid_paths(given: str, expected: str) -> None:
    assert normalize_path(given) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "",
        ".",
        "..",
        "../a",
        "a/..",
        "a/../b",
        "/a",
        "//a",
        "a//b",
        "a/./b",
        "a\\b",
        "C:/a",
        "c:a",
        "a\x00b",
        "a\nb",
    ],
)
def test_invalid_paths(bad: str) -> None:
    with pytest.raises(StoragePathError):
        normalize_path(bad)


def test_root_only_where_a_folder_is_meant() -> None:
    assert normalize_path("", allow_root=True) == ""
    assert normalize_path(".", allow_root=True) == ""
    with pytest.raises(StoragePathError):
        normalize_path("..", allow_root=True)


def test_prefixes_and_joins() -> None:
    assert normalize_prefix("/runs/2024/") == "runs/2024"
    assert normalize_prefix("") == normalize_prefix("/") == ""
    with pytest.raises(StoragePathError):
        normalize_prefix("runs/../..")
    assert join_path("", "a") == "a" and join_path("p", "") == "p" and join_path("p", "a") == "p/a"
    assert relative_path("p", "p/a/b") == "a/b" and relative_path("", "a") == "a"


def test_local_root_cannot_be_escaped_even_by_path_objects(tmp_path: Path) -> None:
    fs = LocalFileSystem(tmp_path / "root")
    with pytest.raises(StoragePathError):
        fs.write_bytes(Path("..") / "outside.txt", b"x")
    with pytest.raises(StoragePathError):
        fs.write_bytes(str(tmp_path / "outside.txt"), b"x")
    assert not (tmp_path / "outside.txt").exists()


def test_local_without_root_takes_os_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fs = LocalFileSystem()
    target = tmp_path / "abs" / "f.txt"
    fs.write_text(target, "absolute")
    assert fs.read_text(str(target)) == "absolute"
    assert fs.glob(tmp_path / "abs", "*.txt") == [f"{tmp_path}/abs/f.txt"]
    assert fs.url(target) == str(target)
    monkeypatch.chdir(tmp_path)
    fs.write_text("rel/g.txt", "relative")
    assert (tmp_path / "rel" / "g.txt").read_text() == "relative"
    assert fs.glob("rel", "*") == ["rel/g.txt"]
    assert [info.path for info in fs.list_files("rel")] == ["rel/g.txt"]


def test_local_writes_are_atomic_and_leave_no_temporaries(tmp_path: Path) -> None:
    fs = LocalFileSystem(tmp_path)

    class Boom(Exception):
        pass

    def failing_fill(_: str) -> None:
        raise Boom

    fs.write_bytes("f.txt", b"old")
    with pytest.raises(Boom):
        write_atomically(tmp_path / "f.txt", failing_fill)
    assert fs.read_bytes("f.txt") == b"old"
    assert os.listdir(tmp_path) == ["f.txt"]


def test_local_errors_are_storage_errors(tmp_path: Path) -> None:
    fs = LocalFileSystem(tmp_path)
    fs.makedirs("folder")
    with pytest.raises(StorageNotFoundError):
        fs.stat("folder")
    with pytest.raises(StorageError):
        fs.read_bytes("folder")
    with pytest.raises(StorageError):
        fs.makedirs("folder", exist_ok=False)
    fs.write_bytes("file.txt", b"1")
    with pytest.raises(StorageError):
        fs.write_bytes("file.txt/below.txt", b"1")
