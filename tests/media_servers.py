"""Loopback media servers and a connection guard, for the media-URL safety tests.

Standard library only. ``guard_connections`` fails a test that tries to open a TCP connection to
anything but loopback (tests never send traffic elsewhere) and records every connection, so a
test can assert that a refusal came before any connection at all.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# A 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@dataclass
class Route:
    """What one path answers.

    Attributes:
        body: The body (``chunked`` sends it without Content-Length).
        content_type: Its type.
        status: The status (a redirect when ``location`` is set).
        location: Redirect target.
        chunked: Send with ``Transfer-Encoding: chunked`` and no Content-Length.
        trickle: Seconds to wait before each byte of the body (a slow-loris server).
    """

    body: bytes = PNG
    content_type: str = "image/png"
    status: int = 200
    location: str | None = None
    chunked: bool = False
    trickle: float = 0.0


@dataclass
class MediaServer:
    """A loopback HTTP server answering GETs from ``routes`` and recording them."""

    base_url: str = ""
    port: int = 0
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    bytes_sent: int = 0

    def url(self, path: str, host: str | None = None) -> str:
        """The URL of ``path`` (under another host name, e.g. for a stub resolver)."""
        return f"http://{host}:{self.port}{path}" if host else f"{self.base_url}{path}"


@contextmanager
def running_media_server(host: str = "127.0.0.1") -> Iterator[MediaServer]:
    """Start a :class:`MediaServer` on ``host`` (a loopback address) and stop it afterwards."""
    state = MediaServer()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            state.requests.append((self.path, dict(self.headers)))
            route = state.routes.get(path, Route(status=404, body=b"not found"))
            self.send_response(route.status)
            if route.location is not None:
                self.send_header("Location", route.location)
            self.send_header("Content-Type", route.content_type)
            if route.chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(route.body)))
            self.send_header("Connection", "close")
            self.end_headers()
            # The client may give up mid-body (a refusal): nothing left to finish then.
            with contextlib.suppress(OSError):
                self._body(route)

        def _body(self, route: Route) -> None:
            if route.trickle:
                for i in range(len(route.body)):
                    time.sleep(route.trickle)
                    self.wfile.write(route.body[i : i + 1])
                    self.wfile.flush()
                    state.bytes_sent += 1
                return
            if route.chunked:
                step = 64 * 1024
                for i in range(0, len(route.body), step):
                    piece = route.body[i : i + step]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    state.bytes_sent += len(piece)
                self.wfile.write(b"0\r\n\r\n")
                return
            self.wfile.write(route.body)
            state.bytes_sent += len(route.body)

        def log_message(self, *args: object) -> None:
            return

    family = socket.AF_INET6 if ":" in host else socket.AF_INET

    class Server(ThreadingHTTPServer):
        address_family = family
        daemon_threads = True

    server = Server((host, 0), Handler)
    state.port = server.server_address[1]
    shown = f"[{host}]" if ":" in host else host
    state.base_url = f"http://{shown}:{state.port}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Connections:
    """Every TCP connection attempted while guarded: ``(host, port)``."""

    attempts: list[tuple[str, int]] = field(default_factory=list)

    def to(self, port: int) -> list[tuple[str, int]]:
        """The attempts to ``port``."""
        return [a for a in self.attempts if a[1] == port]

    def other_than(self, *ports: int) -> list[tuple[str, int]]:
        """The attempts to any port but ``ports`` (e.g. the emulator's)."""
        return [a for a in self.attempts if a[1] not in ports]


@contextmanager
def guard_connections() -> Iterator[Connections]:
    """Record every TCP connect; fail (AssertionError) one aimed anywhere but loopback."""
    seen = Connections()
    original = socket.socket.connect
    original_ex = socket.socket.connect_ex

    def check(address: Any) -> None:
        if not isinstance(address, tuple):
            return
        host, port = str(address[0]), int(address[1])
        seen.attempts.append((host, port))
        if not ipaddress.ip_address(host.split("%", 1)[0]).is_loopback:
            raise AssertionError(f"test tried to connect to {host}:{port}, outside loopback")

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        original(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return original_ex(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        socket.socket.connect = original  # type: ignore[method-assign]
        socket.socket.connect_ex = original_ex  # type: ignore[method-assign]
