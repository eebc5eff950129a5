"""Bounded responses, redirects, schema depth and the whole-call deadline (issue 12 §3).

Every case runs through ChatKimi and Kimi over real HTTP, against the emulator or a hostile
loopback server started here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import kimi_core
import pytest
from kimi_emulator import Fault, KimiEmulator, Reply
from llama_index.core.base.llms.types import ChatMessage
from rel_helpers import FRAMEWORKS, INVOKE_MODES, MODES, STREAM_MODES, drive, model

MiB = 1024 * 1024


@dataclass
class Hostile:
    """A loopback server that misbehaves in one chosen way; ``api_key``/``base_url`` as an emu."""

    behaviour: str
    location: str = ""
    api_key: str = "sk-hostile"
    base_url: str = ""
    hits: list[str] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    state = Hostile("")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            streamed = b'"stream":true' in self.rfile.read(length)
            state.hits.append(self.path)
            if state.behaviour == "redirect":
                self.send_response(307)
                self.send_header("Location", state.location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if state.behaviour == "deep_json":
                deep = b"[" * 100_000 + b"]" * 100_000  # past any JSON parser's nesting budget
                body = b"data: " + deep + b"\n\n" if streamed else deep
                self.send_response(200)
                kind = "text/event-stream" if streamed else "application/json"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            endless_line = state.behaviour == "endless_line"
            self.send_response(200)
            self.send_header(
                "Content-Type", "text/event-stream" if endless_line else "application/json"
            )
            self.send_header("Connection", "close")  # no length: the body ends when we hang up
            self.end_headers()
            # 24 MiB of one line (past the 16 MiB line cap) or 96 MiB of body (past 64 MiB); a
            # client without caps reads it all and then fails to parse it.
            total, piece = (24 * MiB, b"x" * MiB) if endless_line else (96 * MiB, b" " * MiB)
            sent = 0
            try:
                if endless_line:
                    self.wfile.write(b"data: {")
                while sent < total:
                    self.wfile.write(piece)
                    sent += len(piece)
            except OSError:  # the client hung up: what a capped client does
                pass
            state.sent.append(sent)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


# -- caps ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", INVOKE_MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_body_past_the_cap_ends_in_a_typed_error(
    framework: str, mode: str, hostile: Hostile
) -> None:
    hostile.behaviour = "endless_body"
    out = drive(framework, mode, hostile, max_retries=0)  # type: ignore[arg-type]
    assert isinstance(out.error, kimi_core.ResponseTooLargeError), out.error
    assert "67108864 bytes" in str(out.error)
    assert "max_response_bytes" in str(out.error)


@pytest.mark.parametrize("mode", STREAM_MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_an_sse_line_past_the_cap_ends_in_a_typed_error(
    framework: str, mode: str, hostile: Hostile
) -> None:
    hostile.behaviour = "endless_line"
    out = drive(framework, mode, hostile, max_retries=0)  # type: ignore[arg-type]
    assert isinstance(out.error, kimi_core.ResponseTooLargeError), out.error
    assert "16777216 bytes" in str(out.error)
    assert "max_sse_line_bytes" in str(out.error)


def test_caps_are_configurable_and_content_length_is_refused_unread(
    kimi_emulator: KimiEmulator,
) -> None:
    client = kimi_core.KimiClient(
        api_key=kimi_emulator.api_key, base_url=kimi_emulator.base_url, max_response_bytes=64
    )
    request = kimi_core.build_chat_request(
        [kimi_core.Message(role="user", content="hi")], kimi_core.ChatSettings(model="kimi-k2.6")
    )
    with pytest.raises(kimi_core.ResponseTooLargeError, match="64 bytes"):
        client.complete(request)
    with pytest.raises(ValueError, match="positive"):
        kimi_core.KimiClient(api_key="sk-x", max_sse_line_bytes=0)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_json_nested_past_the_parser_budget_is_a_malformed_response(
    framework: str, mode: str, hostile: Hostile
) -> None:
    hostile.behaviour = "deep_json"
    out = drive(framework, mode, hostile, max_retries=0)  # type: ignore[arg-type]
    assert isinstance(out.error, kimi_core.MalformedResponseError), repr(out.error)


# -- redirects -------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_redirect_to_another_origin_is_not_followed(
    framework: str, mode: str, hostile: Hostile, kimi_emulator: KimiEmulator
) -> None:
    # Same host, another port: another origin. The target is a working Kimi (the emulator), so
    # a client that followed would succeed; credentials and a signature sit in the Location.
    port = kimi_emulator.port
    hostile.behaviour = "redirect"
    hostile.location = f"http://user:pw@127.0.0.1:{port}/v1/chat/completions?sig=s3cr3t"
    hostile.api_key = kimi_emulator.api_key
    extra = {"default_headers": {"X-App-Secret": "hdr"}} if framework == "llamaindex" else {}
    out = drive(framework, mode, hostile, max_retries=2, **extra)  # type: ignore[arg-type]
    assert isinstance(out.error, kimi_core.RedirectError), out.error
    message = str(out.error)
    assert f"http://127.0.0.1:{port}/v1/chat/completions?…" in message
    assert "307" in message
    assert "pw" not in message.replace("pointing", "")
    assert "s3cr3t" not in message
    assert kimi_emulator.requests == []  # neither body nor headers reached the other origin
    assert len(hostile.hits) == 1  # and a refused redirect is not retried


def test_a_same_origin_redirect_is_still_followed(kimi_emulator: KimiEmulator) -> None:
    # The emulator redirects nothing itself; a hop on the same origin keeps working, proved with
    # httpx's own redirect handling on the shared pool (the hook lets it through).
    client = kimi_core.KimiClient(api_key=kimi_emulator.api_key, base_url=kimi_emulator.base_url)
    response = client.request("GET", "/models")
    assert response.status_code == 200


# -- schema depth ----------------------------------------------------------------------------------


def _deep(levels: int) -> dict[str, object]:
    schema: dict[str, object] = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"a": schema}}
    return schema


@pytest.mark.parametrize("levels", [300, 2000])
def test_a_deep_tool_schema_is_a_value_error_with_its_path(
    levels: int, kimi_emulator: KimiEmulator
) -> None:
    tool = {"type": "function", "function": {"name": "deep", "parameters": _deep(levels)}}
    chat = model("langchain", kimi_emulator)
    with pytest.raises(ValueError, match=r"At path 'properties\.a\.properties\.a") as caught:
        chat.bind_tools([tool]).invoke("hi")  # type: ignore[union-attr]
    assert not isinstance(caught.value, RecursionError)
    llm = model("llamaindex", kimi_emulator)
    with pytest.raises(ValueError, match=r"At path 'properties\.a"):
        llm.chat([ChatMessage(role="user", content="hi")], tools=[tool])  # type: ignore[union-attr]
    assert kimi_emulator.requests == []


@pytest.mark.parametrize("levels", [300, 2000])
def test_a_deep_response_schema_is_a_value_error(levels: int, kimi_emulator: KimiEmulator) -> None:
    schema = {"title": "Deep", **_deep(levels)}
    chat = model("langchain", kimi_emulator, model="kimi-k2.6")
    with pytest.raises(ValueError, match="At path"):
        chat.with_structured_output(schema, method="json_schema").invoke("hi")  # type: ignore[union-attr]
    assert kimi_emulator.requests == []


# -- deadline --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_deadline_bounds_the_whole_call(
    framework: str, mode: str, private_emulator: KimiEmulator
) -> None:
    # Each chunk comes well inside the per-request timeout; only the whole call is too long.
    streaming = mode in STREAM_MODES
    fault = Fault.slow_chunks(0.4) if streaming else Fault.delay_first_byte(3.0)
    private_emulator.script(fault)
    private_emulator.script(Reply(content="one two three four five six", content_chunks=6))
    out = drive(framework, mode, private_emulator, deadline=1.0, timeout=30, max_retries=3)
    assert isinstance(out.error, kimi_core.DeadlineExceededError), out.error
    assert "deadline" in str(out.error)
    assert not out.error.retryable
    if streaming:
        assert len(out.pieces) < 6  # cut mid-stream, after what had arrived


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_no_deadline_by_default(framework: str, kimi_emulator: KimiEmulator) -> None:
    llm = model(framework, kimi_emulator)
    assert llm.deadline is None  # type: ignore[union-attr]
    assert llm.client.deadline is None  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        model(framework, kimi_emulator, deadline=0)
