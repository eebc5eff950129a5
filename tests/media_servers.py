"""Loopback media servers and a connection guard, for the media-URL safety tests.

Standard library only. ``guard_connections`` fails a test that tries to open a TCP connection to
anything but loopback (tests never send traffic elsewhere) and records every connection, so a
test can assert that a refusal came before any connection at all.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
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

    wrap_socket: Callable[[ssl.SSLContext], None] = lambda context: None

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

    def wrap_socket(context: ssl.SSLContext) -> None:
        # Serve HTTPS from now on (the handshake happens per accepted connection).
        server.socket = context.wrap_socket(server.socket, server_side=True)

    state.wrap_socket = wrap_socket
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


@dataclass(frozen=True)
class RefusedCase:
    """A media URL that must be refused before any connection, and why.

    Attributes:
        url: The URL; ``{port}`` is a loopback server that must see no request.
        answers: What a stub resolver answers for its host (None: no resolver needed).
        reason: A part of the error message naming the address class.
    """

    url: str
    answers: tuple[str, ...] | None
    reason: str

    def resolver(self) -> Callable[[str, int], list[str]]:
        """A stub resolver giving ``answers``; without answers, one that fails the test if asked."""

        def resolve(host: str, port: int) -> list[str]:
            if self.answers is None:
                raise AssertionError(f"{host} was resolved, but must be refused without a lookup")
            return list(self.answers)

        return resolve


# Every refused address class, as a URL an end user could send. Names with stub answers stand for
# public-looking hosts whose DNS points inside (no DNS query is made).
REFUSED = {
    "loopback": RefusedCase("http://127.0.0.1:{port}/cat.png", None, "is a loopback address"),
    "loopback-ipv6": RefusedCase("http://[::1]:{port}/cat.png", None, "is a loopback address"),
    "loopback-decimal": RefusedCase("http://2130706433:{port}/cat.png", None, "loopback"),
    "loopback-hex": RefusedCase("http://0x7f.0.0.1:{port}/cat.png", None, "loopback"),
    "loopback-short": RefusedCase("http://127.1:{port}/cat.png", None, "loopback"),
    "localhost": RefusedCase("http://localhost:{port}/cat.png", None, "(localhost)"),
    "loopback-by-dns": RefusedCase(
        "http://img.example.com:{port}/cat.png", ("127.0.0.1",), "resolves to 127.0.0.1"
    ),
    "private-10": RefusedCase("http://10.0.0.5/cat.png", None, "private address (RFC 1918)"),
    "private-172": RefusedCase("http://172.16.0.1/cat.png", None, "private address (RFC 1918)"),
    "private-192": RefusedCase("http://192.168.1.1/cat.png", None, "private address (RFC 1918)"),
    "private-by-dns": RefusedCase(
        "https://img.example.com/cat.png", ("93.184.215.14", "10.0.0.7"), "resolves to 10.0.0.7"
    ),
    "cloud-metadata": RefusedCase("http://169.254.169.254/latest/meta-data/", None, "link-local"),
    "metadata-name": RefusedCase(
        "http://metadata.google.internal/computeMetadata/v1/", None, "cloud metadata"
    ),
    "link-local-ipv6": RefusedCase("http://[fe80::1]/cat.png", None, "link-local"),
    "cgnat": RefusedCase("http://100.64.0.1/cat.png", None, "carrier-grade NAT"),
    "unique-local": RefusedCase("http://[fd00::1]/cat.png", None, "unique-local"),
    "site-local": RefusedCase("http://[fec0::1]/cat.png", None, "site-local"),
    "multicast": RefusedCase("http://224.0.0.1/cat.png", None, "multicast"),
    "multicast-ipv6": RefusedCase("http://[ff02::1]/cat.png", None, "multicast"),
    "unspecified": RefusedCase("http://0.0.0.0:{port}/cat.png", None, "unspecified"),
    "unspecified-ipv6": RefusedCase("http://[::]:{port}/cat.png", None, "unspecified"),
    "reserved": RefusedCase("http://240.0.0.1/cat.png", None, "reserved"),
    "broadcast": RefusedCase("http://255.255.255.255/cat.png", None, "reserved"),
    "ipv4-mapped-metadata": RefusedCase(
        "http://[::ffff:169.254.169.254]/", None, "IPv4-mapped form of 169.254.169.254"
    ),
    "ipv4-mapped-by-dns": RefusedCase(
        "http://img.example.com/cat.png", ("::ffff:10.0.0.1",), "IPv4-mapped form of 10.0.0.1"
    ),
    "ipv4-compatible": RefusedCase(
        "http://[::127.0.0.1]:{port}/cat.png", None, "IPv4-compatible form of 127.0.0.1"
    ),
    "nat64-metadata": RefusedCase(
        "http://[64:ff9b::a9fe:a9fe]/", None, "NAT64 form of 169.254.169.254"
    ),
    "6to4-private": RefusedCase("http://[2002:a00:1::]/cat.png", None, "6to4 form of 10.0.0.1"),
}
