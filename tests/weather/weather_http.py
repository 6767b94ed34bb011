"""A local HTTP server with canned replies, standing in for climate.onebuilding.org in download tests."""

from __future__ import annotations

import io
import threading
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def make_zip(members: dict[str, bytes]) -> bytes:
    """A ZIP archive with these members, in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


@dataclass
class Reply:
    """One canned answer: a status, a body, and how to misbehave while sending it."""

    status: int = 200
    body: bytes = b""
    truncate_at: int | None = None  # close the connection after this many body bytes
    declare_length: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/zip"


class WeatherServer:
    """A local HTTP server with canned replies per path, counting the requests it gets."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.hits: Counter[str] = Counter()
        self.methods: Counter[tuple[str, str]] = Counter()  # (method, path) -> requests
        self._lock = threading.Lock()
        handler = _handler_for(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def total_hits(self) -> int:
        return sum(self.hits.values())

    def serve(self, path: str, *replies: Reply) -> None:
        """Answer ``path`` with these replies in turn; the last one repeats."""
        self.routes[path] = list(replies)

    def next_reply(self, path: str, method: str = "GET") -> Reply | None:
        with self._lock:
            self.hits[path] += 1
            self.methods[(method, path)] += 1
            replies = self.routes.get(path)
            return replies[min(self.hits[path], len(replies)) - 1] if replies else None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler_for(server: WeatherServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer(body=True)

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def _answer(self, body: bool) -> None:
            reply = server.next_reply(self.path, self.command)
            if reply is None:
                self.send_error(404, "Not Found")
                return
            if reply.status != 200:
                self.send_error(reply.status)
                return
            self.send_response(200)
            self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.declare_length:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if body:
                self.wfile.write(reply.body[: reply.truncate_at])
                self.wfile.flush()
            self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            """Keep the test output quiet."""

    return Handler
