"""Endpoint profiles: the same requests and answers on the platform, vLLM, SGLang and other hosts.

Wire facts: kimi-api.md 13.7, ecosystem-2026-12.md section 5. The self-hosted answers come from the
emulator's ``vllm`` / ``sglang`` dialects, through the real HTTP stack.
"""

from __future__ import annotations

import warnings

import pytest
from core_helpers import FAST_RETRIES
from kimi_core import (
    ENDPOINTS,
    WEB_SEARCH,
    ChatSettings,
    EmptyAnswerError,
    EndpointAssumedWarning,
    FunctionTool,
    ImagePart,
    KimiClient,
    MediaPolicy,
    Message,
    TextPart,
    ToolCall,
    UnsupportedFeatureError,
    VideoPart,
    build_chat_request,
    check_thinking_and_sampling,
    get_endpoint,
)
from kimi_core import endpoints as endpoints_module
from kimi_emulator import Reply, ScriptedToolCall

WEATHER = FunctionTool(
    "get_weather",
    "Weather of a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}},
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _history() -> list[Message]:
    call = ToolCall(id="functions.get_weather:0", name="get_weather", arguments='{"city":"Oslo"}')
    return [
        Message.user("Weather in Oslo?"),
        Message.assistant(None, reasoning="I should look it up.", tool_calls=[call]),
        Message.tool("functions.get_weather:0", "7 degrees"),
    ]


def _client(emulator, endpoint: str | None) -> KimiClient:
    return KimiClient(
        api_key=emulator.api_key,
        base_url=emulator.base_url,
        retry_policy=FAST_RETRIES,
        endpoint=endpoint,
    )


# ---- profiles and detection ---------------------------------------------------------------------


def test_every_endpoint_is_named_and_unknown_names_list_them():
    assert set(ENDPOINTS) == {"moonshot", "vllm", "sglang", "openai-compatible"}
    assert get_endpoint(None) is ENDPOINTS["moonshot"]
    with pytest.raises(ValueError, match="'vllm'"):
        get_endpoint("vllm-0.17")
    with pytest.raises(ValueError, match="is not known"):
        check_thinking_and_sampling(ChatSettings(endpoint="ollama"))


def test_moonshot_hosts_are_detected_silently(monkeypatch):
    monkeypatch.setenv("MOONSHOT_API_KEY", "sk-test")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert KimiClient(base_url="https://api.moonshot.cn/v1").endpoint.id == "moonshot"
        assert KimiClient(region="global").endpoint.id == "moonshot"
        assert KimiClient(base_url="https://10.0.0.5:8000/v1", endpoint="vllm").endpoint.id == (
            "vllm"
        )


def test_another_host_without_endpoint_is_assumed_platform_and_said_once(monkeypatch):
    monkeypatch.setenv("MOONSHOT_API_KEY", "sk-test")
    monkeypatch.setattr(endpoints_module, "_warned", set())
    with pytest.warns(EndpointAssumedWarning, match="endpoint='vllm'"):
        client = KimiClient(base_url="https://gpu-box.internal/v1")
    assert client.endpoint.id == "moonshot"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KimiClient(base_url="https://gpu-box.internal/v2")  # once per host


def test_the_environment_names_the_endpoint_for_client_and_request(monkeypatch):
    monkeypatch.setenv("MOONSHOT_API_KEY", "sk-test")
    monkeypatch.setenv("MOONSHOT_ENDPOINT", "vllm")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # named, so nothing is assumed
        client = KimiClient(base_url="https://gpu-box.internal/v1")
    assert client.endpoint.id == "vllm"
    request = build_chat_request(_history(), ChatSettings(thinking=True), tools=[WEATHER])
    assert request.endpoint.id == "vllm"
    assistant = next(m for m in request.body["messages"] if m["role"] == "assistant")
    assert "reasoning" in assistant
    monkeypatch.setenv("MOONSHOT_ENDPOINT", "vlm")
    with pytest.raises(ValueError, match="endpoint='vlm' is not known"):
        KimiClient(base_url="https://gpu-box.internal/v1")


# ---- request building ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "field", "absent"),
    [
        ("moonshot", "reasoning_content", "reasoning"),
        ("vllm", "reasoning", "reasoning_content"),
        ("sglang", "reasoning_content", "reasoning"),
    ],
)
def test_reasoning_goes_back_in_the_field_the_server_reads(endpoint, field, absent):
    request = build_chat_request(
        _history(), ChatSettings(thinking=True, endpoint=endpoint), tools=[WEATHER]
    )
    assistant = request.body["messages"][1]
    assert assistant[field] == "I should look it up."
    assert absent not in assistant
    assert assistant["tool_calls"][0]["id"] == "functions.get_weather:0"  # verbatim


def test_thinking_is_switched_with_chat_template_kwargs_on_self_hosted_servers():
    for endpoint in ("vllm", "sglang"):
        body = build_chat_request(
            _history(), ChatSettings(thinking=True, preserve_thinking=True, endpoint=endpoint)
        ).body
        assert "thinking" not in body
        assert body["chat_template_kwargs"] == {"thinking": True, "preserve_thinking": True}
        off = build_chat_request(
            [Message.user("hi")], ChatSettings(thinking=False, endpoint=endpoint)
        )
        assert off.body["chat_template_kwargs"] == {"thinking": False}
        default = build_chat_request([Message.user("hi")], ChatSettings(endpoint=endpoint))
        assert "chat_template_kwargs" not in default.body  # the template's own default
    k3 = build_chat_request(
        [Message.user("hi")],
        ChatSettings(model="kimi-k3", reasoning_effort="high", endpoint="vllm"),
    ).body
    assert "reasoning_effort" not in k3
    assert "thinking" not in k3
    assert k3["chat_template_kwargs"]["thinking_effort"] == "high"
    assert k3["chat_template_kwargs"]["thinking"] is True


def test_the_platform_body_is_unchanged():
    body = build_chat_request(
        [Message.user("hi")], ChatSettings(thinking=True, preserve_thinking=True)
    ).body
    assert body["thinking"] == {"type": "enabled", "keep": "all"}
    assert "chat_template_kwargs" not in body


def test_a_generic_host_refuses_thinking_knobs_it_cannot_express():
    with pytest.raises(ValueError, match=r"no known thinking switch.*extra_body"):
        build_chat_request(
            [Message.user("hi")], ChatSettings(thinking=True, endpoint="openai-compatible")
        )
    with pytest.raises(ValueError, match="no known thinking switch"):
        check_thinking_and_sampling(
            ChatSettings(reasoning_effort="max", model="kimi-k3", endpoint="openai-compatible")
        )
    body = build_chat_request(
        [Message.user("hi")],
        ChatSettings(endpoint="openai-compatible", extra_body={"reasoning": {"enabled": True}}),
    ).body
    assert body["reasoning"] == {"enabled": True}
    assert "thinking" not in body


def test_fixed_sampling_is_only_enforced_where_the_server_enforces_it():
    strict = ChatSettings(thinking=True, temperature=0.2, sampling_policy="error")
    with pytest.raises(ValueError, match="only accepts temperature"):
        build_chat_request([Message.user("hi")], strict)
    # The platform's default policy leaves the value out (and says so); vLLM sends it as given.
    platform = build_chat_request(
        [Message.user("hi")], ChatSettings(thinking=True, temperature=0.2)
    )
    assert "temperature" not in platform.body
    assert platform.adjustments
    body = build_chat_request(
        [Message.user("hi")], ChatSettings(thinking=True, temperature=0.2, endpoint="vllm")
    ).body
    assert body["temperature"] == 0.2


# ---- missing features fail before anything is sent ---------------------------------------------


@pytest.mark.parametrize("endpoint", ["vllm", "sglang", "openai-compatible"])
def test_web_search_names_the_endpoint_and_the_alternative(endpoint):
    with pytest.raises(UnsupportedFeatureError) as caught:
        build_chat_request(
            [Message.user("news?")],
            ChatSettings(thinking=False, endpoint=endpoint),
            tools=[WEB_SEARCH],
        )
    message = str(caught.value)
    assert f"endpoint={endpoint!r}" in message
    assert "$web_search" in message
    assert "Web Search API" in message
    assert caught.value.feature == "web_search"
    assert isinstance(caught.value, ValueError)


def test_video_and_ms_files_are_refused_on_open_weights():
    video = Message.user(
        [TextPart("what happens?"), VideoPart(data=b"\x00" * 64, mime_type="video/mp4")]
    )
    with pytest.raises(UnsupportedFeatureError, match="video input is not available on the vLLM"):
        build_chat_request([video], ChatSettings(endpoint="vllm"))
    with pytest.raises(UnsupportedFeatureError, match="not supported by open-weight Kimi"):
        build_chat_request([video], ChatSettings(endpoint="sglang"))
    ms = Message.user([TextPart("describe"), ImagePart(url="ms://file-abc")])
    with pytest.raises(UnsupportedFeatureError, match=r"Files API.*inline"):
        build_chat_request([ms], ChatSettings(endpoint="vllm"))
    image = Message.user([TextPart("describe"), ImagePart(data=PNG, mime_type="image/png")])
    with pytest.raises(UnsupportedFeatureError, match="Files API"):
        build_chat_request([image], ChatSettings(endpoint="vllm", media=MediaPolicy(upload_over=1)))
    inline = build_chat_request([image], ChatSettings(endpoint="vllm"))
    assert inline.body["messages"][0]["content"][1]["image_url"]["url"].startswith("data:image/png")


def test_client_side_platform_services_fail_before_a_request(kimi_emulator):
    client = _client(kimi_emulator, "vllm")
    request = build_chat_request([Message.user("hi")], ChatSettings(endpoint="vllm"))
    with pytest.raises(UnsupportedFeatureError, match=r"token-estimate endpoint.*tokenizer"):
        client.estimate_tokens(request)
    with pytest.raises(UnsupportedFeatureError, match="Files API"):
        _ = client.files
    with pytest.raises(UnsupportedFeatureError, match="Formula"):
        _ = client.formulas
    assert kimi_emulator.requests == []


def test_a_request_built_for_another_endpoint_is_refused(kimi_emulator):
    client = _client(kimi_emulator, "vllm")
    request = build_chat_request([Message.user("hi")], ChatSettings())
    with pytest.raises(
        ValueError, match="endpoint='moonshot' but this client talks to endpoint='vllm'"
    ):
        client.complete(request)


# ---- answers from the self-hosted dialects -------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["vllm", "sglang"])
def test_self_hosted_answers_are_read_from_their_fields(kimi_emulator_dialect, endpoint):
    emulator = kimi_emulator_dialect(endpoint)
    client = _client(emulator, endpoint)
    emulator.script(
        Reply(
            reasoning="Need the weather.",
            tool_calls=[ScriptedToolCall("get_weather", {"city": "Oslo"})],
        )
    )
    settings = ChatSettings(thinking=True, endpoint=endpoint)
    first = client.complete(build_chat_request([Message.user("Oslo?")], settings, tools=[WEATHER]))
    assert first.reasoning == "Need the weather."
    assert first.tool_calls[0].id == "functions.get_weather:0"
    assert first.usage is not None
    assert first.usage.input_tokens > 0
    assert first.usage.cached_tokens == 0  # not reported without the server's cache flag
    raw = first.raw or {}
    field = "reasoning" if endpoint == "vllm" else "reasoning_content"
    assert raw["choices"][0]["message"][field] == "Need the weather."
    assert "usage" not in raw["choices"][0]

    history = [
        Message.user("Oslo?"),
        first.to_message(),
        Message.tool(first.tool_calls[0].id, "7C"),
    ]
    emulator.script(Reply(content="It is 7C.", reasoning="Answer now.", chunk_size=2))
    stream = client.stream(build_chat_request(history, settings, tools=[WEATHER]))
    kinds = [("r" if d.reasoning else "t") for d in stream if d.reasoning or d.text]
    assert kinds.index("t") > kinds.index("r")
    assert "r" not in kinds[kinds.index("t") :]
    assert stream.result is not None
    assert stream.result.text == "It is 7C."
    assert stream.result.reasoning == "Answer now."
    assert stream.result.usage is not None
    assert stream.result.usage.output_tokens > 0

    sent = emulator.chat_requests[-1]
    assert sent["chat_template_kwargs"] == {"thinking": True}
    assert "thinking" not in sent
    assert sent["messages"][1][field] == "Need the weather."
    assert sent["messages"][1]["tool_calls"][0]["id"] == "functions.get_weather:0"
    assert sent["messages"][2]["tool_call_id"] == "functions.get_weather:0"


def test_vllm_dialect_ignores_reasoning_content_and_has_no_platform_routes(kimi_emulator_dialect):
    emulator = kimi_emulator_dialect("vllm")
    client = _client(emulator, "moonshot")  # a client that gets the endpoint wrong
    response = client.request_json(
        "POST",
        "/chat/completions",
        body={"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}]},
    )
    message = response["choices"][0]["message"]
    assert "reasoning" in message
    assert "reasoning_content" not in message
    from kimi_core import NotFoundError

    with pytest.raises(NotFoundError):
        client.request_json(
            "POST", "/tokenizers/estimate-token-count", body={"model": "kimi-k2.6", "messages": []}
        )
    with pytest.raises(NotFoundError):
        client.request_json("GET", "/files")


# ---- reasoning without an answer ----------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_reasoning_without_an_answer_is_a_typed_retryable_error(kimi_emulator_dialect, stream):
    emulator = kimi_emulator_dialect("vllm")
    client = _client(emulator, "vllm")
    emulator.script(Reply(content="", reasoning="I will now answer."))
    request = build_chat_request(
        _history(), ChatSettings(thinking=True, endpoint="vllm"), tools=[WEATHER]
    )
    send = (lambda: list(client.stream(request))) if stream else (lambda: client.complete(request))
    with pytest.raises(EmptyAnswerError, match="Kimi-K2#128") as caught:
        send()
    assert caught.value.retryable
    assert caught.value.result.reasoning == "I will now answer."


def test_the_platform_returns_such_an_answer_as_it_is(kimi_emulator):
    client = _client(kimi_emulator, "moonshot")
    kimi_emulator.script(Reply(content="", reasoning="Thinking only."))
    result = client.complete(build_chat_request([Message.user("hi")], ChatSettings(thinking=True)))
    assert result.text == ""
    assert result.reasoning == "Thinking only."


def test_k3_effort_reaches_a_self_hosted_server_as_thinking_effort(kimi_emulator_dialect):
    emulator = kimi_emulator_dialect("sglang")
    client = _client(emulator, "sglang")
    settings = ChatSettings(model="kimi-k3", reasoning_effort="low", endpoint="sglang")
    result = client.complete(build_chat_request([Message.user("What is 2 + 2?")], settings))
    assert result.text == "4"
    assert result.reasoning
    sent = emulator.chat_requests[-1]
    # K3 keeps earlier reasoning on the platform by default; the template needs it said.
    assert sent["chat_template_kwargs"] == {
        "thinking": True,
        "preserve_thinking": True,
        "thinking_effort": "low",
    }
    assert "thinking" not in sent
    assert "reasoning_effort" not in sent


def test_partial_mode_is_refused_with_the_servers_own_way():
    history = [Message.user("Write a haiku."), Message.assistant("Soft", partial=True)]
    with pytest.raises(UnsupportedFeatureError, match="continue_final_message"):
        build_chat_request(history, ChatSettings(endpoint="vllm"))
    prefix = [Message.user("Write a haiku."), Message.assistant("Soft")]
    extra = {"continue_final_message": True, "add_generation_prompt": False}
    body = build_chat_request(prefix, ChatSettings(endpoint="vllm", extra_body=extra)).body
    assert body["messages"][-1] == {"role": "assistant", "content": "Soft"}
    assert body["continue_final_message"] is True


def test_a_served_model_name_the_profiles_do_not_know_still_gets_its_switches():
    # vLLM serves under the Hugging Face name unless --served-model-name says otherwise.
    effort = ChatSettings(model="moonshotai/Kimi-K3", reasoning_effort="high", endpoint="vllm")
    body = build_chat_request([Message.user("hi")], effort).body
    assert body["chat_template_kwargs"] == {"thinking": True, "thinking_effort": "high"}
    off = ChatSettings(model="moonshotai/Kimi-K2.6", thinking=False, endpoint="vllm")
    body = build_chat_request([Message.user("hi")], off).body
    assert body["chat_template_kwargs"] == {"thinking": False}
