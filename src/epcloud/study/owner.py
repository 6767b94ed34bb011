"""Which process owns a lease or a temp folder, and whether it is gone: host, boot, pid and start time.

A pid alone is reused; with the process's start time (``/proc/<pid>/stat``) and the machine's boot id,
"the process that wrote this is gone" is certain on Linux. Elsewhere only the pid is checked.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["OWNER_FILE", "WORKDIR_PREFIX", "ProcessOwner", "make_workdir", "sweep_workdirs"]

log = logging.getLogger(__name__)

OWNER_FILE = ".epcloud-owner.json"
WORKDIR_PREFIX = "epcloud-worker-"
_UNOWNED_AGE = 86400.0  # a worker folder of an older epcloud (no owner file) is swept after a day


def _boot_id() -> str:
    with contextlib.suppress(OSError):
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    return ""


def _start_ticks(pid: int) -> str:
    """The start time of ``pid`` in clock ticks since boot ("" where /proc is not there)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return text.rsplit(")", 1)[1].split()[19]  # field 22; the name before ")" may hold spaces


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class ProcessOwner:
    """One process: where it runs and which one it is."""

    host: str
    boot_id: str
    pid: int
    start: str

    @classmethod
    def current(cls) -> ProcessOwner:
        pid = os.getpid()
        return cls(socket.gethostname(), _boot_id(), pid, _start_ticks(pid))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProcessOwner:
        return cls(
            str(data["host"]), str(data.get("boot_id", "")), int(data["pid"]), str(data.get("start", ""))
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def is_gone(self) -> bool:
        """True only when certain: the process ran on this machine since its boot and is no longer."""
        here = ProcessOwner.current()
        if self.host != here.host or self.boot_id != here.boot_id:
            return False  # another machine (or another boot): liveness is the heartbeat's business
        if not _pid_exists(self.pid):
            return True
        return bool(self.start) and _start_ticks(self.pid) not in ("", self.start)


def make_workdir() -> Path:
    """A new ``epcloud-worker-*`` temp folder, marked with this process as its owner."""
    folder = Path(tempfile.mkdtemp(prefix=WORKDIR_PREFIX))
    (folder / OWNER_FILE).write_text(json.dumps(ProcessOwner.current().to_dict()))
    return folder


def sweep_workdirs(base: Path | None = None) -> list[Path]:
    """Delete the ``epcloud-worker-*`` folders of workers that are gone (killed); returns them."""
    base = Path(tempfile.gettempdir()) if base is None else base
    swept: list[Path] = []
    for folder in base.glob(f"{WORKDIR_PREFIX}*"):
        if not folder.is_dir() or folder.is_symlink():
            continue
        try:
            owner = ProcessOwner.from_dict(json.loads((folder / OWNER_FILE).read_text()))
            gone = owner.is_gone()
        except FileNotFoundError:
            gone = False
            with contextlib.suppress(OSError):
                gone = time.time() - folder.stat().st_mtime > _UNOWNED_AGE
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not ours to judge
        if gone:
            shutil.rmtree(folder, ignore_errors=True)
            swept.append(folder)
    if swept:
        log.info("removed %d temp folders of workers that are gone", len(swept))
    return swept
