"""CPU time of running processes from /proc, for the benchmarks (Linux): a process's own and that of
the children it waited for, and the same for this process's fork servers. No heavy imports: a worker
process started by a benchmark loads it just before it exits."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu(pid: int) -> tuple[float, float]:
    """(its own CPU, the CPU of the children it waited for) of a running process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return (utime + stime) / _TICK, (cutime + cstime) / _TICK


def fork_servers_cpu() -> tuple[float, float]:
    """(the fork servers' own CPU, their engines' CPU) of this process's fork servers so far."""
    from epcloud.run import forkserver

    own = engines = 0.0
    for server in list(forkserver._servers.values()):
        with contextlib.suppress(OSError):
            mine, theirs = process_cpu(server.pid)
            own, engines = own + mine, engines + theirs
    return own, engines
