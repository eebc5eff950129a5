"""KimiClient over real HTTP against the emulator: errors, retries, streams, pools, credentials."""

from __future__ import annotations

import asyncio
import pickle

import kimi_core
import pytest
from core_helpers import FAST_RETRIES
from kimi_core import (
    ChatSettings,
    KimiClient,
    Message,
    RetryPolicy,
    build_chat_request,
)
from kimi_emulator import Fault, Reply

HELLO = [Message.user("Hello there")]


def _request(stream: bool = False, **settings) -> kimi_core.ChatRequest:
    return build_chat_request(HELLO, ChatSettings(**settings), stream=stream)


def _client(emu, **kwargs) -> KimiClient:
    kwargs.setdefault("retry_policy", FAST_RETRIES)
    return KimiClient(api_key=emu.api_key, base_url=emu.base_url, **kwargs)


def test_complete_returns_text_reasoning_usage_and_request_id(client, kimi_emulator):
    kimi_emulator.script(Reply(content="Hi!", reasoning="greet", usage=None))
    result = client.complete(_request())
    assert result.text == "Hi!"
    assert result.reasoning == "greet"
    assert result.finish_reason == "stop"
    assert result.usage is not None
    assert result.usage.total_tokens == result.usage.input_tokens + result.usage.output_tokens
    assert result.request_id
    assert result.model == "kimi-k2.6"


def test_stream_deltas_add_up_to_the_result(client, kimi_emulator):
    kimi_emulator.script(Reply(content="Hello world", reasoning="think first", chunk_size=3))
    stream = client.stream(_request(stream=True))
    deltas = list(stream)
    final = deltas[-1]
    assert final.result is stream.result
    assert final.finish_reason == "stop"
    assert final.usage == final.result.usage
    assert "".join(d.text or "" for d in deltas) == "Hello world"
    assert "".join(d.reasoning or "" for d in deltas) == "think first"
    # Reasoning arrives before any text, usage and finish_reason only once, at the end.
    first_text = next(i for i, d in enumerate(deltas) if d.text)
    assert all(not d.reasoning for d in deltas[first_text:])
    assert [d.finish_reason for d in deltas].count("stop") == 1
    assert sum(d.usage is not None for d in deltas) == 1
    assert kimi_emulator.chat_requests[-1]["stream_options"] == {"include_usage": True}


def test_complete_sends_a_non_stream_body_even_from_a_stream_request(client, kimi_emulator):
    client.complete(_request(stream=True))
    assert "stream" not in kimi_emulator.chat_requests[-1]
    assert "stream_options" not in kimi_emulator.chat_requests[-1]


def test_streamed_tool_calls_assemble(client, kimi_emulator):
    from kimi_emulator import ScriptedToolCall

    kimi_emulator.script(
        Reply(
            reasoning="two calls",
            tool_calls=[
                ScriptedToolCall("get_weather", {"city": "Paris"}),
                ScriptedToolCall("get_time", {"zone": "UTC"}),
            ],
        )
    )
    tools = [kimi_core.FunctionTool("get_weather"), kimi_core.FunctionTool("get_time")]
    request = build_chat_request(HELLO, ChatSettings(), tools=tools, stream=True)
    deltas = list(client.stream(request))
    result = deltas[-1].result
    assert result is not None
    assert result.finish_reason == "tool_calls"
    assert [(c.name, c.arguments) for c in result.tool_calls] == [
        ("get_weather", '{"city": "Paris"}'),
        ("get_time", '{"zone": "UTC"}'),
    ]
    pieces: dict[int, str] = {}
    for delta in deltas:
        for chunk in delta.tool_call_chunks:
            pieces[chunk.index] = pieces.get(chunk.index, "") + chunk.arguments
    assert pieces == {0: '{"city": "Paris"}', 1: '{"zone": "UTC"}'}


async def test_async_complete_and_stream(kimi_emulator):
    client = _client(kimi_emulator)
    kimi_emulator.script(Reply(content="async hi"))
    result = await client.acomplete(_request())
    assert result.text == "async hi"
    kimi_emulator.script(Reply(content="streamed", reasoning="r", chunk_size=2))
    stream = client.astream(_request(stream=True))
    texts = [d.text async for d in stream if d.text]
    assert "".join(texts) == "streamed"
    assert stream.result is not None
    assert stream.result.reasoning == "r"


async def test_concurrent_async_calls_share_one_pool(kimi_emulator):
    clients = [_client(kimi_emulator) for _ in range(5)]
    assert len({id(c.async_sdk) for c in clients}) == 1
    results = await asyncio.gather(*(c.acomplete(_request()) for c in clients * 4))
    assert all(r.finish_reason == "stop" for r in results)
    assert len(kimi_emulator.chat_requests) == 20


def test_sync_pool_shared_by_equal_settings_only(kimi_emulator):
    a, b = _client(kimi_emulator), _client(kimi_emulator)
    assert a.sdk is b.sdk
    assert _client(kimi_emulator, timeout=5).sdk is not a.sdk
    other_key = KimiClient(api_key="sk-other", base_url=kimi_emulator.base_url)
    assert other_key.sdk is not a.sdk


# -- errors and retries --------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        Fault.overloaded(retry_after=0.01),
        Fault.overloaded(),
        Fault.rate_limit(retry_after=0.01),
        Fault.server_error(500),
        Fault.server_error(503),
        Fault.gateway_timeout_html(),
        Fault.reset(),
    ],
    ids=["overloaded-retry-after", "overloaded", "rate-limit", "500", "503", "504-html", "reset"],
)
def test_retryable_faults_are_retried_once_each(kimi_emulator, fault):
    kimi_emulator.script(fault)
    result = _client(kimi_emulator).complete(_request())
    assert result.finish_reason == "stop"
    assert len(kimi_emulator.chat_requests) == 2  # the failed attempt and one retry, no more


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.overloaded(), kimi_core.EngineOverloadedError),
        (Fault.rate_limit(), kimi_core.RateLimitError),
        (Fault.server_error(500), kimi_core.ServerError),
        (Fault.gateway_timeout_html(), kimi_core.ServerError),
        (Fault.reset(), kimi_core.APIConnectionError),
    ],
)
def test_retries_stop_at_max_retries(kimi_emulator, fault, error):
    for _ in range(3):
        kimi_emulator.script(fault)
    with pytest.raises(error) as info:
        _client(kimi_emulator).complete(_request())
    assert info.value.retryable
    assert len(kimi_emulator.chat_requests) == 3  # 1 + max_retries (2)


def test_quota_exhausted_is_sent_exactly_once(kimi_emulator):
    kimi_emulator.script(Fault.quota())
    with pytest.raises(kimi_core.QuotaExhaustedError) as info:
        _client(kimi_emulator).complete(_request())
    assert not info.value.retryable
    assert info.value.status == 429
    assert info.value.error_type == "exceeded_current_quota_error"
    assert info.value.request_id
    assert len(kimi_emulator.chat_requests) == 1


def test_content_filter_and_auth_errors(kimi_emulator):
    kimi_emulator.script(Fault.content_filter())
    with pytest.raises(kimi_core.ContentFilterError):
        _client(kimi_emulator).complete(_request())
    bad = KimiClient(api_key="sk-wrong", base_url=kimi_emulator.base_url, retry_policy=FAST_RETRIES)
    with pytest.raises(kimi_core.AuthenticationError) as info:
        bad.complete(_request())
    assert info.value.status == 401
    assert "sk-wrong" not in str(info.value)


def test_retired_model_404_names_the_replacement(client):
    with pytest.raises(kimi_core.NotFoundError, match=r"retired on 2026-08-31; use 'kimi-k2.6'"):
        client.complete(_request(model="kimi-k2.5", thinking=False))


def test_server_side_validation_error_is_typed(client, kimi_emulator):
    # Bypass the builder's checks (extra_body may not set temperature) to see the server's 400.
    request = _request()
    request.body["temperature"] = 0.2
    with pytest.raises(kimi_core.InvalidRequestError, match="invalid temperature"):
        client.complete(request)
    assert len(kimi_emulator.chat_requests) == 1


def test_stream_broken_after_chunks_is_not_retried(kimi_emulator):
    kimi_emulator.script(Fault.disconnect_after(4))
    received: list[str] = []
    with pytest.raises((kimi_core.APIConnectionError, kimi_core.IncompleteStreamError)) as info:
        _drain(_client(kimi_emulator).stream(_request(stream=True)), received)
    assert not info.value.retryable
    assert received  # what arrived was delivered before the error
    assert len(kimi_emulator.chat_requests) == 1


def test_malformed_sse_line_is_a_typed_error(kimi_emulator):
    kimi_emulator.script(Fault.malformed_sse(after=2))
    received: list[str] = []
    with pytest.raises(kimi_core.MalformedResponseError, match="malformed SSE"):
        _drain(_client(kimi_emulator).stream(_request(stream=True)), received)
    assert len(kimi_emulator.chat_requests) == 1


def test_in_stream_error_event_is_typed(kimi_emulator):
    kimi_emulator.script(Fault.stream_error(after=2, message="boom"))
    with pytest.raises(kimi_core.ServerError, match="boom"):
        _drain(_client(kimi_emulator).stream(_request(stream=True)), [])


def test_slow_first_byte_times_out(kimi_emulator):
    kimi_emulator.script(Fault.delay_first_byte(3))
    client = _client(kimi_emulator, timeout=0.3, retry_policy=RetryPolicy(max_retries=0))
    with pytest.raises(kimi_core.APITimeoutError):
        client.complete(_request())


def _drain(stream: kimi_core.ChatStream, sink: list[str]) -> None:
    for delta in stream:
        sink.append(delta.text or "")


# -- credentials and secrets ---------------------------------------------------------------


def test_credentials_from_environment(monkeypatch):
    for var in ("MOONSHOT_API_KEY", "KIMI_API_KEY", "MOONSHOT_BASE_URL", "KIMI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://openai.invalid/v1")
    with pytest.raises(ValueError, match=r"MOONSHOT_API_KEY.*KIMI_API_KEY"):
        KimiClient()
    monkeypatch.setenv("KIMI_API_KEY", "sk-kimi")
    monkeypatch.setenv("KIMI_BASE_URL", "https://kimi.invalid/v1")
    client = KimiClient()
    assert client.base_url == "https://kimi.invalid/v1"
    assert client._key.value == "sk-kimi"
    monkeypatch.setenv("MOONSHOT_API_KEY", "sk-moonshot")
    monkeypatch.setenv("MOONSHOT_BASE_URL", "https://moonshot.invalid/v1/")
    client = KimiClient()
    assert (client._key.value, client.base_url) == ("sk-moonshot", "https://moonshot.invalid/v1")
    assert KimiClient(region="cn").base_url == "https://api.moonshot.cn/v1"
    monkeypatch.delenv("MOONSHOT_BASE_URL")
    monkeypatch.delenv("KIMI_BASE_URL")
    assert KimiClient().base_url == "https://api.moonshot.ai/v1"
    with pytest.raises(ValueError, match="region"):
        KimiClient(region="eu")


def test_openai_environment_is_never_sent(kimi_emulator, monkeypatch):
    monkeypatch.setenv("OPENAI_ORG_ID", "org-leak")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-leak")
    monkeypatch.setenv("OPENAI_CUSTOM_HEADERS", "X-Leak: yes")
    client = _client(kimi_emulator, default_headers={"X-Fresh-Pool": "1"})
    client.complete(_request())
    headers = {k.lower(): v for k, v in kimi_emulator.requests[-1].headers.items()}
    assert "openai-organization" not in headers
    assert "openai-project" not in headers
    assert "x-leak" not in headers
    assert headers["x-fresh-pool"] == "1"


def test_key_never_in_repr_or_errors(kimi_emulator):
    canary = "sk-canary-0123456789"
    client = KimiClient(api_key=canary, base_url=kimi_emulator.base_url, max_retries=0)
    assert canary not in repr(client)
    assert canary not in repr(vars(client))
    with pytest.raises(TypeError, match="not serialized"):
        pickle.dumps(client)
    with pytest.raises(kimi_core.AuthenticationError) as info:
        client.complete(_request())
    assert canary not in str(info.value)
    assert canary not in repr(info.value.body)


def test_retry_policy_backoff_and_retry_after():
    policy = RetryPolicy(max_retries=3, initial_delay=1.0, max_delay=4.0, max_retry_after=10)
    overloaded = kimi_core.EngineOverloadedError("busy", status=429)
    for attempt, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (5, 4.0)]:
        delay = policy.delay(overloaded, attempt)
        assert ceiling / 2 <= delay <= ceiling
    told = kimi_core.RateLimitError("wait", status=429, retry_after=3.0)
    assert policy.delay(told, 0) == 3.0
    assert policy.delay(kimi_core.RateLimitError("x", retry_after=99.0), 0) == 10
    assert policy.should_retry(overloaded, 2)
    assert not policy.should_retry(overloaded, 3)
    assert not policy.should_retry(kimi_core.QuotaExhaustedError("no money", status=429), 0)


def test_plain_http_to_a_remote_host_warns():
    with pytest.warns(UserWarning, match="travel unencrypted"):
        KimiClient(api_key="sk-x", base_url="http://kimi.example.com/v1")
    KimiClient(api_key="sk-x", base_url="http://127.0.0.1:9/v1")  # loopback: no warning
    KimiClient(api_key="sk-x", base_url="https://kimi.example.com/v1")


def test_redirect_to_another_host_is_not_followed(kimi_emulator, replay_server):
    from replay_http import Canned

    target = kimi_emulator.base_url.replace("127.0.0.1", "localhost") + "/chat/completions"
    replay_server.serve(Canned(status=307, headers={"location": target}))
    client = KimiClient(api_key=kimi_emulator.api_key, base_url=replay_server.base_url)
    with pytest.raises(kimi_core.RedirectError, match="localhost"):
        client.complete(_request())
    assert kimi_emulator.requests == []  # neither the body nor any header reached the other host


def test_logprobs_requested_and_returned(client, kimi_emulator):
    request = _request(model="kimi-k2.6", logprobs=True, top_logprobs=2)
    result = client.complete(request)
    assert kimi_emulator.chat_requests[-1]["logprobs"] is True
    assert kimi_emulator.chat_requests[-1]["top_logprobs"] == 2
    assert result.logprobs
    streamed = list(client.stream(_request(stream=True, logprobs=True)))[-1].result
    assert streamed is not None
    assert streamed.logprobs
    with pytest.raises(ValueError, match="needs logprobs=True"):
        _request(top_logprobs=2)


def test_key_never_in_log_records(kimi_emulator, caplog):
    import logging

    canary = "sk-canary-logs-0123456789"
    client = KimiClient(api_key=canary, base_url=kimi_emulator.base_url, max_retries=1)
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(kimi_core.AuthenticationError):
            client.complete(_request())
        ok = _client(kimi_emulator)
        kimi_emulator.script(Fault.overloaded(retry_after=0.01))
        list(ok.stream(_request(stream=True)))
    assert any("retrying in" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        assert canary not in record.getMessage()
        assert canary not in repr(record.args)


@pytest.mark.parametrize(
    "fault",
    [
        Fault.disconnect_after(0),
        Fault.reset(),
        Fault.overloaded(retry_after=0.01),
        Fault.stream_error(after=0, message="early"),
    ],
    ids=["disconnect-before-chunks", "reset", "overloaded", "error-event-first"],
)
def test_stream_failing_before_any_delta_is_retried(kimi_emulator, fault):
    kimi_emulator.script(fault)
    deltas = list(_client(kimi_emulator).stream(_request(stream=True)))
    assert deltas[-1].result is not None
    assert deltas[-1].result.finish_reason == "stop"
    assert len(kimi_emulator.chat_requests) == 2


async def test_async_stream_retries_and_never_after_delivery(kimi_emulator):
    client = _client(kimi_emulator)
    kimi_emulator.script(Fault.reset())
    texts = [d.text async for d in client.astream(_request(stream=True)) if d.text]
    assert texts
    assert len(kimi_emulator.chat_requests) == 2
    kimi_emulator.reset()
    kimi_emulator.script(Fault.disconnect_after(4))
    received: list[kimi_core.StreamDelta] = []
    with pytest.raises((kimi_core.APIConnectionError, kimi_core.IncompleteStreamError)) as info:
        await _adrain(client.astream(_request(stream=True)), received)
    assert received
    assert not info.value.retryable
    assert len(kimi_emulator.chat_requests) == 1


async def _adrain(stream: kimi_core.AsyncChatStream, sink: list) -> None:
    async for delta in stream:
        sink.append(delta)


def test_stream_quota_is_sent_once(kimi_emulator):
    kimi_emulator.script(Fault.quota())
    with pytest.raises(kimi_core.QuotaExhaustedError):
        list(_client(kimi_emulator).stream(_request(stream=True)))
    assert len(kimi_emulator.chat_requests) == 1


def test_timeout_none_means_default_and_must_be_positive():
    assert KimiClient(api_key="sk-x", timeout=None).timeout == kimi_core.DEFAULT_TIMEOUT
    with pytest.raises(ValueError, match="positive"):
        KimiClient(api_key="sk-x", timeout=0)


def test_max_elapsed_bounds_the_retries(kimi_emulator):
    for _ in range(3):
        kimi_emulator.script(Fault.overloaded(retry_after=30))
    policy = RetryPolicy(max_retries=5, max_elapsed=0.0)
    client = _client(kimi_emulator, retry_policy=policy)
    with pytest.raises(kimi_core.EngineOverloadedError):
        client.complete(_request())
    assert len(kimi_emulator.chat_requests) == 1  # the budget was spent: no retry started
    bounded = RetryPolicy(max_retries=5, max_elapsed=10.0)
    assert bounded.delay(kimi_core.EngineOverloadedError("x", retry_after=30), 0, 9.5) == 0.5
    assert not bounded.should_retry(kimi_core.EngineOverloadedError("x"), 0, 10.0)
