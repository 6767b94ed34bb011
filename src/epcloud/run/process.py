"""Launching the engine: a process group per run, so a timeout or a cancel kills every child it started.

On Linux the engine also dies with the process that started it (``PR_SET_PDEATHSIG``): a worker killed
with SIGKILL, which runs no cleanup, leaves no engine running behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from epcloud.errors import EngineBackendError

__all__ = [
    "ENGINE_BACKENDS",
    "ProcessOutcome",
    "RunningProcesses",
    "async_run_process",
    "engine_backend",
    "engine_env",
    "kill_after",
    "kill_process_tree",
    "run_process",
    "start_readers",
]

LineCallback = Callable[[str], None]
_POSIX = sys.platform != "win32"
# "cli" runs the engine's executable; "fork" forks it from a server that loaded it once (run/forkserver.py).
ENGINE_BACKENDS = ("cli", "fork")
# glibc's malloc asks for transparent huge pages for the engine's heap (glibc >= 2.35; ignored before).
HUGE_PAGES_TUNABLE = "glibc.malloc.hugetlb=1"


@dataclass(frozen=True)
class ProcessOutcome:
    """How the engine process ended."""

    exit_code: int | None
    stdout: str
    stderr: str
    runtime_seconds: float
    timed_out: bool = False
    stage: str = "EnergyPlus"  # the program the run ended in (ExpandObjects when it was stopped there)


class RunningProcesses:
    """The engine processes a batch has running, so one cancel (Ctrl-C) can kill them all.

    After `kill_all`, a process added later is killed at once: no job can start behind the cancel.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pids: set[int] = set()
        self.cancelled = False

    def add(self, pid: int) -> None:
        with self._lock:
            self._pids.add(pid)
            cancelled = self.cancelled
        if cancelled:
            kill_process_tree(pid)

    def discard(self, pid: int) -> None:
        with self._lock:
            self._pids.discard(pid)

    def kill_all(self) -> None:
        with self._lock:
            self.cancelled = True
            pids = list(self._pids)
        for pid in pids:
            kill_process_tree(pid)


_PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., int] | None:
    """libc's ``prctl``, resolved once in the parent: the child between fork and exec only calls it."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    import ctypes.util

    try:  # glibc's name first: find_library runs a subprocess (ldconfig) to search
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:  # pragma: no cover - musl and others
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        except OSError:
            return None
    prctl = getattr(libc, "prctl", None)
    if prctl is None:  # pragma: no cover
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl  # type: ignore[no-any-return]


_PRCTL = _load_prctl()


# Signals whose handlers are Python code. A signal sent to the starter's process group between the
# fork and the child's setsid would run that code in the child while it runs Python's after-fork hooks
# (a Ctrl-C there printed "Exception ignored ... KeyboardInterrupt"); the starter holds them across the
# spawn, the child drops any it was sent while still in the group (the starter got them too and acts on
# them, killing its engines) and takes the starter's own mask back before exec.
_HELD_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP}) if _POSIX else frozenset()


def _die_with_parent(parent: int, mask: set[int | signal.Signals]) -> Callable[[], None]:
    """A ``preexec_fn``: SIGKILL this child when the thread that started it dies; exit at once if the
    parent is already gone (it died between fork and prctl); drop the held signals the child was sent
    and restore the starter's signal ``mask``. Only async-signal-safe calls in the child."""
    prctl = _PRCTL

    def preexec() -> None:
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)
        while signal.sigtimedwait(_HELD_SIGNALS, 0) is not None:
            pass
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    return preexec


def engine_backend(engine: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """The launch backend: ``engine`` if given, else ``EPCLOUD_ENGINE`` of the engine's environment
    ``env`` (default: this process's), else "cli"."""
    chosen = (env if env is not None else os.environ).get("EPCLOUD_ENGINE", "")
    name = (engine if engine is not None else chosen or "cli").strip().lower()
    if name not in ENGINE_BACKENDS:
        source = f"engine={engine!r}" if engine is not None else f"EPCLOUD_ENGINE={name!r}"
        choices = ", ".join(ENGINE_BACKENDS)
        raise EngineBackendError(f"{source} is not an engine backend; use one of: {choices}")
    return name


def engine_env(env: Mapping[str, str] | None) -> Mapping[str, str] | None:
    """The engine's environment with huge pages for its heap when ``EPCLOUD_HUGEPAGES=1``."""
    base = env if env is not None else os.environ
    if base.get("EPCLOUD_HUGEPAGES", "0").strip() not in ("1", "true", "yes"):
        return env
    tunables = base.get("GLIBC_TUNABLES", "")
    if HUGE_PAGES_TUNABLE in tunables.split(":"):
        return env
    return {**base, "GLIBC_TUNABLES": f"{tunables}:{HUGE_PAGES_TUNABLE}" if tunables else HUGE_PAGES_TUNABLE}


class _HeldSignals(threading.local):
    """Per thread: how many spawns hold the signals, and the mask the thread had before the first.

    Coroutines spawning on one event loop overlap on its thread, so the mask goes back only when the
    last of them is done.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.mask: set[int | signal.Signals] = set()


_HELD = _HeldSignals()


@contextlib.contextmanager
def _spawn_options() -> Iterator[dict[str, object]]:
    """Popen's options for an engine: a session of its own and, on Linux, death with its starter.

    On Linux the held signals are blocked in this thread while the child is forked (see
    `_HELD_SIGNALS`); a signal sent meanwhile is delivered once the spawn returns.
    """
    if not _POSIX:
        yield {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
        return
    if _PRCTL is None:
        yield {"start_new_session": True}
        return
    if _HELD.depth == 0:
        _HELD.mask = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
    _HELD.depth += 1
    try:
        yield {"start_new_session": True, "preexec_fn": _die_with_parent(os.getpid(), _HELD.mask)}
    finally:
        _HELD.depth -= 1
        if _HELD.depth == 0:
            signal.pthread_sigmask(signal.SIG_SETMASK, _HELD.mask)


def kill_process_tree(pid: int) -> None:
    """Kill the process group led by ``pid`` (EnergyPlus and the helpers it started)."""
    if _POSIX:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    else:  # pragma: no cover - Windows
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(pid)], capture_output=True, check=False)


@contextlib.contextmanager
def kill_after(pid: int, timeout: float) -> Iterator[threading.Event]:
    """Kill the process group of ``pid`` if the block is still running after ``timeout`` seconds; the
    event yielded is set when it was. A timer does it, so the block can wait in waitpid and return the
    moment the process exits (``Popen.wait(timeout=...)`` polls with sleeps of up to 50 ms instead)."""
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        kill_process_tree(pid)

    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()
    try:
        yield expired
    finally:
        timer.cancel()


def start_readers(
    pump: Callable[..., None], *pipes: tuple[object, list[str], LineCallback | None]
) -> list[threading.Thread]:
    """One daemon thread per (stream, sink, on_line) running ``pump``, started."""
    readers = [threading.Thread(target=pump, args=pipe, daemon=True) for pipe in pipes]
    for reader in readers:
        reader.start()
    return readers


def _pump(stream: object, sink: list[str], on_line: LineCallback | None) -> None:
    for line in stream:  # type: ignore[attr-defined]
        sink.append(line)
        if on_line is not None:
            on_line(line.rstrip("\r\n"))


def run_process(
    cmd: Sequence[str],
    *,
    cwd: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
    on_line: LineCallback | None = None,
    running: RunningProcesses | None = None,
    engine: str | None = None,
) -> ProcessOutcome:
    """Run ``cmd`` to completion or until ``timeout``; any exit path (even Ctrl-C) kills the group.

    ``running`` registers the process while it runs, so a batch can kill it from another thread.
    ``engine`` picks the launch backend (see `engine_backend`).
    """
    backend = engine_backend(engine, env)
    env = engine_env(env)
    if backend == "fork":
        from epcloud.run.forkserver import run_forked

        return run_forked(cmd, cwd=cwd, timeout=timeout, env=env, on_line=on_line, running=running)
    start = time.perf_counter()
    with _spawn_options() as options:
        proc = subprocess.Popen(  # type: ignore[call-overload]
            list(cmd),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            **options,
        )
    if running is not None:
        running.add(proc.pid)
    out: list[str] = []
    err: list[str] = []
    readers = start_readers(_pump, (proc.stdout, out, on_line), (proc.stderr, err, None))
    try:
        with kill_after(proc.pid, timeout) as expired:
            proc.wait()
    except BaseException:
        kill_process_tree(proc.pid)
        proc.wait()
        raise
    finally:
        if running is not None:
            running.discard(proc.pid)
        for reader in readers:
            reader.join(timeout=5)
    timed_out = expired.is_set()
    return ProcessOutcome(
        exit_code=None if timed_out else proc.returncode,
        stdout="".join(out),
        stderr="".join(err),
        runtime_seconds=time.perf_counter() - start,
        timed_out=timed_out,
    )


async def _apump(stream: asyncio.StreamReader, sink: list[str], on_line: LineCallback | None) -> None:
    while line := await stream.readline():
        text = line.decode("utf-8", errors="replace")
        sink.append(text)
        if on_line is not None:
            on_line(text.rstrip("\r\n"))


async def async_run_process(
    cmd: Sequence[str],
    *,
    cwd: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
    on_line: LineCallback | None = None,
    engine: str | None = None,
) -> ProcessOutcome:
    """The coroutine twin of `run_process`; cancelling it kills the process group."""
    backend = engine_backend(engine, env)
    env = engine_env(env)
    if backend == "fork":
        from epcloud.run.forkserver import async_run_forked

        return await async_run_forked(cmd, cwd=cwd, timeout=timeout, env=env, on_line=on_line)
    start = time.perf_counter()
    with _spawn_options() as options:
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL,
            **options,  # type: ignore[arg-type]
        )
    out: list[str] = []
    err: list[str] = []
    assert proc.stdout is not None and proc.stderr is not None
    pumps = asyncio.gather(_apump(proc.stdout, out, on_line), _apump(proc.stderr, err, None))
    timed_out = False
    try:
        await asyncio.wait_for(proc.wait(), timeout=timeout)
    except asyncio.TimeoutError:
        timed_out = True
        kill_process_tree(proc.pid)
        await proc.wait()
    except BaseException:
        kill_process_tree(proc.pid)
        with contextlib.suppress(Exception):
            await asyncio.shield(proc.wait())
        pumps.cancel()
        raise
    await pumps
    return ProcessOutcome(
        exit_code=None if timed_out else proc.returncode,
        stdout="".join(out),
        stderr="".join(err),
        runtime_seconds=time.perf_counter() - start,
        timed_out=timed_out,
    )
