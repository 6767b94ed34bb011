"""The local folder a run happens in: made or reused safely, removed or kept when something fails.

A folder given as ``output_dir`` holds one run at a time. An epcloud run folder (it has
``run-status.json``) has its previous run's files removed first; any other non-empty folder is refused
unless the caller says to reuse it, and then its files are left alone and never listed as outputs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from epcloud.cachedir import cache_dir
from epcloud.errors import CorruptResultError, OutputDirNotEmptyError, UploadFailedError
from epcloud.rundir.naming import LEGACY, translate_pattern
from epcloud.rundir.run_status import STATUS_FILENAME, RunStatus

if TYPE_CHECKING:
    from epcloud.storage import AsyncFileSystem, FileSystem

__all__ = ["RunFolder", "kept_if_upload_fails", "open_run_folder", "removed_on_error"]

log = logging.getLogger(__name__)

# What an EnergyPlus run writes beside its outputs ({p} = output prefix; legacy names, translated for the
# other namings): removed before a new run so no stale file is taken for a new one, even when the previous
# status did not list it.
_RUN_PATTERNS = (
    "{p}out.*",
    "{p}tbl.*",
    "{p}mtr.*",
    "{p}ssz.*",
    "{p}zsz.*",
    "{p}map.*",
    "{p}shd.*",
    "{p}screen.csv",
    "{p}-*",
    "sqlite.err",
    "expanded.idf",
    "in.idf",
    "in.epJSON",
    "*.gz",
    STATUS_FILENAME,
)


@dataclass(frozen=True)
class RunFolder:
    """Where one run happens, whether it is temporary, and the files in it that are not this run's."""

    path: Path
    temporary: bool
    foreign: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # name -> (size, mtime_ns)

    def outputs(self) -> dict[str, int]:
        """Name -> size of every file this run wrote (files left in place, untouched, excluded)."""
        written = {}
        for entry in os.scandir(self.path):
            if not entry.is_file() or entry.name == STATUS_FILENAME:
                continue
            stat = entry.stat()
            if self.foreign.get(entry.name) != (stat.st_size, stat.st_mtime_ns):
                written[entry.name] = stat.st_size
        return written


def open_run_folder(
    output_dir: str | os.PathLike[str] | None, prefix: str, *, reuse: bool = False, suffix: str = LEGACY
) -> RunFolder:
    """The folder to run in: a new temporary one, or ``output_dir`` made ready for this run.

    Args:
        output_dir: the folder, or None for a temporary one.
        prefix: the run's output prefix (``eplus``), which names its files.
        reuse: run in a non-empty folder that is not an epcloud run folder, leaving its files alone.
        suffix: the run's output naming (L, C or D; see `epcloud.rundir.naming`).
    """
    if output_dir is None:
        return RunFolder(Path(tempfile.mkdtemp(prefix="epcloud-run-")), True)
    path = Path(output_dir).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise OutputDirNotEmptyError(f"output_dir {path} is a file, not a folder")
    path.mkdir(parents=True, exist_ok=True)
    names = {entry.name for entry in os.scandir(path)}
    if not names:
        return RunFolder(path, False)
    if STATUS_FILENAME in names:
        _remove_previous_run(path, prefix, suffix)
    elif not reuse:
        shown = ", ".join(sorted(names)[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        raise OutputDirNotEmptyError(
            f"output_dir {path} is not empty and holds no epcloud run ({STATUS_FILENAME} is not there): "
            f"{shown}. Choose a new or empty folder, or pass reuse_dir=True to run there and leave "
            "those files as they are",
            path=str(path),
        )
    else:
        _remove_matching(path, prefix, suffix)
    foreign = {}
    for entry in os.scandir(path):
        if entry.is_file():
            stat = entry.stat()
            foreign[entry.name] = (stat.st_size, stat.st_mtime_ns)
    return RunFolder(path, False, foreign)


def _remove_previous_run(path: Path, prefix: str, suffix: str) -> None:
    """Remove what the previous run in ``path`` wrote: every output its status lists, then the usual names."""
    try:
        previous = RunStatus.from_json(
            (path / STATUS_FILENAME).read_text("utf-8"), str(path / STATUS_FILENAME)
        )
    except (CorruptResultError, OSError, UnicodeDecodeError):
        log.warning("%s: unreadable %s; removing the usual run files only", path, STATUS_FILENAME)
        previous = None
    if previous is not None:
        for name in previous.outputs:
            target = path / name
            if target.parent == path and target.is_file():
                target.unlink()
        _remove_matching(path, previous.output_prefix, previous.output_suffix)
    _remove_matching(path, prefix, suffix)


def _remove_matching(path: Path, prefix: str, suffix: str) -> None:
    for pattern in _RUN_PATTERNS:
        for stale in path.glob(translate_pattern(pattern, suffix).format(p=prefix)):
            if stale.is_file():
                stale.unlink()


@contextlib.contextmanager
def removed_on_error(folder: RunFolder, *, copies: bool = False) -> Iterator[None]:
    """Remove a temporary run folder if what follows fails or is cancelled.

    With ``copies`` (what follows only copies files that exist elsewhere, e.g. from a cache), a user's
    folder is also put back as it was: the files added to it are removed, so a retry finds it ready.
    """
    try:
        yield
    except BaseException:
        if folder.temporary:
            shutil.rmtree(folder.path, ignore_errors=True)
        elif copies:
            for name in folder.outputs():
                (folder.path / name).unlink(missing_ok=True)
            (folder.path / STATUS_FILENAME).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def kept_if_upload_fails(run_dir: Path, fs: FileSystem | AsyncFileSystem, dest: str) -> Iterator[None]:
    """A finished run whose upload fails is moved to the cache's ``unsent/`` folder, never removed.

    The error then says where it is and how to finish the upload; an interrupt keeps it too.
    """
    try:
        yield
    except BaseException as exc:
        kept = _keep_unsent(run_dir, dest)
        log.error("upload to %s failed; the finished run is kept in %s", fs.url(dest), kept)
        if isinstance(exc, Exception):
            raise UploadFailedError(str(kept), fs.url(dest), dest, exc) from exc
        raise


def unsent_dir() -> Path:
    """Where finished runs whose upload failed are kept: the ``unsent`` folder of epcloud's cache."""
    return cache_dir("unsent")


def _keep_unsent(run_dir: Path, dest: str) -> Path:
    """Move a run folder under ``unsent/`` (named by time and destination); where it stays if it can't."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in dest.strip("/"))[-80:] or "run"
    target = unsent_dir() / f"{stamp}-{slug}-{os.urandom(3).hex()}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(run_dir), str(target))
    except OSError:
        log.warning("could not move %s to %s; it stays where it is", run_dir, target, exc_info=True)
        return run_dir
    return target
