"""A loopback HTTP proxy between an S3 client and the test server that injects faults by rule.

`FaultProxy(upstream)` listens on a free local port (`proxy.endpoint`); every request is forwarded to
`upstream` unless a `Rule` matches it. A rule faults the Nth request (and the `times - 1` after it)
matching a method and a path regex, with one of:

- `"503"` / `"500"`: an S3-style XML error answer (`SlowDown` / `InternalError`);
- `"reset"`: the TCP connection is reset (RST) instead of an answer;
- `"cut"`: the answer's headers and the first half of its body are sent, then the connection is reset;
- `"delay"`: the answer is held back `delay` seconds (then sent whole).

With `after=True` the request first reaches the server (so a PUT is applied), then the answer is
faulted: the client sees a failure for a request that succeeded. `proxy.requests` records
`(method, path)` of every request the proxy received, faulted or not.
"""

from __future__ import annotations

import http.client
import re
import socket
import socketserver
import struct
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

ACTIONS = ("503", "500", "reset", "cut", "delay")
_ERRORS = {
    "503": (503, "Service Unavailable", "SlowDown", "Please reduce your request rate."),
    "500": (500, "Internal Server Error", "InternalError", "We encountered an internal error."),
}
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"}


@dataclass
class Rule:
    """Fault the `nth` request matching `method` and `path` (a regex searched in the path and query),
    and the `times - 1` matching requests after it."""

    action: str
    method: str | None = None
    path: str = ""
    nth: int = 1
    times: int = 1
    after: bool = False
    delay: float = 0.0
    seen: int = field(default=0, init=False)
    faulted: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown fault {self.action!r}; one of {ACTIONS}")

    def claims(self, method: str, path: str) -> bool:
        """Whether this request is one the rule faults (counting it when it matches)."""
        if self.method is not None and method != self.method:
            return False
        if self.path and not re.search(self.path, path):
            return False
        self.seen += 1
        if self.nth <= self.seen < self.nth + self.times:
            self.faulted += 1
            return True
        return False


@dataclass
class _Request:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes


def _read_request(reader: object, connection: socket.socket) -> _Request | None:
    line = reader.readline()  # type: ignore[attr-defined]
    if not line or not line.strip():
        return None
    method, path, _version = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    headers: list[tuple[str, str]] = []
    while True:
        raw = reader.readline()  # type: ignore[attr-defined]
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    lookup = {name.lower(): value for name, value in headers}
    if lookup.get("expect", "").lower() == "100-continue":
        connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        headers = [(n, v) for n, v in headers if n.lower() != "expect"]
    if "content-length" in lookup:
        body = reader.read(int(lookup["content-length"]))  # type: ignore[attr-defined]
    elif lookup.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int(reader.readline().split(b";")[0].strip(), 16)  # type: ignore[attr-defined]
            chunk = reader.read(size + 2)[:size]  # type: ignore[attr-defined]
            if size == 0:
                while reader.readline() not in (b"\r\n", b"\n", b""):  # type: ignore[attr-defined]
                    pass
                break
            parts.append(chunk)
        body = b"".join(parts)
        headers = [(n, v) for n, v in headers if n.lower() != "transfer-encoding"]
        headers.append(("Content-Length", str(len(body))))
    else:
        body = b""
    return _Request(method, path, headers, body)


def _reset(connection: socket.socket) -> None:
    """Close with an RST (SO_LINGER 0), as a dropped connection looks to the client."""
    try:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        connection.close()


class FaultProxy:
    """The proxy server (a thread); `add(rule)` arms a fault, `clear()` disarms them all."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rules: list[Rule] = []
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.connection, self.rfile)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()

    def add(self, rule: Rule) -> Rule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.requests.clear()

    def count(self, method: str, path: str = "") -> int:
        """Requests received with this method whose path matches the regex `path`."""
        return sum(1 for m, p in self.requests if m == method and re.search(path, p))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _rule_for(self, request: _Request) -> Rule | None:
        with self._lock:
            self.requests.append((request.method, request.path))
            for rule in self.rules:
                if rule.claims(request.method, request.path):
                    return rule
        return None

    def _serve(self, connection: socket.socket, reader: object) -> None:
        upstream: http.client.HTTPConnection | None = None
        try:
            while True:
                request = _read_request(reader, connection)
                if request is None:
                    return
                rule = self._rule_for(request)
                if rule is not None and not rule.after and rule.action in ("reset", "503", "500"):
                    self._fault(connection, rule, None)
                    if rule.action == "reset":
                        return
                    continue
                if upstream is None:
                    upstream = http.client.HTTPConnection(*self.upstream, timeout=30)
                answer = self._forward(upstream, request)
                if rule is not None:
                    if rule.action == "delay":
                        time.sleep(rule.delay)
                    elif rule.action in ("reset", "cut"):
                        self._fault(connection, rule, answer)
                        return
                    else:
                        self._fault(connection, rule, answer)
                        continue
                connection.sendall(answer[0] + answer[1])
        except (OSError, ValueError):
            return
        finally:
            if upstream is not None:
                upstream.close()

    def _forward(self, upstream: http.client.HTTPConnection, request: _Request) -> tuple[bytes, bytes]:
        """Send `request` to the server; its answer as (status line and headers, body)."""
        upstream.putrequest(request.method, request.path, skip_host=True, skip_accept_encoding=True)
        for name, value in request.headers:
            if name.lower() not in _HOP_HEADERS:
                upstream.putheader(name, value)
        upstream.endheaders(request.body or None)
        response = upstream.getresponse()
        body = response.read()
        lines = [f"HTTP/1.1 {response.status} {response.reason}"]
        for name, value in response.getheaders():
            if name.lower() not in _HOP_HEADERS and not (
                name.lower() == "content-length" and request.method != "HEAD"
            ):
                lines.append(f"{name}: {value}")
        if request.method != "HEAD":
            lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head, b"" if request.method == "HEAD" else body

    def _fault(self, connection: socket.socket, rule: Rule, answer: tuple[bytes, bytes] | None) -> None:
        if rule.action in ("503", "500"):
            status, reason, code, message = _ERRORS[rule.action]
            body = (
                f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                f"<Message>{message}</Message></Error>"
            ).encode()
            head = (
                f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            connection.sendall(head + body)
        elif rule.action == "cut" and answer is not None:
            head, body = answer
            connection.sendall(head + body[: len(body) // 2])
            _reset(connection)
        else:
            _reset(connection)
