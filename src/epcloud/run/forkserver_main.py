"""The fork server process: load the engine library once, then fork one child per run.

Run as a script by path (``python -I -S forkserver_main.py LIB ROOT FD``) from `epcloud.run.forkserver`,
so it imports only the standard library and is single-threaded when it forks. It speaks over the
SOCK_SEQPACKET socket ``FD``: a request is a JSON message carrying the run's stdout and stderr pipe ends;
the server answers ``{"id", "pid"}`` once the child exists and ``{"id", "status", "cpu"}`` when it has
ended (``status`` as `subprocess` reports it: the exit code, or minus the signal number; ``cpu`` the
child's user + system seconds). When the socket
closes, every child still running is killed and the server exits.

A child runs what the ``energyplus`` executable's ``main`` runs, on a state created here before the fork:
the command-line parser (``CommandLineInterface::ProcessArgs``) and ``RunEnergyPlus``; then the state is
deleted (that flushes the output files) and the child leaves with ``_exit``. The library is loaded with
``RTLD_DEEPBIND`` so the Python it embeds for plug-ins never binds to the host interpreter.
"""

from __future__ import annotations

import array
import contextlib
import ctypes
import json
import locale
import os
import selectors
import signal
import socket
import sys

# The engine's C++ entry points (Itanium ABI, libstdc++'s std::string): what `main` of the CLI calls.
_PROCESS_ARGS = (
    "_ZN10EnergyPlus20CommandLineInterface11ProcessArgsERNS_14EnergyPlusDataERKSt6vectorINSt7__cxx11"
    "12basic_stringIcSt11char_traitsIcESaIcEEESaIS9_EE"
)
_RUN = (
    "_Z13RunEnergyPlusRN10EnergyPlus14EnergyPlusDataERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE"
)
_MAX_MESSAGE = 1 << 20


class _StdString(ctypes.Structure):
    """libstdc++'s ``std::string``: data pointer, length, then capacity or the short-string buffer."""

    _fields_ = [("data", ctypes.c_void_p), ("size", ctypes.c_size_t), ("local", ctypes.c_char * 16)]


class _StdVector(ctypes.Structure):
    """libstdc++'s ``std::vector``: begin, end, end of capacity."""

    _fields_ = [("begin", ctypes.c_void_p), ("end", ctypes.c_void_p), ("capacity", ctypes.c_void_p)]


class Engine:
    """The loaded library and one pristine state that every child inherits."""

    def __init__(self, library: str, root: str) -> None:
        self.lib = ctypes.CDLL(library, mode=os.RTLD_NOW | os.RTLD_DEEPBIND)
        self.root = root.encode()
        self.lib.stateNew.restype = ctypes.c_void_p
        self.lib.stateDelete.argtypes = [ctypes.c_void_p]
        self.lib.setEnergyPlusRootDirectory.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        self.process_args = self.lib[_PROCESS_ARGS]
        self.process_args.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        self.process_args.restype = ctypes.c_int
        self.run_energyplus = self.lib[_RUN]
        self.run_energyplus.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        self.run_energyplus.restype = ctypes.c_int
        self.state = self.lib.stateNew()
        if not self.state:
            raise RuntimeError("stateNew() returned no state")

    def run(self, args: list[str]) -> int:
        """Run the engine's command line ``args`` (program name first) in this process."""
        encoded = [arg.encode() for arg in args]
        buffers = [ctypes.create_string_buffer(arg) for arg in encoded]
        strings = (_StdString * len(args))()
        for string, arg, buffer in zip(strings, encoded, buffers, strict=True):
            string.data = ctypes.addressof(buffer)
            string.size = len(arg)
        begin = ctypes.addressof(strings)
        end = begin + ctypes.sizeof(strings)
        vector = _StdVector(begin, end, end)
        # Where ExpandObjects, ReadVarsESO and Energy+.idd are: not next to this process's executable.
        self.lib.setEnergyPlusRootDirectory(self.state, self.root)
        code = int(self.process_args(self.state, ctypes.byref(vector)))
        if code == 0:
            empty = _StdString()
            empty.data = ctypes.addressof(empty) + _StdString.local.offset
            code = int(self.run_energyplus(self.state, ctypes.byref(empty)))
        self.lib.stateDelete(self.state)
        return code


def _child(engine: Engine, request: dict[str, object], out_fd: int, err_fd: int) -> None:
    """In the forked child: become the run's process group, redirect, run, leave. Never returns."""
    code = 127
    try:
        os.setpgid(0, 0)
        for signum in (signal.SIGCHLD, signal.SIGPIPE, signal.SIGINT, signal.SIGTERM, signal.SIGXFSZ):
            signal.signal(signum, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        os.closerange(3, 1 << 16)
        os.chdir(str(request["cwd"]))
        env = request["env"]
        assert isinstance(env, dict)
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in env.items()})
        locale.setlocale(locale.LC_ALL, "C")  # the CLI runs in the C locale; Python set LC_CTYPE
        args = request["args"]
        assert isinstance(args, list)
        code = engine.run([str(a) for a in args])
    except BaseException as exc:  # the child must never return into the server's loop
        with contextlib.suppress(BaseException):
            os.write(2, f"epcloud fork server: the run could not start: {exc!r}\n".encode())
    finally:
        with contextlib.suppress(BaseException):
            ctypes.CDLL(None).fflush(None)
        os._exit(code & 0xFF)


class Server:
    """The loop: requests in, children forked, their ends reported."""

    def __init__(self, engine: Engine, sock: socket.socket) -> None:
        self.engine = engine
        self.sock = sock
        self.children: dict[int, object] = {}
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        os.set_blocking(self.wake_r, False)

    def send(self, message: dict[str, object]) -> None:
        with contextlib.suppress(OSError):  # a client gone: the loop ends at the EOF
            self.sock.send(json.dumps(message).encode())

    def serve(self) -> None:
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)
        selector = selectors.DefaultSelector()
        selector.register(self.sock, selectors.EVENT_READ)
        selector.register(self.wake_r, selectors.EVENT_READ)
        self.send({"ready": True, "pid": os.getpid()})
        try:
            while True:
                for key, _ in selector.select():
                    if key.fileobj is self.sock:
                        if not self.receive():
                            return
                    else:
                        with contextlib.suppress(BlockingIOError):
                            os.read(self.wake_r, 4096)
                self.reap()
        finally:
            self.kill_all()

    def receive(self) -> bool:
        fds = array.array("i")
        try:
            data, ancdata, _flags, _addr = self.sock.recvmsg(_MAX_MESSAGE, socket.CMSG_LEN(2 * fds.itemsize))
        except InterruptedError:
            return True
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
        if not data:
            for fd in fds:
                os.close(fd)
            return False
        request = json.loads(data)
        try:
            if len(fds) != 2:
                self.send({"id": request["id"], "error": f"expected 2 file descriptors, got {len(fds)}"})
                return True
            self.start(request, fds[0], fds[1])
        finally:
            for fd in fds:
                os.close(fd)
        return True

    def start(self, request: dict[str, object], out_fd: int, err_fd: int) -> None:
        try:
            pid = os.fork()
        except OSError as exc:
            self.send({"id": request["id"], "error": f"fork failed: {exc}"})
            return
        if pid == 0:
            self.sock.close()
            _child(self.engine, request, out_fd, err_fd)
        # Both sides set the group, so it exists before the client can be told the pid and kill it.
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)
        self.children[pid] = request["id"]
        self.send({"id": request["id"], "pid": pid})

    def reap(self) -> None:
        while self.children:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            job = self.children.pop(pid, None)
            if job is not None:
                cpu = usage.ru_utime + usage.ru_stime
                self.send({"id": job, "status": os.waitstatus_to_exitcode(status), "cpu": cpu})

    def kill_all(self) -> None:
        for pid in list(self.children):
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
        for pid in list(self.children):
            with contextlib.suppress(OSError):
                os.waitpid(pid, 0)
        self.children.clear()


def main(argv: list[str]) -> int:
    library, root, fd = argv[1], argv[2], int(argv[3])
    sock = socket.socket(fileno=fd)
    try:
        engine = Engine(library, root)
    except Exception as exc:
        with contextlib.suppress(OSError):
            sock.send(json.dumps({"ready": False, "error": f"{type(exc).__name__}: {exc}"}).encode())
        return 1
    Server(engine, sock).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
