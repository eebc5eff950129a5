"""A loopback HTTP server that answers with canned responses, verbatim.

For what the emulator deliberately never sends (recorded bodies, malformed output, redirects).
Standard library only: every isolated ``tests-<package>`` session can use it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Canned:
    """One HTTP response served verbatim by :class:`ReplayServer`."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ReplayServer:
    """Answers every request with the next canned response (the last one repeats)."""

    base_url: str = ""
    responses: list[Canned] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def serve(self, *responses: Canned) -> None:
        """Answer the coming requests with these, in order (the last one repeats)."""
        self.responses[:] = responses


@contextmanager
def running_replay_server() -> Iterator[ReplayServer]:
    """Start a :class:`ReplayServer` on 127.0.0.1 (ephemeral port) and stop it afterwards."""
    state = ReplayServer()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            state.requests.append((self.path, dict(self.headers), body))
            canned = state.responses.pop(0) if len(state.responses) > 1 else state.responses[0]
            self.send_response(canned.status)
            self.send_header("content-type", canned.content_type)
            self.send_header("content-length", str(len(canned.body)))
            for key, value in canned.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(canned.body)

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
