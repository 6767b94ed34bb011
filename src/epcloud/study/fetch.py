"""A worker's inputs: each distinct model and weather file once, from the study's content-addressed
store into the local cache, checked against its hash."""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from epcloud.errors import StorageNotFoundError, StudyInputError
from epcloud.study.manifest import JobEntry

if TYPE_CHECKING:
    from epcloud.storage import FileSystem

__all__ = ["FETCH_THREADS", "InputFetches", "fetch_inputs"]

FETCH_THREADS = 16


def _inputs_dir() -> Path:
    from epcloud.cachedir import cache_dir

    return cache_dir("study-inputs")


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch_one(fs: FileSystem, path: str, sha: str) -> Path:
    """One content-addressed input in the local cache; downloaded once, checked against its hash."""
    target = _inputs_dir() / Path(path).name
    if target.is_file():
        return target
    try:
        fs.download_file(path, target)
    except StorageNotFoundError as exc:
        raise StudyInputError(
            f"input {fs.url(path)} is missing from the study: it was deleted or never uploaded; "
            "re-create the study (Study.create(..., overwrite=True))"
        ) from exc
    if _sha256_of(target) != sha:
        target.unlink(missing_ok=True)
        raise StudyInputError(f"input {fs.url(path)} does not match its content hash {sha[:12]}...")
    return target


def _wanted(entries: Sequence[JobEntry]) -> dict[str, str]:
    """Each distinct input of the entries with its content hash, in the order the jobs need them."""
    wanted: dict[str, str] = {}
    for entry in entries:
        wanted[entry.model_path] = entry.model_sha256
        if entry.weather_path and entry.weather_sha256:
            wanted[entry.weather_path] = entry.weather_sha256
    return wanted


def fetch_inputs(fs: FileSystem, entries: Sequence[JobEntry]) -> dict[str, Path]:
    """Local copies of every distinct model and weather file the entries need, in parallel."""
    with cf.ThreadPoolExecutor(max_workers=FETCH_THREADS) as pool:
        fetches = InputFetches(fs, entries, pool)
        return {path: fetches[path] for path in fetches}


class InputFetches(Mapping[str, Path]):
    """The local copies of a worker's inputs, fetched in the background in job order: a job waits only
    for its own. `wait_all` raises the first failed fetch, so nothing is stored before every input has
    been checked against its hash."""

    def __init__(self, fs: FileSystem, entries: Sequence[JobEntry], pool: cf.Executor) -> None:
        wanted = _wanted(entries)
        self._futures = {path: pool.submit(_fetch_one, fs, path, sha) for path, sha in wanted.items()}

    def __getitem__(self, path: str) -> Path:
        return self._futures[path].result()

    def __iter__(self) -> Iterator[str]:
        return iter(self._futures)

    def __len__(self) -> int:
        return len(self._futures)

    def wait_all(self) -> None:
        for future in self._futures.values():
            future.result()
