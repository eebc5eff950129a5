"""The vLLM and SGLang dialects on the wire (kimi-api.md 13.7, ecosystem-2026-12.md section 5)."""

from __future__ import annotations

import pytest
from kimi_emulator import Reply, ScriptedToolCall

USER = [{"role": "user", "content": "What is 2 + 2?"}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather of a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
FIELD = {"vllm": "reasoning", "sglang": "reasoning_content"}


@pytest.fixture(params=["vllm", "sglang"])
def served(request, kimi_emulator_dialect, raw_for):
    emulator = kimi_emulator_dialect(request.param)
    return request.param, emulator, raw_for(emulator)


def test_answers_carry_reasoning_in_the_servers_field_and_usage_at_top_level(served):
    name, emulator, raw = served
    emulator.script(
        Reply(
            reasoning="Look it up.",
            tool_calls=[ScriptedToolCall("get_weather", {"city": "Oslo"})] * 2,
        )
    )
    body = raw.chat({"model": "kimi-k2.6", "messages": USER, "tools": [WEATHER]}).json()
    choice = body["choices"][0]
    message = choice["message"]
    assert message[FIELD[name]] == "Look it up."
    assert {"reasoning", "reasoning_content"} & set(message) == {FIELD[name]}
    assert [c["id"] for c in message["tool_calls"]] == [
        "functions.get_weather:0",
        "functions.get_weather:1",
    ]
    assert "usage" not in choice
    assert body["usage"]["prompt_tokens"] > 0
    assert "cached_tokens" not in body["usage"]
    assert "prompt_tokens_details" not in body["usage"]


def test_streams_send_usage_only_in_the_include_usage_chunk(served):
    name, emulator, raw = served
    emulator.script(Reply(reasoning="Think.", content="Four.", chunk_size=2))
    events = raw.chat(
        {
            "model": "kimi-k2.6",
            "messages": USER,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    ).events()
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    with_usage = [c for c in chunks if c.get("usage")]
    assert len(with_usage) == 1
    assert with_usage[0]["choices"] == []
    assert all("usage" not in c["choices"][0] for c in chunks if c["choices"])
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert "".join(d.get(FIELD[name], "") for d in deltas) == "Think."
    assert all("reasoning_content" not in d for d in deltas) or name == "sglang"
    assert "".join(d.get("content") or "" for d in deltas) == "Four."
    no_usage = raw.chat({"model": "kimi-k2.6", "messages": USER, "stream": True}).events()
    assert not any(c.get("usage") for c in no_usage[:-1])


def test_thinking_follows_chat_template_kwargs_and_ignores_the_kimi_object(served):
    name, _, raw = served
    off = raw.chat(
        {"model": "kimi-k2.6", "messages": USER, "chat_template_kwargs": {"thinking": False}}
    ).json()["choices"][0]["message"]
    assert not off.get(FIELD[name])
    kimi_off = raw.chat(
        {"model": "kimi-k2.6", "messages": USER, "thinking": {"type": "disabled"}}
    ).json()["choices"][0]["message"]
    assert kimi_off[FIELD[name]]  # the template's default (thinking) still applies


def test_vllm_reads_reasoning_back_only_from_reasoning(kimi_emulator_dialect, raw_for):
    emulator = kimi_emulator_dialect("vllm")
    raw = raw_for(emulator)
    history = [
        *USER,
        {
            "role": "assistant",
            "reasoning_content": "dropped by vLLM",
            "tool_calls": [
                {
                    "id": "functions.get_weather:0",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "functions.get_weather:0", "content": "7 C"},
    ]
    # The platform answers 400 without reasoning on a thinking tool-call turn; vLLM never does.
    response = raw.chat({"model": "kimi-k2.6", "messages": history, "tools": [WEATHER]})
    assert response.status == 200


@pytest.mark.parametrize(
    ("extra", "wording"),
    [
        ({"tools": [{"type": "builtin_function", "function": {"name": "$web_search"}}]}, "tools"),
        ({"temperature": -0.5}, "temperature must be at least 0"),
        ({"top_p": 1.5}, "top_p must be in"),
    ],
)
def test_what_the_servers_refuse_is_a_400(served, extra, wording):
    _, _, raw = served
    response = raw.chat({"model": "kimi-k2.6", "messages": USER, **extra})
    assert response.status == 400
    assert wording in response.json()["error"]["message"]


def test_values_the_platform_fixes_are_served_as_sent(served):
    _, _, raw = served
    response = raw.chat({"model": "kimi-k2.6", "messages": USER, "temperature": 0.2, "top_p": 0.5})
    assert response.status == 200


@pytest.mark.parametrize("kind", ["video_url", "image_url"])
def test_video_and_ms_urls_are_refused(served, kind):
    _, _, raw = served
    url = "data:video/mp4;base64,AAAA" if kind == "video_url" else "ms://file-1"
    content = [{"type": "text", "text": "look"}, {"type": kind, kind: {"url": url}}]
    response = raw.chat({"model": "kimi-k2.6", "messages": [{"role": "user", "content": content}]})
    assert response.status == 400


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/files"),
        ("POST", "/v1/tokenizers/estimate-token-count"),
        ("GET", "/v1/users/me/balance"),
        ("GET", "/v1/formulas/moonshot/fetch/tools"),
    ],
)
def test_platform_routes_are_not_found(served, method, path):
    _, _, raw = served
    assert raw.request(method, path, {} if method == "POST" else None).status == 404
    assert raw.request("GET", "/v1/models").status == 200
