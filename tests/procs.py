"""Finding live EnergyPlus processes in tests, to prove that cancels and timeouts kill them."""

from __future__ import annotations

from pathlib import Path

import psutil


def engine_processes(marker: str | Path) -> list[psutil.Process]:
    """Live processes whose command line mentions ``marker`` (a run folder)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if str(marker) in " ".join(proc.info["cmdline"] or []):
                found.append(proc)
        except psutil.Error:
            continue
    return found
