"""JSON requests take kimi-core's direct path over the SDK's pool, not the SDK's request pipeline.

Guards the issue-6 fix for per-call overhead by behaviour: with the SDK's ``request`` disabled,
chat, streams and token estimates still work and send what the SDK would (auth, JSON, headers),
while multipart uploads still go through the SDK on the same pool.
"""

from __future__ import annotations

import json

import kimi_core
import openai
import pytest
from core_helpers import FAST_RETRIES
from kimi_core import ChatSettings, KimiClient, Message, build_chat_request
from kimi_emulator import Fault, Reply

HELLO = [Message.user("Grüße, 你好")]


def _request(stream: bool = False, **settings) -> kimi_core.ChatRequest:
    return build_chat_request(HELLO, ChatSettings(**settings), stream=stream)


@pytest.fixture
def no_sdk_pipeline(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a JSON request went through the openai SDK's request pipeline")

    monkeypatch.setattr(openai.OpenAI, "request", refuse)
    monkeypatch.setattr(openai.AsyncOpenAI, "request", refuse)


def _headers(emu) -> dict[str, str]:
    return {k.lower(): v for k, v in emu.requests[-1].headers.items()}


def test_sync_calls_skip_the_sdk_pipeline_and_send_the_same_request(kimi_emulator, no_sdk_pipeline):
    client = KimiClient(
        api_key=kimi_emulator.api_key,
        base_url=kimi_emulator.base_url,
        default_headers={"X-Direct": "sync"},
        retry_policy=FAST_RETRIES,
    )
    kimi_emulator.script(Reply(content="hi", reasoning="r"))
    assert client.complete(_request()).text == "hi"
    headers = _headers(kimi_emulator)
    assert headers["authorization"] == "Bearer [REDACTED]"
    assert headers["content-type"] == "application/json"
    assert headers["x-direct"] == "sync"
    assert headers["user-agent"].startswith("OpenAI/Python")
    # Non-ASCII text travels as UTF-8 JSON and arrives unchanged.
    assert kimi_emulator.chat_requests[-1]["messages"][0]["content"] == "Grüße, 你好"

    kimi_emulator.script(Reply(content="streamed", chunk_size=2))
    deltas = list(client.stream(_request(stream=True)))
    assert "".join(d.text or "" for d in deltas) == "streamed"
    assert kimi_emulator.chat_requests[-1]["stream"] is True
    assert client.estimate_tokens(_request()) > 0
    assert kimi_emulator.requests[-1].path.endswith("/tokenizers/estimate-token-count")


async def test_async_calls_skip_the_sdk_pipeline(kimi_emulator, no_sdk_pipeline):
    client = KimiClient(
        api_key=kimi_emulator.api_key,
        base_url=kimi_emulator.base_url,
        default_headers={"X-Direct": "async"},
        retry_policy=FAST_RETRIES,
    )
    kimi_emulator.script(Reply(content="hi"))
    assert (await client.acomplete(_request())).text == "hi"
    kimi_emulator.script(Reply(content="streamed", chunk_size=2))
    texts = [d.text async for d in client.astream(_request(stream=True)) if d.text]
    assert "".join(texts) == "streamed"
    assert _headers(kimi_emulator)["x-direct"] == "async"
    assert len(kimi_emulator.chat_requests) == 2


def test_errors_and_retries_on_the_direct_path(kimi_emulator, no_sdk_pipeline):
    client = KimiClient(
        api_key=kimi_emulator.api_key, base_url=kimi_emulator.base_url, retry_policy=FAST_RETRIES
    )
    kimi_emulator.script(Fault.overloaded(retry_after=0.01))
    assert client.complete(_request()).finish_reason == "stop"
    assert len(kimi_emulator.chat_requests) == 2
    # The retried request carries the same body, encoded once.
    assert kimi_emulator.chat_requests[0] == kimi_emulator.chat_requests[1]
    with pytest.raises(kimi_core.NotFoundError) as info:
        client.complete(_request(model="kimi-no-such-model"))
    assert info.value.status == 404
    assert info.value.request_id


def test_uploads_still_go_through_the_sdk_on_the_same_pool(kimi_emulator):
    client = KimiClient(api_key=kimi_emulator.api_key, base_url=kimi_emulator.base_url)
    uploaded = client.files.upload(b"hello", filename="a.txt", purpose="file-extract")
    assert uploaded.id
    # The SDK client shares the pool that chat calls use: one set of connections per settings.
    assert client._pool().sdk is client.sdk


def test_a_body_json_cannot_represent_is_refused_before_sending(kimi_emulator):
    client = KimiClient(api_key=kimi_emulator.api_key, base_url=kimi_emulator.base_url)
    for bad in (float("nan"), float("inf"), {1, 2}, object()):
        request = _request(extra_body={"x_weight": bad})
        with pytest.raises(ValueError, match="cannot be sent as JSON"):
            client.complete(request)
    assert kimi_emulator.requests == []
    # Plain values pass through unchanged.
    client.complete(_request(extra_body={"x_weight": [1.5, None, True, {"k": "v"}]}))
    sent = kimi_emulator.chat_requests[-1]
    assert json.dumps(sent["x_weight"]) == '[1.5, null, true, {"k": "v"}]'


def test_settings_changed_after_the_first_call_take_effect(kimi_emulator):
    # The client remembers its pool between calls; changing its public settings picks another.
    client = KimiClient(api_key=kimi_emulator.api_key, base_url=kimi_emulator.base_url)
    client.complete(_request())
    first = client.sdk
    client.default_headers["X-Added-Later"] = "1"
    client.complete(_request())
    assert _headers(kimi_emulator)["x-added-later"] == "1"
    assert client.sdk is not first
    client.timeout = 7.0
    assert client.sdk.timeout.read == 7.0
