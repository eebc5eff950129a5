"""Fixtures for kimi-core tests: a client bound to the emulator, and a verbatim replay server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from core_helpers import FAST_RETRIES, ReplayServer
from kimi_core import KimiClient
from kimi_core.files import clear_upload_cache
from kimi_core.profiles import reset_profiles


@pytest.fixture(autouse=True)
def _fresh_process_state() -> Iterator[None]:
    # The emulator's file store is reset per test; cached file ids must not outlive it. Profiles
    # refreshed from /v1/models are process-wide too, so each test starts from the built-in table.
    clear_upload_cache()
    yield
    reset_profiles()


@pytest.fixture
def client(kimi_emulator) -> KimiClient:
    return KimiClient(
        api_key=kimi_emulator.api_key, base_url=kimi_emulator.base_url, retry_policy=FAST_RETRIES
    )


@pytest.fixture
def replay_server() -> Iterator[ReplayServer]:
    """A loopback HTTP server answering every request with the next canned response, verbatim."""
    state = ReplayServer(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            state.bodies.append(self.rfile.read(length) if length else b"")
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
