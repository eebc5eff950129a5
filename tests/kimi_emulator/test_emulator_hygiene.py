"""The emulator as a long-running server (issue 12 §4): auth before the body, a bounded log."""

from __future__ import annotations

import socket

import openai
import pytest
from kimi_emulator import EmulatorConfig, KimiEmulator
from kimi_emulator.cli import main

# A client that stops sending is left waiting by a server that reads the body first; this is how
# long the test waits for the 401 before calling that a failure (a guard, not a measurement).
GUARD = 15.0


def _send_junk(emu: KimiEmulator, key: str) -> tuple[bytes, int]:
    """Start a never-ending chunked upload with ``key``; return the reply and bytes sent."""
    with socket.create_connection((emu.host, emu.port), timeout=GUARD) as sock:
        head = (
            "POST /v1/chat/completions HTTP/1.1\r\n"
            f"Host: {emu.host}:{emu.port}\r\n"
            f"Authorization: Bearer {key}\r\n"
            "Content-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"x" * 65536
        sent = sock.send(head.encode()) + sock.send(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        # The body never ends: the only way to a reply is a server that does not wait for it.
        reply = b""
        while b"\r\n\r\n" not in reply:
            data = sock.recv(65536)
            if not data:
                break
            reply += data
        while data := sock.recv(65536):  # then the server hangs up instead of draining
            reply += data
        return reply, sent


def test_wrong_key_gets_401_without_the_body_being_read(kimi_emulator: KimiEmulator) -> None:
    try:
        reply, sent = _send_junk(kimi_emulator, "sk-wrong")
    except TimeoutError:
        pytest.fail(f"no reply within {GUARD}s: the server waits for a body that never ends")
    status_line = reply.split(b"\r\n", 1)[0]
    assert b" 401 " in status_line
    assert b"incorrect_api_key_error" in reply
    assert sent < 70_000  # the reply came after one chunk of an endless body
    logged = kimi_emulator.requests[-1]
    assert (logged.path, logged.body) == ("/v1/chat/completions", None)
    assert logged.headers["Authorization"] == "Bearer [REDACTED]"


def test_the_right_key_still_reads_and_logs_the_body(kimi_emulator: KimiEmulator) -> None:
    client = openai.OpenAI(api_key=kimi_emulator.api_key, base_url=kimi_emulator.base_url)
    client.chat.completions.create(
        model="kimi-k2.6", messages=[{"role": "user", "content": "hi"}], max_tokens=16
    )
    bad = openai.OpenAI(api_key="sk-wrong", base_url=kimi_emulator.base_url, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="kimi-k2.6", messages=[{"role": "user", "content": "x"}])
    ok, rejected = kimi_emulator.requests[-2:]
    assert ok.body["messages"] == [{"role": "user", "content": "hi"}]
    assert rejected.body is None


def test_the_request_log_is_a_ring_buffer() -> None:
    config = EmulatorConfig(request_log_size=5)
    with KimiEmulator(config=config) as emu:
        client = openai.OpenAI(api_key=emu.api_key, base_url=emu.base_url)
        for i in range(12):
            client.models.list()
            client.chat.completions.create(
                model="kimi-k2.6", messages=[{"role": "user", "content": f"n{i}"}], max_tokens=8
            )
        log = emu.requests
        assert len(log) == 5  # 24 requests arrived
        assert log[-1].body["messages"][0]["content"] == "n11"
        emu.reset()
        assert emu.requests == []


def test_request_log_size_is_validated_and_on_the_command_line() -> None:
    with pytest.raises(ValueError, match="request_log_size"):
        EmulatorConfig(request_log_size=0)
    with pytest.raises(SystemExit):
        main(["--request-log-size", "many"])


def test_json_nested_past_the_parser_budget_is_a_400_not_a_crash(
    kimi_emulator: KimiEmulator,
) -> None:
    import urllib.error
    import urllib.request

    deep = b"[" * 100_000 + b"]" * 100_000
    request = urllib.request.Request(
        kimi_emulator.base_url + "/chat/completions",
        data=b'{"model":"kimi-k2.6","messages":' + deep + b"}",
        headers={
            "Authorization": f"Bearer {kimi_emulator.api_key}",
            "Content-Type": "application/json",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=GUARD)
    assert caught.value.code == 400
    assert b"invalid_request_error" in caught.value.read()
