"""Kimi (LlamaIndex) in the K3 era (kimi-api.md section 13), asserted on the bodies the emulator
recorded: K3.1 Pro, the effort mapping, the tool_choice contract, dynamic tools on a system
ChatMessage (and an agent that loads tools mid-conversation), repeated tool-call ids and
prompt_cache_options."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from kimi_core import FunctionTool as KimiFunctionTool
from kimi_emulator import Reply, ScriptedToolCall
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.tools import BaseTool, FunctionTool
from llama_index.llms.kimi import Kimi, system_tools_message

REPEATED_ID = "functions.get_weather:0"


def get_weather(city: str) -> str:
    """Get the current temperature in a city, in Celsius."""
    return f"It is 21 C in {city}."


def load_weather_tools() -> str:
    """Load the tools that answer weather questions."""
    return "Loaded get_weather."


WEATHER = FunctionTool.from_defaults(fn=get_weather)
LOADER = FunctionTool.from_defaults(fn=load_weather_tools)
TIME_DICT = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Local time in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.fixture
def k3(make_llm: Callable[..., Kimi]) -> Kimi:
    return make_llm(model="kimi-k3")


def _user(text: str) -> ChatMessage:
    return ChatMessage(role=MessageRole.USER, content=text)


# -- K3.1 Pro and the effort mapping (13.1, 13.3) --------------------------------------------


@pytest.mark.parametrize("model", ["kimi-k3.1-pro", "kimi-k3.1-pro-highspeed"])
def test_k31_pro_metadata_comes_from_its_profile(make_llm, model):
    llm = make_llm(model=model, reasoning_effort="high")
    assert llm.metadata.context_window == 1_048_576
    assert llm.profile.known
    assert llm.profile.effort_levels == ("low", "high", "max")


def test_k31_pro_chat_sends_reasoning_effort(make_llm, kimi_emulator):
    make_llm(model="kimi-k3.1-pro", reasoning_effort="low").chat([_user("hi")])
    assert kimi_emulator.chat_requests[-1]["reasoning_effort"] == "low"


def test_k3_effort_is_sent_once_and_per_call_overrides_it(make_llm, kimi_emulator):
    llm = make_llm(model="kimi-k3", reasoning_effort="max", preserve_thinking=True)
    llm.chat([_user("hi")])
    llm.chat([_user("hi")], reasoning_effort="low")
    first, second = kimi_emulator.chat_requests
    assert (first["reasoning_effort"], second["reasoning_effort"]) == ("max", "low")
    assert "thinking" not in first
    assert "thinking" not in second


@pytest.mark.parametrize(("effort", "closest"), [("minimal", "low"), ("xhigh", "max")])
def test_foreign_effort_levels_fail_before_sending(k3, kimi_emulator, effort, closest):
    with pytest.raises(ValueError, match=f"the closest is '{closest}'"):
        k3.chat([_user("hi")], reasoning_effort=effort)
    assert kimi_emulator.chat_requests == []


# -- the tool_choice contract (13.2) ----------------------------------------------------------


def test_required_without_tools_fails_before_sending(k3, kimi_emulator):
    with pytest.raises(ValueError, match="needs at least one function tool"):
        k3.chat_with_tools([], user_msg="x", tool_choice="required")
    with pytest.raises(ValueError, match="is not valid: use 'auto', 'none', 'required'"):
        k3.chat_with_tools([WEATHER], user_msg="x", tool_choice="bogus")
    assert kimi_emulator.chat_requests == []


# -- dynamic tools (13.2) ---------------------------------------------------------------------


def test_dynamic_tools_are_converted_like_request_tools(k3, kimi_emulator):
    k3.chat_with_tools([WEATHER], user_msg="hi")
    declared = kimi_emulator.chat_requests[-1]["tools"]
    loading = ChatMessage(role=MessageRole.SYSTEM, additional_kwargs={"tools": [WEATHER]})
    k3.chat([ChatMessage(role="system", content="Be brief."), loading, _user("hi")])
    body = kimi_emulator.chat_requests[-1]
    assert body["messages"][1] == {"role": "system", "tools": declared}
    assert "tools" not in body


def test_system_tools_message_helper_takes_every_tool_form(k3, kimi_emulator):
    kimi_tool = KimiFunctionTool("get_date", "Today's date")
    message = system_tools_message([WEATHER, kimi_tool, TIME_DICT], strict=True)
    assert message.role == MessageRole.SYSTEM
    assert message.content is None
    # Stored as wire dicts: the message round-trips through JSON like any chat history.
    restored = ChatMessage.model_validate_json(message.model_dump_json())
    k3.chat([restored, _user("hi")])
    tools = kimi_emulator.chat_requests[-1]["messages"][0]["tools"]
    assert [t["function"]["name"] for t in tools] == ["get_weather", "get_date", "get_time"]
    assert tools[0]["function"]["strict"] is True
    assert tools[1]["function"]["parameters"] == {"type": "object", "properties": {}}


@pytest.mark.parametrize(
    ("messages", "tools", "match"),
    [
        (
            [ChatMessage(role="system", additional_kwargs={"tools": [WEATHER]}), _user("x")],
            [WEATHER],
            r"'get_weather' is duplicated \(tools and messages\[0\]\.tools\)",
        ),
        (
            [ChatMessage(role="user", content="x", additional_kwargs={"tools": [WEATHER]})],
            [],
            r"Message 0 \(user\) carries additional_kwargs\['tools'\], but only system",
        ),
        (
            [
                ChatMessage(
                    role="system", content="Be brief.", additional_kwargs={"tools": [WEATHER]}
                )
            ],
            [],
            "loads tools, so it must have no text",
        ),
        (
            [ChatMessage(role="system", additional_kwargs={"tools": TIME_DICT}), _user("x")],
            [],
            "must be a list of tools, got dict",
        ),
    ],
)
def test_dynamic_tool_misuse_fails_before_sending(k3, kimi_emulator, messages, tools, match):
    with pytest.raises(ValueError, match=match):
        k3.chat_with_tools(tools, chat_history=messages)
    assert kimi_emulator.chat_requests == []


def _run_agent(llm: Kimi, history: list[ChatMessage], tools: list[BaseTool]) -> None:
    """A minimal tool loop whose `load_weather_tools` loads `get_weather` on a system message."""
    registry = {t.metadata.get_name(): t for t in tools}
    for _ in range(6):
        response = llm.chat_with_tools(tools, chat_history=history)
        history.append(response.message)
        calls = llm.get_tool_calls_from_response(response, error_on_no_tool_call=False)
        if not calls:
            return
        for call in calls:
            output = registry[call.tool_name].call(**call.tool_kwargs)
            history.append(
                ChatMessage(
                    role=MessageRole.TOOL,
                    content=str(output),
                    additional_kwargs={"tool_call_id": call.tool_id, "name": call.tool_name},
                )
            )
        if any(call.tool_name == "load_weather_tools" for call in calls):
            registry["get_weather"] = WEATHER
            history.append(system_tools_message([WEATHER]))
    raise AssertionError("the agent did not finish")


def test_an_agent_loads_tools_mid_conversation(k3, kimi_emulator):
    # The model's two decisions are scripted (ids restart per message, as on K3 serving); the
    # final answer is the emulator's own, quoting the loaded tool's result.
    kimi_emulator.script(
        Reply(
            reasoning="I need the weather tools first.",
            tool_calls=[
                ScriptedToolCall("load_weather_tools", {}, id="functions.load_weather_tools:0")
            ],
        )
    )
    kimi_emulator.script(
        Reply(
            reasoning="Now I can ask for the weather.",
            tool_calls=[ScriptedToolCall("get_weather", {"city": "Paris"}, id=REPEATED_ID)],
        )
    )
    history = [_user("What is the weather in Paris?")]
    _run_agent(k3, history, [LOADER])

    assert [m.role.value for m in history] == [
        "user",
        "assistant",
        "tool",
        "system",
        "assistant",
        "tool",
        "assistant",
    ]
    assert "It is 21 C in Paris." in (history[-1].content or "")
    first, second, third = kimi_emulator.chat_requests
    assert [t["function"]["name"] for t in first["tools"]] == ["load_weather_tools"]
    loading = second["messages"][3]
    assert loading["role"] == "system"
    assert set(loading) == {"role", "tools"}
    assert [t["function"]["name"] for t in loading["tools"]] == ["get_weather"]
    assert loading["tools"][0]["function"]["parameters"]["required"] == ["city"]
    assert second["messages"][1]["reasoning_content"] == "I need the weather tools first."
    assert third["messages"][3] == loading  # kept in later history, at the same position
    assert third["messages"][4]["tool_calls"][0]["id"] == REPEATED_ID
    assert third["messages"][5] == {
        "role": "tool",
        "tool_call_id": REPEATED_ID,
        "content": "It is 21 C in Paris.",
        "name": "get_weather",
    }


def test_required_with_only_dynamic_tools_is_answered_with_a_loaded_tool(k3, kimi_emulator):
    # Unscripted: the emulator's brain chooses among the tools loaded on the system message.
    response = k3.chat(
        [system_tools_message([WEATHER]), _user("What is the weather in 'Paris'?")],
        tool_choice="required",
    )
    calls = k3.get_tool_calls_from_response(response)
    assert [(c.tool_name, c.tool_kwargs) for c in calls] == [("get_weather", {"city": "Paris"})]
    body = kimi_emulator.chat_requests[-1]
    assert body["tool_choice"] == "required"
    assert "tools" not in body


# -- repeated tool-call ids (13.2) ----------------------------------------------------------


def _turn(city: str, result: str) -> list[ChatMessage]:
    call = ToolCallBlock(
        tool_call_id=REPEATED_ID, tool_name="get_weather", tool_kwargs={"city": city}
    )
    return [
        ChatMessage(role=MessageRole.ASSISTANT, blocks=[call]),
        ChatMessage(
            role=MessageRole.TOOL, content=result, additional_kwargs={"tool_call_id": REPEATED_ID}
        ),
    ]


def test_repeated_ids_across_turns_are_paired_within_each_turn(k3, kimi_emulator):
    history = [
        _user("Weather in Paris?"),
        *_turn("Paris", "sunny"),
        ChatMessage(role="assistant", content="Sunny."),
        _user("And Oslo?"),
        *_turn("Oslo", "snow"),
    ]
    k3.chat_with_tools([WEATHER], chat_history=history)
    sent = kimi_emulator.chat_requests[-1]["messages"]
    assert [(m["role"], m.get("content")) for m in sent] == [
        ("user", "Weather in Paris?"),
        ("assistant", None),
        ("tool", "sunny"),
        ("assistant", "Sunny."),
        ("user", "And Oslo?"),
        ("assistant", None),
        ("tool", "snow"),
    ]
    assert [json.loads(sent[i]["tool_calls"][0]["function"]["arguments"]) for i in (1, 5)] == [
        {"city": "Paris"},
        {"city": "Oslo"},
    ]


def test_a_stray_result_is_not_paired_with_an_earlier_turn(k3, kimi_emulator):
    history = [
        _user("Weather in Paris?"),
        *_turn("Paris", "sunny"),
        ChatMessage(role="assistant", content="Sunny."),
        _turn("Oslo", "snow")[1],
    ]
    with pytest.raises(ValueError, match="the assistant message before it"):
        k3.chat_with_tools([WEATHER], chat_history=history)
    assert kimi_emulator.chat_requests == []


# -- prompt_cache_options (13.4) --------------------------------------------------------------


def test_prompt_cache_options_pass_through(make_llm, kimi_emulator):
    # The shape is not public: Kimi sends exactly what it is given.
    options: dict[str, Any] = {"ttl": "1h"}
    llm = make_llm(model="kimi-k3", prompt_cache_options=options)
    llm.chat([_user("hi")])
    llm.chat([_user("hi")], prompt_cache_options="opaque-value")
    list(llm.stream_chat([_user("hi")]))
    sent = [body.get("prompt_cache_options") for body in kimi_emulator.chat_requests]
    assert sent == [options, "opaque-value", options]
