"""Which outputs of a run go to the store, and sending them there concurrently, the status file last."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING

from epcloud.rundir.compression import GZ, gzip_in_place
from epcloud.rundir.run_status import STATUS_FILENAME

if TYPE_CHECKING:
    from epcloud.storage import AsyncFileSystem, FileSystem

__all__ = ["DEFAULT_UPLOAD", "UploadPolicy", "async_upload_outputs", "upload_outputs"]

# `{p}` stands for the run's output prefix.
_DEFAULT_INCLUDE = (
    "{p}out.sql",  # every series and the tabular reports
    "{p}out.err",  # (the .end file says only what run-status.json says: left out)
    "{p}out.eio",
    "{p}tbl.htm",
    "{p}tbl.csv",
    "{p}out.csv",  # only there with readvars
    "{p}mtr.csv",
    "in.idf",  # the exact model that ran
    "in.epJSON",
    STATUS_FILENAME,
)


@dataclass(frozen=True)
class UploadPolicy:
    """File-name patterns (fnmatch; ``{p}`` = output prefix) choosing the outputs that go to the store.

    The status file always goes too, and last: its presence in the store means the run is complete.
    Outputs matching ``gzip`` (e.g. `TEXT_OUTPUTS`) and at least ``gzip_min_bytes`` long are stored
    gzip'd as ``NAME.gz``; results read them back as plain files.
    """

    include: tuple[str, ...] = _DEFAULT_INCLUDE
    exclude: tuple[str, ...] = ()
    gzip: tuple[str, ...] = ()
    gzip_min_bytes: int = 1 << 20

    @classmethod
    def coerce(cls, value: UploadPolicy | str | Sequence[str] | None) -> UploadPolicy:
        """``None`` → the default set; ``"all"`` → everything; a list of patterns → exactly those."""
        if value is None:
            return DEFAULT_UPLOAD
        if isinstance(value, UploadPolicy):
            return value
        if value == "all":
            return cls(include=("*",))
        if isinstance(value, str):
            return cls(include=(value,))
        return cls(include=tuple(value))

    def pack(self, run_dir: Path, output_prefix: str) -> list[str]:
        """Gzip, in the run folder, the outputs that go to the store gzip'd; returns the new names."""
        if not self.gzip:
            return []
        patterns = [p.format(p=output_prefix) for p in self.gzip]
        packed = []
        for entry in list(os.scandir(run_dir)):  # listed first: packing changes the folder
            name = entry.name
            if (
                entry.is_file()
                and name != STATUS_FILENAME
                and not name.endswith(GZ)
                and entry.stat().st_size >= self.gzip_min_bytes
                and any(fnmatchcase(name, p) for p in patterns)
                and self.select([name], output_prefix)
            ):
                packed.append(gzip_in_place(Path(entry.path)).name)
        return sorted(packed)

    def select(self, names: Iterable[str], output_prefix: str) -> list[str]:
        """The names that go to the store; a packed ``NAME.gz`` goes when ``NAME`` would."""
        include = [p.format(p=output_prefix) for p in self.include]
        exclude = [p.format(p=output_prefix) for p in self.exclude]

        def chosen(name: str) -> bool:
            wanted = any(fnmatchcase(name, p) for p in include)
            return wanted and not any(fnmatchcase(name, p) for p in exclude)

        return sorted(n for n in names if chosen(n) or (n.endswith(GZ) and chosen(n[: -len(GZ)])))


DEFAULT_UPLOAD = UploadPolicy()


def _plan(run_dir: Path, policy: UploadPolicy, output_prefix: str) -> tuple[list[str], bool]:
    """The files to send besides the status file, which always goes, last, when the run wrote it."""
    names = [entry.name for entry in os.scandir(run_dir) if entry.is_file()]
    chosen = [n for n in policy.select(names, output_prefix) if n != STATUS_FILENAME]
    return chosen, STATUS_FILENAME in names


def _join(dest: str, name: str) -> str:
    return f"{dest.rstrip('/')}/{name}" if dest else name


def upload_outputs(
    run_dir: Path,
    fs: FileSystem,
    dest: str,
    *,
    policy: UploadPolicy,
    output_prefix: str,
    max_workers: int = 8,
    pool: Executor | None = None,
) -> list[str]:
    """Upload the chosen outputs in parallel, then the status file: its presence means "complete".

    ``pool`` is the threads to send on (a worker's one pool); else a pool of ``max_workers`` for this call.
    """
    files, has_status = _plan(run_dir, policy, output_prefix)

    def send(name: str) -> None:
        fs.upload_file(run_dir / name, _join(dest, name))

    if len(files) == 1:
        send(files[0])
    elif files and pool is not None:
        for future in [pool.submit(send, name) for name in files]:
            future.result()
    elif files:
        with ThreadPoolExecutor(max_workers=min(max_workers, len(files))) as own:
            list(own.map(send, files))
    if has_status:
        send(STATUS_FILENAME)
        files.append(STATUS_FILENAME)
    return files


async def async_upload_outputs(
    run_dir: Path,
    fs: AsyncFileSystem,
    dest: str,
    *,
    policy: UploadPolicy,
    output_prefix: str,
    max_workers: int = 8,
) -> list[str]:
    """The coroutine twin of `upload_outputs`."""
    files, has_status = await asyncio.to_thread(_plan, run_dir, policy, output_prefix)
    gate = asyncio.Semaphore(max_workers)

    async def send(name: str) -> None:
        async with gate:
            await fs.upload_file(run_dir / name, _join(dest, name))

    await asyncio.gather(*(send(name) for name in files))
    if has_status:
        await fs.upload_file(run_dir / STATUS_FILENAME, _join(dest, STATUS_FILENAME))
        files.append(STATUS_FILENAME)
    return files
