"""Fixtures: a ``Kimi`` bound to the emulator, and an environment without stray credentials."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from kimi_emulator import KimiEmulator
from llama_index.llms.kimi import Kimi
from moonshot_recordings import RECORDINGS

_CREDENTIAL_VARS = (
    "MOONSHOT_API_KEY",
    "KIMI_API_KEY",
    "MOONSHOT_BASE_URL",
    "KIMI_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_API_BASE",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def make_llm(kimi_emulator: KimiEmulator) -> Callable[..., Kimi]:
    """Build a ``Kimi`` talking to the emulator (no retries unless asked)."""

    def make(**kwargs: Any) -> Kimi:
        kwargs.setdefault("max_retries", 0)
        return Kimi(api_key=kimi_emulator.api_key, base_url=kimi_emulator.base_url, **kwargs)

    return make


@pytest.fixture
def llm(make_llm: Callable[..., Kimi]) -> Kimi:
    return make_llm()


@dataclass
class Replay:
    """A loopback server: every POST gets one recorded SSE stream verbatim; GETs serve ``files``."""

    base_url: str = ""
    body: bytes = b""
    sent: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # GET path -> (type, body)

    def serve_recording(self, name: str) -> None:
        lines = (RECORDINGS / name).read_text().splitlines()
        events = [f"data: {line}\n\n" for line in lines if line.strip()]
        self.body = "".join([*events, "data: [DONE]\n\n"]).encode()


@pytest.fixture
def replay() -> Iterator[Replay]:
    state = Replay()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            state.sent.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("content-length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

        def do_GET(self) -> None:
            content_type, body = state.files[self.path]
            self.send_response(200)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
