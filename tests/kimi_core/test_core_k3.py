"""The K3 era in kimi-core (kimi-api.md section 13): K3.1 profiles, the effort mapping, the
tool_choice contract, dynamic tools, repeated tool-call ids and prompt_cache_options, asserted on
the bodies the emulator recorded."""

from __future__ import annotations

import dataclasses
import json

import pytest
from kimi_core import (
    WEB_SEARCH,
    ChatSettings,
    FunctionTool,
    KimiClient,
    Message,
    ToolCall,
    build_chat_request,
    get_profile,
)
from kimi_core.profiles import register_profiles
from kimi_emulator import KimiEmulator, Reply, ScriptedToolCall

WEATHER = FunctionTool(
    "get_weather",
    "Weather for a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
WEATHER_WIRE = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": WEATHER.parameters,
    },
}
TIME_DICT = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Local time in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
K3 = ChatSettings("kimi-k3")
# The id K3-family serving gives the first call of every message (kimi-api.md 13.2).
REPEATED_ID = "functions.get_weather:0"


def _send(client: KimiClient, emu: KimiEmulator, messages, settings, **kwargs) -> dict:
    request = build_chat_request(messages, settings, **kwargs)
    client.complete(request)
    assert emu.chat_requests[-1] == request.body
    return emu.chat_requests[-1]


# -- profiles (13.3) ---------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["kimi-k3.1-pro", "kimi-k3.1-pro-highspeed"])
def test_k31_pro_profiles_are_known_k3_family_facts(model):
    profile = get_profile(model)
    assert profile.known
    assert profile.id == model
    assert profile.context_window == 1_048_576
    assert (profile.thinking_form, profile.thinking_default, profile.keep_always) == (
        "effort",
        True,
        True,
    )
    assert profile.effort_levels == ("low", "high", "max")
    assert profile.effort_field == "reasoning_effort"
    assert profile.dynamic_tools
    assert profile.tool_choice_rules(True).required
    assert not profile.tool_choice_rules(True).named


@pytest.mark.parametrize("model", ["kimi-k3.1-pro", "kimi-k3.1-pro-highspeed"])
def test_k31_pro_bodies_carry_reasoning_effort_only(model):
    body = build_chat_request(
        [Message.user("hi")], ChatSettings(model, reasoning_effort="high")
    ).body
    assert body == {
        "model": model,
        "messages": [{"role": "user", "content": "hi"}],
        "reasoning_effort": "high",
    }
    with pytest.raises(ValueError, match="always thinks"):
        build_chat_request([Message.user("hi")], ChatSettings(model, thinking=False))


def test_k31_pro_is_served_by_the_emulator(client, kimi_emulator):
    body = _send(
        client,
        kimi_emulator,
        [Message.user("hi")],
        ChatSettings("kimi-k3.1-pro", reasoning_effort="low"),
    )
    assert body["reasoning_effort"] == "low"


# -- the effort mapping (13.1) ----------------------------------------------------------------


@pytest.mark.parametrize("effort", ["low", "high", "max"])
def test_k3_effort_is_sent_once_as_reasoning_effort(client, kimi_emulator, effort):
    settings = ChatSettings(
        "kimi-k3", thinking=True, preserve_thinking=True, reasoning_effort=effort
    )
    body = _send(client, kimi_emulator, [Message.user("hi")], settings)
    assert body["reasoning_effort"] == effort
    # No thinking object: on K3 an omitted one means enabled with keep "all", and a
    # thinking.effort would silently override reasoning_effort.
    assert "thinking" not in body


def test_k3_without_effort_sends_neither_field(client, kimi_emulator):
    body = _send(client, kimi_emulator, [Message.user("hi")], K3)
    assert "reasoning_effort" not in body
    assert "thinking" not in body


@pytest.mark.parametrize(
    ("effort", "closest"),
    [("minimal", "'low'"), ("xhigh", "'max'"), ("medium", "'high'"), ("none", "'low'")],
)
def test_other_providers_levels_are_refused_with_the_closest_kimi_level(effort, closest):
    with pytest.raises(ValueError, match=f"another provider's level; the closest is {closest}"):
        build_chat_request([Message.user("hi")], ChatSettings("kimi-k3", reasoning_effort=effort))


def test_an_unknown_level_names_the_accepted_ones():
    with pytest.raises(ValueError, match="use one of 'low', 'high', 'max' or None") as info:
        build_chat_request([Message.user("hi")], ChatSettings("kimi-k3", reasoning_effort="hgih"))
    assert "another provider" not in str(info.value)


def test_an_object_effort_is_refused_before_sending():
    # The API answers 400 "the reasoning_effort field (expected type string) is illegal".
    with pytest.raises(TypeError, match="reasoning_effort must be a string"):
        build_chat_request(
            [Message.user("hi")],
            ChatSettings("kimi-k3", reasoning_effort={"effort": "high"}),  # type: ignore[arg-type]
        )


def test_effort_goes_inside_thinking_when_the_profile_says_so():
    register_profiles([dataclasses.replace(get_profile("kimi-k3"), id="k3-behind-a-proxy")])
    register_profiles(
        [
            dataclasses.replace(
                get_profile("kimi-k3"), id="k3-thinking-effort", effort_field="thinking.effort"
            )
        ]
    )
    plain = build_chat_request(
        [Message.user("x")], ChatSettings("k3-behind-a-proxy", reasoning_effort="max")
    )
    assert (plain.body["reasoning_effort"], "thinking" in plain.body) == ("max", False)
    inner = build_chat_request(
        [Message.user("x")], ChatSettings("k3-thinking-effort", reasoning_effort="low")
    )
    assert inner.body["thinking"] == {"effort": "low"}
    assert "reasoning_effort" not in inner.body


def test_a_toggle_model_puts_effort_in_its_thinking_object():
    register_profiles(
        [
            dataclasses.replace(
                get_profile("my-proxy"),
                effort_field="thinking.effort",
            )
        ]
    )
    body = build_chat_request(
        [Message.user("x")],
        ChatSettings("my-proxy", thinking=True, preserve_thinking=True, reasoning_effort="high"),
    ).body
    assert body["thinking"] == {"type": "enabled", "keep": "all", "effort": "high"}
    assert "reasoning_effort" not in body
    with pytest.raises(ValueError, match="needs thinking on"):
        build_chat_request(
            [Message.user("x")], ChatSettings("my-proxy", thinking=False, reasoning_effort="low")
        )


# -- the tool_choice contract (13.2) --------------------------------------------------------


@pytest.mark.parametrize("tools", [None, []])
def test_required_without_any_function_is_refused_before_sending(client, kimi_emulator, tools):
    with pytest.raises(ValueError, match="needs at least one function tool, but none is declared"):
        build_chat_request([Message.user("x")], K3, tools=tools, tool_choice="required")
    assert kimi_emulator.chat_requests == []


@pytest.mark.parametrize("choice", ["auto", "none"])
def test_an_empty_tools_list_is_never_sent_with_a_choice(client, kimi_emulator, choice):
    # tools: [] with any tool_choice is a 400; "auto"/"none" without tools is accepted.
    body = _send(client, kimi_emulator, [Message.user("x")], K3, tools=[], tool_choice=choice)
    assert "tools" not in body
    assert body["tool_choice"] == choice


@pytest.mark.parametrize("choice", ["bogus", "get_wether", "AUTO"])
def test_an_invalid_choice_names_the_valid_ones(choice):
    with pytest.raises(
        ValueError, match=r"is not valid: use 'auto', 'none', 'required' or the name"
    ):
        build_chat_request([Message.user("x")], K3, tools=[WEATHER], tool_choice=choice)


def test_an_invalid_dict_choice_is_refused():
    with pytest.raises(ValueError, match=r"tool_choice .* is not valid"):
        build_chat_request(
            [Message.user("x")], K3, tools=[WEATHER], tool_choice={"type": "allowed_tools"}
        )


def test_a_named_choice_on_k3_follows_the_policy(client, kimi_emulator):
    with pytest.raises(ValueError, match="kimi-k3 rejects a named tool_choice"):
        build_chat_request(
            [Message.user("x")],
            ChatSettings("kimi-k3", tool_choice_policy="error"),
            tools=[WEATHER],
            tool_choice="get_weather",
        )
    request = build_chat_request(
        [Message.user("x")], K3, tools=[WEATHER], tool_choice="get_weather"
    )
    assert request.body["tool_choice"] == "auto"
    assert request.adjustments


# -- dynamic tools (13.2) ---------------------------------------------------------------------


def test_dynamic_tools_go_out_as_raw_json_and_are_callable(client, kimi_emulator):
    history = [
        Message.system("You are terse."),
        Message.user("hi"),
        Message.assistant("Hello."),
        Message.system_tools([WEATHER, TIME_DICT]),
        Message.user("What is the weather in 'Paris'?"),
    ]
    request = build_chat_request(history, K3, tool_choice="required")
    result = client.complete(request)
    body = kimi_emulator.chat_requests[-1]
    assert body["messages"][3] == {
        "role": "system",
        "tools": [
            WEATHER_WIRE,
            {
                "type": "function",
                "function": {
                    "name": "get_time",
                    "description": "Local time in a city",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                },
            },
        ],
    }
    # "required" with only dynamic tools is valid (13.2), and the model calls a loaded tool.
    assert "tools" not in body
    assert body["tool_choice"] == "required"
    assert [call.name for call in result.tool_calls] == ["get_weather"]


def test_dynamic_and_request_tools_together(client, kimi_emulator):
    history = [Message.system_tools([TIME_DICT]), Message.user("Call get_weather for 'Oslo'.")]
    body = _send(client, kimi_emulator, history, K3, tools=[WEATHER])
    assert body["tools"] == [WEATHER_WIRE]
    assert body["messages"][0]["tools"][0]["function"]["name"] == "get_time"


@pytest.mark.parametrize(
    ("messages", "tools", "error", "match"),
    [
        (
            [Message.system_tools([WEATHER]), Message.user("x")],
            [WEATHER],
            ValueError,
            r"'get_weather' is duplicated \(tools and messages\[0\]\.tools\)",
        ),
        (
            [
                Message.system_tools([TIME_DICT]),
                Message.system_tools([TIME_DICT]),
                Message.user("x"),
            ],
            None,
            ValueError,
            r"'get_time' is duplicated \(messages\[0\]\.tools and messages\[1\]\.tools\)",
        ),
        (
            [Message.system_tools([WEATHER, WEATHER]), Message.user("x")],
            None,
            ValueError,
            r"messages\[0\]\.tools\[1\]: function name 'get_weather' is duplicated",
        ),
        (
            [Message("user", "x", tools=[WEATHER])],
            None,
            ValueError,
            r"messages\[0\]: the user message carries tools, but only system messages can load",
        ),
        (
            [Message.user("x"), Message("assistant", "ok", tools=[WEATHER])],
            None,
            ValueError,
            r"messages\[1\]: the assistant message carries tools",
        ),
        (
            [Message("system", "not empty", tools=[WEATHER]), Message.user("x")],
            None,
            ValueError,
            "carries no content",
        ),
        (
            [Message.system_tools([FunctionTool("1bad")]), Message.user("x")],
            None,
            ValueError,
            r"messages\[0\]\.tools\[0\]: invalid function name '1bad'",
        ),
        (
            [
                Message.system_tools([{"type": "bogus", "function": {"name": "x"}}]),
                Message.user("x"),
            ],
            None,
            ValueError,
            r"messages\[0\]\.tools\[0\]: unsupported tool type 'bogus'",
        ),
        (
            [Message.system_tools([{"type": "function", "function": {}}]), Message.user("x")],
            None,
            ValueError,
            r"messages\[0\]\.tools\[0\]: a tool dict needs function.name",
        ),
        (
            [Message("system", None, tools=[None]), Message.user("x")],  # type: ignore[list-item]
            None,
            TypeError,
            r"messages\[0\]\.tools\[0\]: expected FunctionTool",
        ),
        (
            [Message("system", None, tools=WEATHER_WIRE), Message.user("x")],  # type: ignore[arg-type]
            None,
            TypeError,
            r"messages\[0\]\.tools must be a list of tools",
        ),
    ],
)
def test_dynamic_tools_are_validated_like_request_tools(
    kimi_emulator, messages, tools, error, match
):
    with pytest.raises(error, match=match):
        build_chat_request(messages, K3, tools=tools)
    assert kimi_emulator.chat_requests == []


def test_dynamic_tools_are_refused_on_models_without_them():
    with pytest.raises(ValueError, match=r"kimi-k2\.6 does not support tools declared on a system"):
        build_chat_request([Message.system_tools([WEATHER]), Message.user("x")], ChatSettings())


# -- repeated tool-call ids (13.2) ----------------------------------------------------------


def _weather_turn(city: str, result: str) -> list[Message]:
    call = ToolCall(REPEATED_ID, "get_weather", json.dumps({"city": city}))
    return [
        Message.assistant(None, reasoning=f"Weather for {city}.", tool_calls=[call]),
        Message.tool(REPEATED_ID, result),
    ]


def test_repeated_ids_across_turns_pair_within_each_turn(client, kimi_emulator):
    history = [
        Message.user("Weather in Paris?"),
        *_weather_turn("Paris", "sunny"),
        Message.assistant("Sunny in Paris."),
        Message.user("And Oslo?"),
        *_weather_turn("Oslo", "snow"),
    ]
    body = _send(client, kimi_emulator, history, K3, tools=[WEATHER])
    pairs = [
        (m["tool_calls"][0]["id"], json.loads(m["tool_calls"][0]["function"]["arguments"]))
        for m in body["messages"]
        if m.get("tool_calls")
    ]
    assert pairs == [(REPEATED_ID, {"city": "Paris"}), (REPEATED_ID, {"city": "Oslo"})]
    results = [(i, m["content"]) for i, m in enumerate(body["messages"]) if m["role"] == "tool"]
    # Each result directly follows the call of its own turn.
    assert results == [(2, "sunny"), (6, "snow")]
    assert body["messages"][5]["tool_calls"][0]["function"]["arguments"] == '{"city": "Oslo"}'


def test_a_result_is_never_paired_with_an_earlier_turns_call():
    history = [
        Message.user("Weather in Paris?"),
        *_weather_turn("Paris", "sunny"),
        Message.assistant("Sunny in Paris. Anything else?"),
        # A stray result: the id matches the first turn's call, but it follows a turn without calls.
        Message.tool(REPEATED_ID, "snow"),
    ]
    with pytest.raises(
        ValueError, match=r"the assistant message before it \(messages\[3\]\) made no call"
    ):
        build_chat_request(history, K3, tools=[WEATHER])


def _search_call(search_id: str) -> ToolCall:
    arguments = json.dumps(
        {"search_result": {"search_id": search_id}, "usage": {"total_tokens": 9}}
    )
    return ToolCall("web_search:0", "$web_search", arguments, type="builtin_function")


def test_a_repeated_builtin_id_still_gets_its_echo_in_a_later_turn(client, kimi_emulator):
    first, second = _search_call("s-1"), _search_call("s-2")
    history = [
        Message.user("Search the news."),
        Message.assistant(None, reasoning="Searching.", tool_calls=[first]),
        Message.tool(first.id, first.arguments, name="$web_search"),
        Message.assistant("Here is the news."),
        Message.user("Search again and get the weather in Paris."),
        # The same id again, next to a client call: its echo is not in the history yet.
        Message.assistant(
            None,
            reasoning="Both.",
            tool_calls=[second, ToolCall(REPEATED_ID, "get_weather", '{"city": "Paris"}')],
        ),
        Message.tool(REPEATED_ID, "sunny"),
    ]
    body = _send(client, kimi_emulator, history, K3, tools=[WEB_SEARCH, WEATHER])
    echoes = [m for m in body["messages"] if m.get("name") == "$web_search"]
    assert [json.loads(m["content"])["search_result"]["search_id"] for m in echoes] == [
        "s-1",
        "s-2",
    ]
    assert body["messages"][6] == {
        "role": "tool",
        "tool_call_id": "web_search:0",
        "name": "$web_search",
        "content": second.arguments,
    }


def test_web_search_loop_echoes_each_round_with_a_repeated_id(client, kimi_emulator):
    for search_id in ("round-1", "round-2"):
        arguments = {"search_result": {"search_id": search_id}, "usage": {"total_tokens": 10}}
        kimi_emulator.script(
            Reply(
                reasoning=f"Search {search_id}.",
                tool_calls=[
                    ScriptedToolCall(
                        "$web_search", arguments, id="web_search:0", type="builtin_function"
                    )
                ],
            )
        )
    kimi_emulator.script(Reply(content="Done.", reasoning="Answer."))
    result = client.complete(
        build_chat_request([Message.user("Search twice.")], K3, tools=[WEB_SEARCH])
    )
    assert result.text == "Done."
    last = kimi_emulator.chat_requests[-1]["messages"]
    rounds = [
        (m["role"], m.get("tool_calls", [{}])[0].get("id") or m.get("tool_call_id"), m)
        for m in last[1:]
    ]
    assert [(role, call_id) for role, call_id, _ in rounds] == [
        ("assistant", "web_search:0"),
        ("tool", "web_search:0"),
        ("assistant", "web_search:0"),
        ("tool", "web_search:0"),
    ]
    # Each echo carries the arguments of the call right before it, not of the other round.
    for call, echo in ((last[1], last[2]), (last[3], last[4])):
        assert echo["content"] == call["tool_calls"][0]["function"]["arguments"]
    assert [s.call_id for s in result.web_searches] == ["web_search:0", "web_search:0"]


# -- prompt_cache_options (13.4) --------------------------------------------------------------


def test_prompt_cache_options_are_sent_verbatim(client, kimi_emulator):
    # The field's shape is not public: whatever the caller gives goes out unchanged.
    options = {"ttl": "1h", "opaque": [1, {"nested": True}]}
    settings = ChatSettings("kimi-k3", prompt_cache_key="session-7", prompt_cache_options=options)
    body = _send(client, kimi_emulator, [Message.user("hi")], settings)
    assert body["prompt_cache_options"] == options
    assert body["prompt_cache_key"] == "session-7"
    assert "prompt_cache_options" not in _send(client, kimi_emulator, [Message.user("hi")], K3)


def test_prompt_cache_options_must_be_json():
    with pytest.raises(ValueError, match="prompt_cache_options is sent as given and must be plain"):
        build_chat_request(
            [Message.user("hi")], ChatSettings(prompt_cache_options={"ttl": object()})
        )
