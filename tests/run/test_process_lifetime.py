"""Nothing outlives its worker: the engine dies with the process that started it (SIGKILL included),
while a timeout still kills the engine's whole process group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from epcloud.engine import EnergyPlusConfig
from epcloud.run.process import run_process

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")


def _children(pid: int, name: str) -> list[int]:
    """The children of ``pid`` whose command line holds ``name``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and name.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting for a reaper)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _until(condition: object, what: str, limit: float) -> None:
    deadline = time.monotonic() + limit
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.02)


def test_the_engine_dies_when_its_parent_is_sigkilled(
    energyplus: EnergyPlusConfig, models_dir: Path, chicago_epw: Path, tmp_path: Path
) -> None:
    """An annual run of the medium office takes far longer than this test waits for it to die."""
    model = models_dir / "RefBldgMediumOfficeNew2004_Chicago.idf"
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from epcloud.run.process import run_process
        run_process([{str(energyplus.executable)!r}, "-w", {str(chicago_epw)!r}, "-a", {str(model)!r}],
                    cwd=Path({str(tmp_path)!r}), timeout=3600)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    engine: list[int] = []
    try:
        _until(
            lambda: bool(engine.extend(_children(parent.pid, "energyplus")) or engine),
            "the engine started",
            60,
        )
        _until(lambda: (tmp_path / "eplusout.err").exists(), "the engine simulating", 60)
        assert alive(engine[0])
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        _until(lambda: not alive(engine[0]), "the orphaned engine dying", 20)
    finally:
        if parent.poll() is None:
            parent.kill()
        for pid in engine:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_silent_child_dies_with_its_parent_too(tmp_path: Path) -> None:
    """The engine above also dies of SIGPIPE at its next progress line; one that writes nothing for a
    while (a long sizing or warm-up period) only dies because it is tied to its parent."""
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from epcloud.run.process import run_process
        run_process([sys.executable, "-c", "import time; time.sleep(300)"], cwd=Path({str(tmp_path)!r}),
                    timeout=3600)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    child: list[int] = []
    try:
        _until(
            lambda: bool(child.extend(_children(parent.pid, "sleep(300)")) or child), "the child started", 60
        )
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        _until(lambda: not alive(child[0]), "the orphaned child dying", 20)
    finally:
        if parent.poll() is None:
            parent.kill()
        for pid in child:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_timeout_still_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    outcome = run_process(["sh", "-c", f"sleep 60 & echo $! > {pidfile}; wait"], cwd=tmp_path, timeout=1.0)
    assert outcome.timed_out and outcome.exit_code is None
    grandchild = int(pidfile.read_text())
    _until(lambda: not alive(grandchild), "the engine's own child killed with its group", 10)
