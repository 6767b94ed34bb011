"""The fork-server engine backend: runs start from an engine already loaded and initialised.

A short EnergyPlus run spends most of its time starting: loading ``libenergyplusapi`` and building the
engine's state. One server process per engine installation (`forkserver_main`) pays that once; each run is
a child forked from it that executes the engine's own command line in the run's folder. The child leads
its own process group, so timeouts and cancels kill it (and ExpandObjects) exactly as for the CLI.
Selected with ``EPCLOUD_ENGINE=fork`` (or ``engine="fork"`` in `epcloud.run.process`); Linux only.
"""

from __future__ import annotations

import array
import asyncio
import concurrent.futures
import contextlib
import itertools
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

from epcloud.errors import EngineBackendError
from epcloud.run.process import ProcessOutcome, RunningProcesses, kill_after, kill_process_tree, start_readers

__all__ = ["ForkServer", "async_run_forked", "fork_server_for", "run_forked", "shutdown_fork_servers"]

log = logging.getLogger(__name__)

LineCallback = Callable[[str], None]
_MAIN = Path(__file__).with_name("forkserver_main.py")
_LIBRARY = "libenergyplusapi.so"
_MAX_MESSAGE = 1 << 20
_START_TIMEOUT = 120.0


class _Job:
    """One run inside a server: its pid once forked, its status once ended."""

    def __init__(self) -> None:
        self.pid: concurrent.futures.Future[int] = concurrent.futures.Future()
        self.status: concurrent.futures.Future[int] = concurrent.futures.Future()
        self.cpu_seconds: float | None = None  # the child's user + system time, once it has ended

    def fail(self, exc: BaseException) -> None:
        for future in (self.pid, self.status):
            if not future.done():
                with contextlib.suppress(concurrent.futures.InvalidStateError):
                    future.set_exception(exc)


class ForkServer:
    """A running fork server for one engine installation and one start-up environment."""

    def __init__(self, install_dir: Path, env: Mapping[str, str]) -> None:
        library = install_dir / _LIBRARY
        if sys.platform != "linux":
            raise EngineBackendError(f"the fork engine backend runs on Linux only, not {sys.platform}")
        if not library.is_file():
            raise EngineBackendError(f"the fork engine backend needs {library}, which does not exist")
        self.install_dir = install_dir
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._send_lock = threading.Lock()
        self._jobs: dict[int, _Job] = {}
        self._jobs_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._closed: BaseException | None = None
        self._ready: concurrent.futures.Future[int] = concurrent.futures.Future()
        try:
            self._proc = subprocess.Popen(
                [
                    sys.executable,
                    "-I",
                    "-S",
                    str(_MAIN),
                    str(library),
                    str(install_dir),
                    f"{theirs.fileno()}",
                ],
                pass_fds=[theirs.fileno()],
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            theirs.close()
        self._reader = threading.Thread(target=self._read, name="epcloud-forkserver", daemon=True)
        self._reader.start()
        try:
            self.pid = self._ready.result(timeout=_START_TIMEOUT)
        except BaseException:
            self.close()
            raise
        log.info("fork server %d started for %s", self.pid, install_dir)

    @property
    def alive(self) -> bool:
        return self._closed is None

    def _read(self) -> None:
        reason: EngineBackendError | None = None
        try:
            while data := self._sock.recv(_MAX_MESSAGE):
                self._dispatch(json.loads(data))
        except OSError as exc:
            reason = EngineBackendError(f"the fork server connection failed: {exc}")
        except EngineBackendError as exc:
            reason = exc
        if reason is None:
            code: int | str = "unknown"
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self._proc.wait(timeout=5)
            reason = EngineBackendError(f"the fork server {self._proc.pid} exited (code {code})")
        if not self._ready.done():
            self._ready.set_exception(reason)
        with self._jobs_lock:  # with submit's check under the same lock, no job is left waiting
            self._closed = reason
            jobs = list(self._jobs.values())
            self._jobs.clear()
        for job in jobs:
            job.fail(reason)

    def _dispatch(self, message: dict[str, object]) -> None:
        if "ready" in message:
            if message["ready"]:
                self._ready.set_result(int(message["pid"]))  # type: ignore[call-overload]
            else:
                raise EngineBackendError(
                    f"the fork server could not load {self.install_dir / _LIBRARY}: {message.get('error')}. "
                    "Set EPCLOUD_ENGINE=cli to run the engine's executable instead."
                )
            return
        with self._jobs_lock:
            job = self._jobs.get(int(message["id"]))  # type: ignore[call-overload]
        if job is None:
            return
        if "error" in message:
            job.fail(EngineBackendError(f"the fork server could not start the run: {message['error']}"))
        elif "pid" in message:
            job.pid.set_result(int(message["pid"]))  # type: ignore[call-overload]
        elif "status" in message:
            with self._jobs_lock:
                self._jobs.pop(int(message["id"]), None)  # type: ignore[call-overload]
            job.cpu_seconds = float(message.get("cpu", 0.0))  # type: ignore[arg-type]
            job.status.set_result(int(message["status"]))  # type: ignore[call-overload]

    def submit(
        self, cmd: Sequence[str], cwd: Path, env: Mapping[str, str], stdout_fd: int, stderr_fd: int
    ) -> _Job:
        """Ask for one run; the pipe ends travel with the request (the caller closes its copies)."""
        job = _Job()
        job_id = next(self._ids)
        with self._jobs_lock:
            if self._closed is not None:
                raise EngineBackendError(str(self._closed))
            self._jobs[job_id] = job
        payload = json.dumps({"id": job_id, "args": list(cmd), "cwd": str(cwd), "env": dict(env)}).encode()
        fds = array.array("i", [stdout_fd, stderr_fd])
        try:
            with self._send_lock:
                self._sock.sendmsg([payload], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
        except OSError as exc:
            with self._jobs_lock:
                self._jobs.pop(job_id, None)
            raise EngineBackendError(f"could not send the run to the fork server: {exc}") from exc
        return job

    def close(self) -> None:
        """Stop the server; runs still going are killed by it."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kill_process_tree(self._proc.pid)
            self._proc.wait()


_servers: dict[tuple[Path, str | None], ForkServer] = {}
_servers_lock = threading.Lock()


def fork_supported(executable: str | Path) -> bool:
    """Whether the engine at ``executable`` can run on a fork server here (Linux, with its library)."""
    return sys.platform == "linux" and (Path(executable).resolve().parent / _LIBRARY).is_file()


def fork_server_for(executable: str, env: Mapping[str, str]) -> ForkServer:
    """The server for the engine at ``executable``, started on first use (and again if it died).

    Servers differ by ``GLIBC_TUNABLES`` too: malloc reads it once, when the server starts.
    """
    install_dir = Path(executable).resolve().parent
    key = (install_dir, env.get("GLIBC_TUNABLES"))
    with _servers_lock:
        server = _servers.get(key)
        if server is None or not server.alive:
            server = ForkServer(install_dir, env)
            _servers[key] = server
        return server


def shutdown_fork_servers() -> None:
    """Stop every fork server this process started."""
    with _servers_lock:
        servers = list(_servers.values())
        _servers.clear()
    for server in servers:
        server.close()


def _full_env(env: Mapping[str, str] | None) -> dict[str, str]:
    return dict(env) if env is not None else dict(os.environ)


def _start(
    server: ForkServer, cmd: Sequence[str], cwd: Path, full_env: dict[str, str]
) -> tuple[_Job, IO[bytes], IO[bytes]]:
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        job = server.submit(cmd, cwd, full_env, out_w, err_w)
    except BaseException:
        os.close(out_r)
        os.close(err_r)
        raise
    finally:
        os.close(out_w)
        os.close(err_w)
    return job, os.fdopen(out_r, "rb"), os.fdopen(err_r, "rb")


def _pump(stream: IO[bytes], sink: list[str], on_line: LineCallback | None) -> None:
    with stream:
        for raw in stream:
            line = raw.decode("utf-8", errors="replace")
            sink.append(line)
            if on_line is not None:
                on_line(line.rstrip("\r\n"))


async def _apump(stream: IO[bytes], sink: list[str], on_line: LineCallback | None) -> None:
    reader = asyncio.StreamReader()
    transport, _ = await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), stream
    )
    try:
        while raw := await reader.readline():
            line = raw.decode("utf-8", errors="replace")
            sink.append(line)
            if on_line is not None:
                on_line(line.rstrip("\r\n"))
    finally:
        transport.close()


def run_forked(
    cmd: Sequence[str],
    *,
    cwd: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
    on_line: LineCallback | None = None,
    running: RunningProcesses | None = None,
) -> ProcessOutcome:
    """`run_process` through the fork server: same arguments, same outcome, same kill guarantees.

    The timeout and the runtime count from the request, not from the server's start (once per process).
    """
    full_env = _full_env(env)
    job, out, err = _start(fork_server_for(cmd[0], full_env), cmd, cwd, full_env)
    start = time.perf_counter()
    lines: list[str] = []
    errors: list[str] = []
    readers = start_readers(_pump, (out, lines, on_line), (err, errors, None))
    pid: int | None = None
    try:
        pid = job.pid.result()
        if running is not None:
            running.add(pid)
        with kill_after(pid, timeout) as expired:
            status = job.status.result()
    except BaseException:
        if pid is None:  # interrupted before the server answered: the child may exist all the same
            with contextlib.suppress(Exception):
                pid = job.pid.result(timeout=30)
        if pid is not None:
            kill_process_tree(pid)
            with contextlib.suppress(Exception):
                job.status.result(timeout=30)
        raise
    finally:
        if running is not None and pid is not None:
            running.discard(pid)
        for reader in readers:
            reader.join(timeout=5)
    timed_out = expired.is_set()
    return ProcessOutcome(
        exit_code=None if timed_out else status,
        stdout="".join(lines),
        stderr="".join(errors),
        runtime_seconds=time.perf_counter() - start,
        timed_out=timed_out,
    )


async def async_run_forked(
    cmd: Sequence[str],
    *,
    cwd: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
    on_line: LineCallback | None = None,
) -> ProcessOutcome:
    """The coroutine twin of `run_forked`; cancelling it kills the run's process group."""
    full_env = _full_env(env)
    server = await asyncio.to_thread(fork_server_for, cmd[0], full_env)  # the first call starts it
    job, out, err = _start(server, cmd, cwd, full_env)
    start = time.perf_counter()
    lines: list[str] = []
    errors: list[str] = []
    pumps = asyncio.gather(_apump(out, lines, on_line), _apump(err, errors, None))
    status_future = asyncio.wrap_future(job.status)
    pid: int | None = None
    timed_out = False
    try:
        pid = await asyncio.shield(asyncio.wrap_future(job.pid))
        try:
            status = await asyncio.wait_for(asyncio.shield(status_future), timeout=timeout)
        except asyncio.TimeoutError:
            timed_out = True
            kill_process_tree(pid)
            status = await status_future
    except BaseException:
        if pid is None:
            with contextlib.suppress(Exception):
                pid = job.pid.result(timeout=30)
        if pid is not None:
            kill_process_tree(pid)
        with contextlib.suppress(BaseException):
            await asyncio.shield(status_future)
        with contextlib.suppress(BaseException):
            await asyncio.shield(pumps)
        raise
    await pumps
    return ProcessOutcome(
        exit_code=None if timed_out else status,
        stdout="".join(lines),
        stderr="".join(errors),
        runtime_seconds=time.perf_counter() - start,
        timed_out=timed_out,
    )
