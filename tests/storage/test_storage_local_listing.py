"""The local store's listing: what it lists and skips, beyond the contract every store passes."""

from __future__ import annotations

import os
from pathlib import Path

from epcloud.storage import LocalFileSystem
from epcloud.storage.localio import TMP_SUFFIX


def _tree(root: Path) -> dict[str, int]:
    """Files below ``root`` by relative POSIX path, with their sizes, as os.walk sees them."""
    found = {}
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            found[path.relative_to(root).as_posix()] = path.stat().st_size
    return found


def test_listing_matches_the_tree_with_sizes_and_mtimes(tmp_path: Path) -> None:
    fs = LocalFileSystem(tmp_path)
    for shard in range(3):
        for job in range(4):
            fs.write_bytes(f"done/shard-{shard:05d}/job-{job:06d}.succeeded.ab.json", b"x" * (shard + job))
    fs.write_bytes("done/shard-00001/deeper/still/f.txt", b"12")
    fs.write_bytes("done-other/g.txt", b"1")  # a sibling sharing the name's start is not below done/
    listed = fs.list_files("done")
    expected = {f"done/{rel}": size for rel, size in _tree(tmp_path / "done").items()}
    assert {info.path: info.size for info in listed} == expected and len(listed) == 13
    assert [info.path for info in listed] == sorted(expected)  # one order, whatever the disk's
    for info in listed:
        assert info.mtime == (tmp_path / info.path).stat().st_mtime and info.etag is None
    assert [info.path for info in fs.list_files("done/shard-00001/deeper")] == [
        "done/shard-00001/deeper/still/f.txt"
    ]


def test_listing_skips_temporaries_and_links_to_folders_and_vanished_files(tmp_path: Path) -> None:
    fs = LocalFileSystem(tmp_path / "store")
    fs.write_bytes("run/a.txt", b"a")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not below the store")
    (tmp_path / "store" / "run" / "linked").symlink_to(outside, target_is_directory=True)
    (tmp_path / "store" / "run" / "alias.txt").symlink_to(tmp_path / "store" / "run" / "a.txt")
    (tmp_path / "store" / "run" / "dangling.txt").symlink_to(tmp_path / "gone.txt")  # removed meanwhile
    (tmp_path / "store" / "run" / f".b.txt.123{TMP_SUFFIX}").write_bytes(b"half")
    listed = fs.list_files("run")
    assert [(info.path, info.size) for info in listed] == [("run/a.txt", 1), ("run/alias.txt", 1)]
    assert fs.list_files("run/a.txt") == []  # a file is not a folder: nothing below it
    assert fs.list_files("missing") == []


def test_listing_without_a_root_keeps_the_paths_as_given(tmp_path: Path) -> None:
    fs = LocalFileSystem()
    fs.write_bytes(tmp_path / "x" / "y" / "z.bin", b"123")
    assert [info.path for info in fs.list_files(f"{tmp_path}/x/")] == [f"{tmp_path}/x/y/z.bin"]
    assert [info.path for info in fs.list_files(tmp_path / "x" / "y")] == [f"{tmp_path}/x/y/z.bin"]
