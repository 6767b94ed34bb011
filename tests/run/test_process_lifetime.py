"""Nothing outlives its worker: the engine dies with the process that started it (SIGKILL included),
while a timeout still kills the engine's whole process group."""

from __future__ import annotations

import contextlib
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


_SPAWNER = """
import os, signal, sys, threading
from pathlib import Path
from epcloud.run.process import run_process

me = os.getpid()


def handler(signum, frame):
    if os.getpid() != me:
        os.write(2, b"a handler ran in the child\\n")


signal.signal(signal.SIGINT, handler)
signal.signal(signal.SIGTERM, handler)
codes = []


def spawn():
    for _ in range(300):
        codes.append(run_process(["true"], cwd=Path("."), timeout=30).exit_code)


spawner = threading.Thread(target=spawn)
print("ready", flush=True)
spawner.start()
while spawner.is_alive():
    spawner.join(0.05)
signal.signal(signal.SIGINT, signal.SIG_IGN)  # the test signals until this process is gone
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print(sorted(set(codes)), flush=True)
"""


def test_a_signal_to_the_group_during_a_spawn_runs_no_python_in_the_child(tmp_path: Path) -> None:
    """Ctrl-C (or SIGTERM) to a batch's process group while an engine is being forked: the child,
    still in the group until its setsid, must not run the batch's handlers (a KeyboardInterrupt there
    printed a traceback), and the engine still starts and exits normally."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _SPAWNER],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    sent = 0
    while proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT if sent % 2 else signal.SIGTERM)
        sent += 1
        time.sleep(0.0005)
    out, err = proc.communicate(timeout=60)
    assert sent > 100, sent
    assert proc.returncode == 0, (out, err)
    assert err == "", err
    assert out.strip() == "[0]", out


def test_overlapping_async_spawns_give_the_thread_its_signal_mask_back(tmp_path: Path) -> None:
    """Engines spawned by coroutines on one loop: each engine starts with the loop thread's own signal
    mask, and once all are started the thread's mask is what it was (not the spawns' held one)."""
    import asyncio

    from epcloud.run.process import async_run_process

    script = tmp_path / "mask.sh"
    script.write_text("grep SigBlk /proc/self/status\n")
    before = signal.pthread_sigmask(signal.SIG_BLOCK, set())

    async def main() -> list[str]:
        runs = [async_run_process(["sh", str(script)], cwd=tmp_path, timeout=30) for _ in range(6)]
        return [outcome.stdout.split()[1] for outcome in await asyncio.gather(*runs)]

    masks = asyncio.run(main())
    assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) == before
    # Bits 2 (SIGINT), 15 (SIGTERM) and 1 (SIGHUP) are the held ones; none reaches an engine.
    held = (1 << (signal.SIGINT - 1)) | (1 << (signal.SIGTERM - 1)) | (1 << (signal.SIGHUP - 1))
    assert all(int(mask, 16) & held == 0 for mask in masks), masks
