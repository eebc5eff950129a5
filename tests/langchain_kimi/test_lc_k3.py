"""ChatKimi in the K3 era (kimi-api.md section 13), asserted on the bodies the emulator recorded:
K3.1 Pro, the effort mapping, the tool_choice contract, dynamic tools on a SystemMessage (and an
agent that loads tools mid-conversation), repeated tool-call ids and prompt_cache_options."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kimi_emulator import KimiEmulator, Reply, ScriptedToolCall
from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware, ModelRequest
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    messages_from_dict,
    messages_to_dict,
)
from langchain_core.tools import BaseTool, tool
from langchain_kimi import ChatKimi, system_tools_message
from pydantic import BaseModel, Field

REPEATED_ID = "functions.get_weather:0"


@tool
def get_weather(city: str) -> str:
    """Get the current temperature in a city, in Celsius."""
    return f"It is 21 C in {city}."


@tool
def load_weather_tools() -> str:
    """Load the tools that answer weather questions."""
    return "Loaded get_weather."


class GetTime(BaseModel):
    """Get the local time in a city."""

    city: str = Field(description="The city")


def lookup(term: str) -> str:
    """Look a term up in the glossary."""
    return term


def _model(emu: KimiEmulator, **kwargs: Any) -> ChatKimi:
    kwargs.setdefault("model", "kimi-k3")
    return ChatKimi(base_url=emu.base_url, api_key=emu.api_key, **kwargs)


# -- K3.1 Pro and the effort mapping (13.1, 13.3) --------------------------------------------


@pytest.mark.parametrize("model", ["kimi-k3.1-pro", "kimi-k3.1-pro-highspeed"])
def test_k31_pro_has_a_k3_profile(model):
    chat = ChatKimi(model=model, api_key="sk-test", reasoning_effort="high")
    assert chat.profile is not None
    assert chat.profile["max_input_tokens"] == 1_048_576
    assert chat.profile["reasoning_effort_levels"] == ["low", "high", "max"]
    with pytest.raises(ValueError, match="always thinks"):
        ChatKimi(model=model, api_key="sk-test", thinking=False)


def test_k31_pro_invoke_sends_reasoning_effort(kimi_emulator):
    _model(kimi_emulator, model="kimi-k3.1-pro", reasoning_effort="low").invoke("hi")
    assert kimi_emulator.chat_requests[-1]["reasoning_effort"] == "low"


def test_k3_effort_is_sent_once_and_per_call_overrides_it(kimi_emulator):
    model = _model(kimi_emulator, reasoning_effort="max", preserve_thinking=True)
    model.invoke("hi")
    model.invoke("hi", reasoning_effort="low")
    first, second = kimi_emulator.chat_requests
    assert (first["reasoning_effort"], second["reasoning_effort"]) == ("max", "low")
    assert "thinking" not in first
    assert "thinking" not in second


@pytest.mark.parametrize(("effort", "closest"), [("minimal", "low"), ("xhigh", "max")])
def test_foreign_effort_levels_fail_at_construction(effort, closest):
    with pytest.raises(ValueError, match=f"the closest is '{closest}'"):
        ChatKimi(model="kimi-k3", api_key="sk-test", reasoning_effort=effort)


# -- the tool_choice contract (13.2) ----------------------------------------------------------


def test_required_without_tools_fails_before_sending(kimi_emulator):
    with pytest.raises(ValueError, match="needs at least one function tool"):
        _model(kimi_emulator).bind_tools([], tool_choice="required").invoke("x")
    with pytest.raises(ValueError, match="is not valid: use 'auto', 'none', 'required'"):
        _model(kimi_emulator).bind_tools([get_weather], tool_choice="bogus").invoke("x")
    assert kimi_emulator.chat_requests == []


def test_auto_with_no_tools_sends_no_empty_list(kimi_emulator):
    _model(kimi_emulator).bind_tools([], tool_choice="auto").invoke("x")
    body = kimi_emulator.chat_requests[-1]
    assert "tools" not in body
    assert body["tool_choice"] == "auto"


# -- dynamic tools (13.2) ---------------------------------------------------------------------


def test_dynamic_tools_use_the_bind_tools_converter(kimi_emulator):
    forms: list[Any] = [
        get_weather,
        GetTime,
        lookup,
        {
            "type": "function",
            "function": {
                "name": "get_date",
                "description": "Today's date",
                "parameters": {"type": "object"},
            },
        },
    ]
    model = _model(kimi_emulator)
    model.bind_tools(forms).invoke("hi")
    bound = kimi_emulator.chat_requests[-1]["tools"]
    history: list[BaseMessage] = [
        SystemMessage("Be brief."),
        SystemMessage(content="", additional_kwargs={"tools": forms}),
        HumanMessage("hi"),
    ]
    model.invoke(history)
    body = kimi_emulator.chat_requests[-1]
    assert body["messages"][1] == {"role": "system", "tools": bound}
    assert [t["function"]["name"] for t in bound] == [
        "get_weather",
        "GetTime",
        "lookup",
        "get_date",
    ]
    assert "tools" not in body


def test_system_tools_message_helper_serializes(kimi_emulator):
    message = system_tools_message([get_weather], strict=True)
    assert message.content == ""
    assert message.additional_kwargs["tools"][0]["function"]["strict"] is True
    # A chat history store keeps it like any other message.
    (restored,) = messages_from_dict(json.loads(json.dumps(messages_to_dict([message]))))
    _model(kimi_emulator).invoke([restored, HumanMessage("hi")])
    sent = kimi_emulator.chat_requests[-1]["messages"][0]
    assert sent["role"] == "system"
    assert sent["tools"][0]["function"]["name"] == "get_weather"
    assert sent["tools"][0]["function"]["strict"] is True


@pytest.mark.parametrize(
    ("history", "bound", "match"),
    [
        (
            [system_tools_message([get_weather]), HumanMessage("x")],
            [get_weather],
            r"'get_weather' is duplicated \(tools and messages\[0\]\.tools\)",
        ),
        (
            [HumanMessage("x", additional_kwargs={"tools": [get_weather]})],
            [],
            "HumanMessage carries additional_kwargs\\['tools'\\], but only system messages",
        ),
        (
            [SystemMessage("Be brief.", additional_kwargs={"tools": [get_weather]})],
            [],
            "must have empty content",
        ),
        (
            [SystemMessage("", additional_kwargs={"tools": {"name": "x"}}), HumanMessage("x")],
            [],
            "must be a list of tools, got dict",
        ),
        (
            [system_tools_message([{"type": "function", "function": {"name": "1bad"}}])],
            [],
            r"messages\[0\]\.tools\[0\]: invalid function name '1bad'",
        ),
    ],
)
def test_dynamic_tool_misuse_fails_before_sending(kimi_emulator, history, bound, match):
    model = _model(kimi_emulator)
    runnable = model.bind_tools(bound) if bound else model
    with pytest.raises(ValueError, match=match):
        runnable.invoke(history)
    assert kimi_emulator.chat_requests == []


def test_dynamic_tools_are_refused_on_k26(kimi_emulator):
    with pytest.raises(ValueError, match="does not support tools declared on a system message"):
        _model(kimi_emulator, model="kimi-k2.6").invoke(
            [system_tools_message([get_weather]), HumanMessage("x")]
        )


def _run_agent(model: ChatKimi, history: list[BaseMessage], tools: list[BaseTool]) -> None:
    """A minimal tool loop whose `load_weather_tools` loads `get_weather` on a system message."""
    registry = {t.name: t for t in tools}
    bound = model.bind_tools(tools)
    for _ in range(6):
        reply = bound.invoke(history)
        history.append(reply)
        if not reply.tool_calls:
            return
        loaded: list[BaseTool] = []
        for call in reply.tool_calls:
            history.append(registry[call["name"]].invoke(call))
            if call["name"] == "load_weather_tools":
                loaded.append(get_weather)
        if loaded:
            registry.update({t.name: t for t in loaded})
            history.append(system_tools_message(loaded))
    raise AssertionError("the agent did not finish")


def test_an_agent_loads_tools_mid_conversation(kimi_emulator):
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
    history: list[BaseMessage] = [HumanMessage("What is the weather in Paris?")]
    _run_agent(_model(kimi_emulator), history, [load_weather_tools])

    assert [type(m).__name__ for m in history] == [
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "SystemMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
    ]
    assert "It is 21 C in Paris." in history[-1].text
    first, second, third = kimi_emulator.chat_requests
    assert [t["function"]["name"] for t in first["tools"]] == ["load_weather_tools"]
    assert [m["role"] for m in first["messages"]] == ["user"]
    loading = {
        "role": "system",
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Get the current temperature in a city, in Celsius.",
                    "parameters": {
                        "type": "object",
                        "properties": {"city": {"type": "string"}},
                        "required": ["city"],
                    },
                },
            }
        ],
    }
    assert second["messages"][3] == loading
    assert second["messages"][1]["reasoning_content"] == "I need the weather tools first."
    assert third["messages"][3] == loading  # kept in later history, at the same position
    assert third["messages"][4]["tool_calls"][0]["id"] == REPEATED_ID
    assert third["messages"][5] == {
        "role": "tool",
        "tool_call_id": REPEATED_ID,
        "content": "It is 21 C in Paris.",
        "name": "get_weather",
    }
    assert [t["function"]["name"] for t in third["tools"]] == ["load_weather_tools"]


def test_required_with_only_dynamic_tools_is_answered_with_a_loaded_tool(kimi_emulator):
    # Unscripted: the emulator's brain chooses among the tools loaded on the system message.
    model = _model(kimi_emulator).bind_tools([], tool_choice="required")
    history: list[BaseMessage] = [
        system_tools_message([get_weather]),
        HumanMessage("What is the weather in 'Paris'?"),
    ]
    reply = model.invoke(history)
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    body = kimi_emulator.chat_requests[-1]
    assert body["tool_choice"] == "required"
    assert "tools" not in body


# -- repeated tool-call ids (13.2) ----------------------------------------------------------


def _turn(city: str, result: str) -> list[BaseMessage]:
    call = {"name": "get_weather", "args": {"city": city}, "id": REPEATED_ID}
    return [
        AIMessage("", tool_calls=[call], additional_kwargs={"reasoning_content": f"{city}?"}),
        ToolMessage(result, tool_call_id=REPEATED_ID),
    ]


def test_repeated_ids_across_turns_are_paired_within_each_turn(kimi_emulator):
    history = [
        HumanMessage("Weather in Paris?"),
        *_turn("Paris", "sunny"),
        AIMessage("Sunny."),
        HumanMessage("And Oslo?"),
        *_turn("Oslo", "snow"),
    ]
    _model(kimi_emulator).bind_tools([get_weather]).invoke(history)
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


def test_a_stray_result_is_not_paired_with_an_earlier_turn(kimi_emulator):
    history = [
        HumanMessage("Weather in Paris?"),
        *_turn("Paris", "sunny"),
        AIMessage("Sunny."),
        ToolMessage("snow", tool_call_id=REPEATED_ID),
    ]
    with pytest.raises(ValueError, match="the assistant message before it"):
        _model(kimi_emulator).bind_tools([get_weather]).invoke(history)
    assert kimi_emulator.chat_requests == []


# -- prompt_cache_options (13.4) --------------------------------------------------------------


def test_prompt_cache_options_pass_through(kimi_emulator):
    # The shape is not public: ChatKimi sends exactly what it is given.
    options = {"ttl": "1h"}
    model = _model(kimi_emulator, prompt_cache_options=options)
    model.invoke("hi")
    model.invoke("hi", prompt_cache_options="opaque-value")
    list(model.stream("hi"))
    sent = [body.get("prompt_cache_options") for body in kimi_emulator.chat_requests]
    assert sent == [options, "opaque-value", options]
    with pytest.raises(ValueError, match="'prompt_cache_options': use prompt_cache_options"):
        ChatKimi(api_key="sk-test", model_kwargs={"prompt_cache_options": options})


class _LoadToolsOnDemand(AgentMiddleware):
    """Progressive tool disclosure: `get_weather` is registered with the agent (so its tool node
    can run it) but declared to the model only after `load_weather_tools` ran, on a system
    message placed right after that tool's result."""

    tools = [get_weather]

    def wrap_model_call(self, request: ModelRequest, handler: Any) -> Any:
        messages = list(request.messages)
        for index, message in enumerate(messages):
            if isinstance(message, ToolMessage) and message.name == "load_weather_tools":
                messages.insert(index + 1, system_tools_message([get_weather]))
                break
        bound = [t for t in request.tools if getattr(t, "name", None) != "get_weather"]
        return handler(request.override(messages=messages, tools=bound))


def test_a_create_agent_loads_tools_mid_conversation(kimi_emulator):
    kimi_emulator.script(
        Reply(
            reasoning="Load the weather tools.",
            tool_calls=[
                ScriptedToolCall("load_weather_tools", {}, id="functions.load_weather_tools:0")
            ],
        )
    )
    kimi_emulator.script(
        Reply(
            reasoning="Ask for the weather.",
            tool_calls=[ScriptedToolCall("get_weather", {"city": "Oslo"}, id=REPEATED_ID)],
        )
    )
    agent = create_agent(
        _model(kimi_emulator), tools=[load_weather_tools], middleware=[_LoadToolsOnDemand()]
    )
    state = agent.invoke({"messages": [("user", "Weather in Oslo?")]})

    assert "It is 21 C in Oslo." in state["messages"][-1].text
    first, second, third = kimi_emulator.chat_requests
    for body in (first, second, third):
        assert [t["function"]["name"] for t in body["tools"]] == ["load_weather_tools"]
    assert not any("tools" in m for m in first["messages"])
    assert [m["role"] for m in third["messages"]] == [
        "user",
        "assistant",
        "tool",
        "system",
        "assistant",
        "tool",
    ]
    assert third["messages"][3]["tools"][0]["function"]["name"] == "get_weather"
    assert third["messages"][3] == second["messages"][3]
    assert third["messages"][5]["content"] == "It is 21 C in Oslo."
