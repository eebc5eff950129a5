"""Request bodies as the emulator recorded them: every Kimi wire rule, asserted on what was SENT."""

from __future__ import annotations

import base64

import pytest
from kimi_core import (
    REASONING_PLACEHOLDER,
    WEB_SEARCH,
    ChatSettings,
    FunctionTool,
    ImagePart,
    KimiClient,
    Message,
    TextPart,
    ToolCall,
    VideoPart,
    build_chat_request,
)

# A 1x1 PNG: real bytes, so a server that sniffs images accepts it.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
WEATHER = FunctionTool(
    "get_weather",
    "Weather for a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def _tool_history(reasoning: str | None) -> list[Message]:
    call = ToolCall("get_weather_0", "get_weather", '{"city": "Paris"}')
    return [
        Message.user("Weather in Paris?"),
        Message.assistant("", reasoning=reasoning, tool_calls=[call]),
        Message.tool("get_weather_0", "sunny, 21C"),
    ]


def _send(client: KimiClient, emu, messages, settings, **kwargs) -> dict:
    request = build_chat_request(messages, settings, **kwargs)
    client.complete(request)
    assert emu.chat_requests[-1] == request.body
    return emu.chat_requests[-1]


def test_plain_request_sends_only_what_was_set(client, kimi_emulator):
    body = _send(client, kimi_emulator, [Message.user("hi")], ChatSettings(model="kimi-k2.6"))
    assert body == {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}]}


def test_tool_turn_with_thinking_gets_reasoning_back(client, kimi_emulator):
    body = _send(
        client, kimi_emulator, _tool_history("I should call it."), ChatSettings(), tools=[WEATHER]
    )
    assistant = body["messages"][1]
    assert assistant == {
        "role": "assistant",
        "reasoning_content": "I should call it.",
        "tool_calls": [
            {
                "id": "get_weather_0",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    }  # content omitted: its text was empty


@pytest.mark.parametrize("missing", [None, ""])
def test_missing_reasoning_gets_the_placeholder(client, kimi_emulator, missing):
    body = _send(client, kimi_emulator, _tool_history(missing), ChatSettings(), tools=[WEATHER])
    assert body["messages"][1]["reasoning_content"] == REASONING_PLACEHOLDER
    assert REASONING_PLACEHOLDER.strip()


def test_thinking_off_sends_no_reasoning(client, kimi_emulator):
    body = _send(
        client,
        kimi_emulator,
        _tool_history("old thoughts"),
        ChatSettings(thinking=False),
        tools=[WEATHER],
    )
    assert body["thinking"] == {"type": "disabled"}
    assert "reasoning_content" not in body["messages"][1]


def test_preserved_thinking_sends_reasoning_on_every_assistant_turn(client, kimi_emulator):
    history = [
        Message.user("Hi"),
        Message.assistant("Hello!", reasoning="greet back"),
        Message.user("And now?"),
        Message.assistant("Still here."),  # written by hand: no reasoning
        Message.user("Bye"),
    ]
    body = _send(client, kimi_emulator, history, ChatSettings(preserve_thinking=True))
    assert body["thinking"] == {"type": "enabled", "keep": "all"}
    assert body["messages"][1]["reasoning_content"] == "greet back"
    assert body["messages"][3]["reasoning_content"] == REASONING_PLACEHOLDER


def test_default_keep_sends_no_reasoning_on_plain_turns(client, kimi_emulator):
    history = [Message.user("Hi"), Message.assistant("Hello!", reasoning="r"), Message.user("Bye")]
    body = _send(client, kimi_emulator, history, ChatSettings())
    assert "reasoning_content" not in body["messages"][1]
    assert "thinking" not in body


@pytest.mark.parametrize("model", ["kimi-k2.7-code", "kimi-k2.7-code-highspeed", "kimi-k3"])
def test_always_preserving_models(client, kimi_emulator, model):
    history = [Message.user("Hi"), Message.assistant("Hello!"), Message.user("Bye")]
    body = _send(client, kimi_emulator, history, ChatSettings(model=model))
    assert "thinking" not in body
    assert body["messages"][1]["reasoning_content"] == REASONING_PLACEHOLDER


def test_k3_reasoning_effort_on_the_wire(client, kimi_emulator):
    body = _send(
        client, kimi_emulator, [Message.user("hi")], ChatSettings("kimi-k3", reasoning_effort="low")
    )
    assert body["reasoning_effort"] == "low"
    assert "thinking" not in body


def test_fixed_sampling_value_is_sent_when_set(client, kimi_emulator):
    settings = ChatSettings(thinking=False, temperature=0.6, top_p=0.95, max_tokens=64)
    body = _send(client, kimi_emulator, [Message.user("hi")], settings)
    assert (body["temperature"], body["top_p"], body["max_completion_tokens"]) == (0.6, 0.95, 64)


def test_invalid_sampling_never_reaches_the_server(client, kimi_emulator):
    with pytest.raises(ValueError, match="temperature=1"):
        build_chat_request(
            [Message.user("hi")],
            ChatSettings(model="kimi-k3", temperature=0.5, sampling_policy="error"),
        )
    assert kimi_emulator.chat_requests == []


def test_builtin_call_in_history_is_echoed(client, kimi_emulator):
    search = ToolCall(
        "t-web_search-1",
        "$web_search",
        '{"search_result":{"search_id":"s1"},"usage":{"total_tokens":10}}',
        type="builtin_function",
    )
    history = [
        Message.user("news?"),
        Message.assistant(None, tool_calls=[search], reasoning="search"),
        Message.tool("t-web_search-1", search.arguments),  # given without name: name is filled
    ]
    body = _send(client, kimi_emulator, history, ChatSettings(thinking=False), tools=[WEB_SEARCH])
    assert body["messages"][1]["tool_calls"][0]["type"] == "builtin_function"
    assert body["messages"][2] == {
        "role": "tool",
        "tool_call_id": "t-web_search-1",
        "name": "$web_search",
        "content": search.arguments,
    }
    assert body["tools"] == [{"type": "builtin_function", "function": {"name": "$web_search"}}]
    # Without the echo in the history, kimi-core inserts it (the result is the arguments).
    body = _send(
        client, kimi_emulator, history[:2], ChatSettings(thinking=False), tools=[WEB_SEARCH]
    )
    assert body["messages"][2]["content"] == search.arguments


# -- tool_choice ---------------------------------------------------------------------------


def test_required_with_thinking_on_k26_is_downgraded(client, kimi_emulator):
    request = build_chat_request(
        [Message.user("weather?")], ChatSettings(), tools=[WEATHER], tool_choice="required"
    )
    assert request.body["tool_choice"] == "auto"
    assert "rejects tool_choice='required' with thinking on" in request.adjustments[0]
    client.complete(request)
    assert kimi_emulator.chat_requests[-1]["tool_choice"] == "auto"


def test_required_with_policy_error_raises(client, kimi_emulator):
    with pytest.raises(ValueError, match="thinking=False"):
        build_chat_request(
            [Message.user("w?")],
            ChatSettings(tool_choice_policy="error"),
            tools=[WEATHER],
            tool_choice="required",
        )


@pytest.mark.parametrize(
    ("settings", "choice", "sent"),
    [
        (ChatSettings(thinking=False), "required", "required"),
        (
            ChatSettings(thinking=False),
            "get_weather",
            {"type": "function", "function": {"name": "get_weather"}},
        ),
        (ChatSettings(model="kimi-k3"), "required", "required"),
        (ChatSettings(model="kimi-k3"), "get_weather", "auto"),
        (ChatSettings(model="kimi-k2.7-code"), "any", "auto"),
        (ChatSettings(), "none", "none"),
    ],
)
def test_tool_choice_mapping_accepted(client, kimi_emulator, settings, choice, sent):
    body = _send(
        client, kimi_emulator, [Message.user("w?")], settings, tools=[WEATHER], tool_choice=choice
    )
    assert body["tool_choice"] == sent


def test_tool_choice_errors():
    with pytest.raises(ValueError, match=r"'nope' is not valid: use 'auto', 'none'"):
        build_chat_request(
            [Message.user("x")], ChatSettings(thinking=False), tools=[WEATHER], tool_choice="nope"
        )
    with pytest.raises(ValueError, match="needs at least one function tool"):
        build_chat_request([Message.user("x")], ChatSettings(), tool_choice="required")


# -- schemas and tools ---------------------------------------------------------------------


def test_tool_schema_normalized_and_accepted(client, kimi_emulator):
    loose = FunctionTool(
        "lookup",
        "Look something up",
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Lookup",
            "properties": {
                "kind": {"enum": ["a", "b"]},
                "limit": {"type": "integer", "minimum": 1},
                "point": {"$ref": "#/$defs/Point"},
                "tags": {"type": ["array", "null"], "items": {"type": "string"}},
            },
            "$defs": {"Point": {"properties": {"x": {"type": "number"}}}},
        },
    )
    body = _send(client, kimi_emulator, [Message.user("x")], ChatSettings(), tools=[loose])
    params = body["tools"][0]["function"]["parameters"]
    assert params["type"] == "object"
    assert "$schema" not in params
    assert "title" not in params
    props = params["properties"]
    assert props["kind"] == {"enum": ["a", "b"], "type": "string"}
    assert props["limit"] == {"type": "integer", "description": "(minimum: 1)"}
    assert props["point"] == {"type": "object", "properties": {"x": {"type": "number"}}}
    assert props["tags"] == {
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]
    }


def test_json_schema_response_format_normalized_and_accepted(client, kimi_emulator):
    fmt = {
        "type": "json_schema",
        "json_schema": {
            "name": "tuple_response",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {
                    "pair": {"type": "array", "items": [{"type": "string"}, {"type": "integer"}]}
                },
                "required": ["pair"],
            },
        },
    }
    body = _send(
        client, kimi_emulator, [Message.user("pair")], ChatSettings("kimi-k3"), response_format=fmt
    )
    pair = body["response_format"]["json_schema"]["schema"]["properties"]["pair"]
    assert pair == {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]}


@pytest.mark.parametrize(
    ("tools", "message"),
    [
        ([FunctionTool("1bad")], "invalid function name"),
        ([FunctionTool("has space")], "invalid function name"),
        ([FunctionTool("dup"), FunctionTool("dup")], "duplicated"),
        ([FunctionTool("f", parameters={"type": "string"})], "type 'object' at the root"),
        ([FunctionTool("f", parameters={"$ref": "http://x/schema"})], "only local"),
    ],
)
def test_bad_tools_rejected_before_sending(tools, message):
    with pytest.raises(ValueError, match=message):
        build_chat_request([Message.user("x")], ChatSettings(), tools=tools)


def test_openai_style_tool_dicts_accepted(client, kimi_emulator):
    tool = {"type": "function", "function": {"name": "ping", "parameters": {"type": "object"}}}
    body = _send(client, kimi_emulator, [Message.user("x")], ChatSettings(), tools=[tool])
    assert body["tools"][0]["function"] == {
        "name": "ping",
        "parameters": {"type": "object", "properties": {}},
    }


# -- media ---------------------------------------------------------------------------------


def test_media_forms_on_the_wire(client, kimi_emulator):
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    message = Message.user(
        [
            TextPart("What is in these?"),
            ImagePart(data=PNG, mime_type="image/png"),
            ImagePart(url=data_url),
            VideoPart(file_id="file_abc"),
        ]
    )
    request = build_chat_request([message], ChatSettings())
    parts = request.body["messages"][0]["content"]
    assert parts[0] == {"type": "text", "text": "What is in these?"}
    assert parts[1] == {"type": "image_url", "image_url": {"url": data_url}}
    assert parts[2] == parts[1]
    assert parts[3] == {"type": "video_url", "video_url": {"url": "ms://file_abc"}}


@pytest.mark.parametrize(
    ("model", "part", "message"),
    [
        ("kimi-k2.6", ImagePart(data=b"<svg/>", mime_type="image/svg+xml"), "SVG"),
        ("kimi-k2.6", ImagePart(data=b"x", mime_type="image/tiff"), "unsupported image type"),
        ("kimi-k2.6", ImagePart(data=b"x"), "needs a mime_type"),
        ("kimi-k2.6", ImagePart(), "exactly one of"),
        ("kimi-k2.6", ImagePart(url="ftp://x/y.png"), "unsupported image URL scheme"),
        ("moonshot-v1-8k-vision-preview", VideoPart(file_id="f"), "does not accept video"),
        ("kimi-k2-0905-preview", ImagePart(file_id="f"), "does not accept image"),
    ],
)
def test_media_rejected_before_sending(model, part, message):
    with pytest.raises(ValueError, match=message):
        build_chat_request([Message.user([part])], ChatSettings(model=model))


def test_http_media_with_download_disabled_is_refused():
    from kimi_core import MediaPolicy

    with pytest.raises(ValueError, match="rejects public URLs"):
        build_chat_request(
            [Message.user([ImagePart(url="https://example.com/cat.png")])],
            ChatSettings(media=MediaPolicy(download=False)),
        )


def test_http_media_is_downloaded_and_inlined(client, kimi_emulator, replay_server):
    from kimi_core import MediaPolicy
    from replay_http import Canned

    replay_server.serve(Canned(body=PNG, content_type="image/png"))
    url = replay_server.base_url.replace("/v1", "/cat.png")
    # Loopback is refused by default; a test server is a host the app trusts.
    settings = ChatSettings(media=MediaPolicy(allowed_hosts={"127.0.0.1"}))
    request = build_chat_request([Message.user([ImagePart(url=url)])], settings)
    assert request.remote_media
    client.complete(request)
    sent = kimi_emulator.chat_requests[-1]["messages"][0]["content"][0]["image_url"]["url"]
    assert sent == "data:image/png;base64," + base64.b64encode(PNG).decode()


def test_http_media_over_the_cap_is_refused(client, kimi_emulator, replay_server):
    from kimi_core import MediaPolicy
    from replay_http import Canned

    replay_server.serve(Canned(body=PNG * 10, content_type="image/png"))
    url = replay_server.base_url.replace("/v1", "/big.png")
    settings = ChatSettings(media=MediaPolicy(max_bytes=50, allowed_hosts={"127.0.0.1"}))
    request = build_chat_request([Message.user([ImagePart(url=url)])], settings)
    with pytest.raises(ValueError, match="download cap"):
        client.complete(request)
    assert kimi_emulator.chat_requests == []


def test_failed_download_is_a_clear_error(client, replay_server):
    from kimi_core import MediaPolicy
    from replay_http import Canned

    replay_server.serve(Canned(status=404, body=b"nope", content_type="text/plain"))
    url = replay_server.base_url.replace("/v1", "/missing.png")
    settings = ChatSettings(media=MediaPolicy(allowed_hosts={"127.0.0.1"}))
    request = build_chat_request([Message.user([ImagePart(url=url)])], settings)
    with pytest.raises(ValueError, match="could not download media"):
        client.complete(request)


# -- history shape -------------------------------------------------------------------------


def test_partial_mode(client, kimi_emulator):
    history = [Message.user("Write a haiku"), Message.assistant("Autumn", partial=True)]
    body = _send(client, kimi_emulator, history, ChatSettings(model="kimi-k3"))
    # No placeholder on the prefix: its reasoning would be continued, not read as history.
    assert body["messages"][-1] == {"role": "assistant", "content": "Autumn", "partial": True}
    history[-1] = Message.assistant("Autumn", reasoning="A haiku about", partial=True)
    body = _send(client, kimi_emulator, history, ChatSettings(model="kimi-k3"))
    assert body["messages"][-1]["reasoning_content"] == "A haiku about"


@pytest.mark.parametrize(
    ("messages", "error", "message"),
    [
        ([], ValueError, "messages is empty"),
        ([Message.assistant("x", partial=True), Message.user("y")], ValueError, "last message"),
        ([Message.user("x"), Message.assistant("  ")], ValueError, "assistant message is empty"),
        ([Message.user("x"), Message.tool("c1", "r")], ValueError, "no earlier assistant"),
        ([Message.user(None)], TypeError, "needs content"),  # type: ignore[arg-type]
        ([Message.user([])], ValueError, "empty list"),
        ([Message("robot", "x")], ValueError, "unknown role"),  # type: ignore[arg-type]
        ([Message.system([ImagePart(file_id="f")])], ValueError, "only text parts"),
        (["hello"], TypeError, "expected Message"),
    ],
)
def test_bad_histories_raise_clear_errors(messages, error, message):
    with pytest.raises(error, match=message):
        build_chat_request(messages, ChatSettings())


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (ChatSettings(stop=["a"] * 6), "at most 5"),
        (ChatSettings(stop="x" * 33), "longer than 32 bytes"),
        (ChatSettings(max_tokens=0), "at least 1"),
        (ChatSettings(model="moonshot-v1-8k", max_tokens=10_000), "exceeds moonshot-v1-8k"),
    ],
)
def test_bad_settings_raise_clear_errors(settings, message):
    with pytest.raises(ValueError, match=message):
        build_chat_request([Message.user("x")], settings)


def test_partial_with_json_mode_rejected():
    with pytest.raises(ValueError, match="partial mode"):
        build_chat_request(
            [Message.user("x"), Message.assistant("{", partial=True)],
            ChatSettings(),
            response_format={"type": "json_object"},
        )


def test_web_search_with_thinking_on_retired_k25_rejected():
    with pytest.raises(ValueError, match="thinking=False"):
        build_chat_request([Message.user("x")], ChatSettings("kimi-k2.5"), tools=[WEB_SEARCH])


def test_extra_body_and_cache_key_pass_through(client, kimi_emulator):
    settings = ChatSettings(prompt_cache_key="session-1", extra_body={"top_k": 20})
    body = _send(client, kimi_emulator, [Message.user("x")], settings)
    assert body["prompt_cache_key"] == "session-1"
    assert body["top_k"] == 20


def test_inline_media_over_the_request_limit_is_refused(monkeypatch):
    import kimi_core.media

    monkeypatch.setattr(kimi_core.media, "MAX_INLINE_BYTES", 10)
    with pytest.raises(ValueError, match="Files API"):
        build_chat_request(
            [Message.user([ImagePart(data=PNG, mime_type="image/png")])], ChatSettings()
        )


def test_k3_dynamic_tools_on_a_system_message(client, kimi_emulator):
    history = [
        Message.user("hi"),
        Message.assistant("Hello."),
        Message.system_tools([WEATHER]),
        Message.user("Weather in Paris?"),
    ]
    body = _send(client, kimi_emulator, history, ChatSettings("kimi-k3"), tool_choice="required")
    assert body["messages"][2] == {
        "role": "system",
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "parameters": WEATHER.parameters,
                    "description": "Weather for a city",
                },
            }
        ],
    }
    assert body["tool_choice"] == "required"


@pytest.mark.parametrize(
    ("model", "messages", "tools", "message"),
    [
        (
            "kimi-k2.6",
            [Message.system_tools([WEATHER]), Message.user("x")],
            None,
            "does not support",
        ),
        (
            "kimi-k3",
            [Message("system", "text", tools=[WEATHER]), Message.user("x")],
            None,
            "carries no content",
        ),
        ("kimi-k3", [Message("user", "x", tools=[WEATHER])], None, "only system messages"),
        ("kimi-k3", [Message.system_tools([WEATHER]), Message.user("x")], [WEATHER], "duplicated"),
    ],
)
def test_dynamic_tools_misuse(model, messages, tools, message):
    with pytest.raises(ValueError, match=message):
        build_chat_request(messages, ChatSettings(model), tools=tools)


@pytest.mark.parametrize(
    "history",
    [
        [Message.user("a\ud800b")],
        [Message.user([TextPart("ok"), TextPart("\udc00")])],
        [Message.user("x"), Message.assistant("fine", reasoning="\ud800")],
        [Message.user("x"), Message.assistant(None, tool_calls=[ToolCall("c", "f", '"\ud800"')])],
    ],
)
def test_lone_surrogates_are_refused_before_sending(history):
    with pytest.raises(ValueError, match="lone surrogate"):
        build_chat_request(history, ChatSettings(thinking=False))


def test_large_inline_media_is_uploaded_once_and_referenced(client, kimi_emulator):
    from kimi_core import MediaPolicy

    settings = ChatSettings(media=MediaPolicy(upload_over=len(PNG) - 1))
    history = [Message.user([ImagePart(data=PNG, mime_type="image/png"), TextPart("and?")])]
    for _ in range(2):
        request = build_chat_request(history, settings)
        assert request.remote_media
        client.complete(request)
        sent = kimi_emulator.chat_requests[-1]["messages"][0]["content"][0]["image_url"]["url"]
        assert sent.startswith("ms://")
    uploads = [r for r in kimi_emulator.requests if r.path == "/v1/files" and r.method == "POST"]
    assert len(uploads) == 1  # the second request reused the cached file id
    small = build_chat_request(history, ChatSettings(media=MediaPolicy(upload_over=len(PNG))))
    assert not small.remote_media


def test_several_choices_are_refused_rather_than_dropped():
    with pytest.raises(ValueError, match="one answer per request"):
        build_chat_request([Message.user("x")], ChatSettings("custom-proxy-model", n=2))
