"""Fixtures of the cross-package reliability tests (``nox -s tests``: every package installed)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import kimi_core.client
import pytest
from kimi_emulator import KimiEmulator
from rel_helpers import ReplayServer, fast_backoff_policy


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients built from now on back off in milliseconds instead of half-seconds.

    Only the policy's time scale changes; which errors are retried, how often and whether
    ``Retry-After`` wins are still kimi-core's own decisions.
    """
    monkeypatch.setattr(kimi_core.client, "RetryPolicy", fast_backoff_policy())


@pytest.fixture
def retry_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture kimi-core's retry decisions (``retrying in <s>s ...`` at INFO)."""
    caplog.set_level(logging.INFO, logger="kimi_core")
    return caplog


@pytest.fixture
def private_emulator() -> Iterator[KimiEmulator]:
    """An emulator of this test alone.

    For slow faults: a handler still sleeping on a fault after the client gave up would otherwise
    wake up during the next test and take that test's scripted reply.
    """
    with KimiEmulator() as emulator:
        yield emulator


@pytest.fixture
def replay_server() -> Iterator[ReplayServer]:
    """A loopback HTTP server serving canned responses verbatim (malformed output, redirects)."""
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

        do_GET = do_POST = _answer

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
