"""Reasoning goes back to Kimi: from additional_kwargs, v1 blocks, or kimi-core's placeholder."""

from __future__ import annotations

from typing import Any

import pytest
from kimi_core import REASONING_PLACEHOLDER
from kimi_emulator import KimiEmulator, Reply, ScriptedToolCall
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_kimi import ChatKimi


def _model(emu: KimiEmulator, **kwargs: Any) -> ChatKimi:
    return ChatKimi(base_url=emu.base_url, api_key=emu.api_key, **kwargs)


def _history(assistant: AIMessage) -> list[Any]:
    return [
        HumanMessage("What is 2 + 3? Use add."),
        assistant,
        ToolMessage("5", tool_call_id="add:0", name="add"),
    ]


_CALL = {"id": "add:0", "name": "add", "args": {"a": 2, "b": 3}}


def _sent_assistant(emu: KimiEmulator) -> dict[str, Any]:
    return next(m for m in emu.chat_requests[-1]["messages"] if m["role"] == "assistant")


def test_reasoning_from_additional_kwargs_goes_back(kimi_emulator: KimiEmulator) -> None:
    assistant = AIMessage(
        "", tool_calls=[_CALL], additional_kwargs={"reasoning_content": "I should add."}
    )
    _model(kimi_emulator).invoke(_history(assistant))
    assert _sent_assistant(kimi_emulator) == {
        "role": "assistant",
        "reasoning_content": "I should add.",
        "tool_calls": [
            {
                "id": "add:0",
                "type": "function",
                "function": {"name": "add", "arguments": '{"a": 2, "b": 3}'},
            }
        ],
    }


def test_reasoning_from_v1_blocks_goes_back(kimi_emulator: KimiEmulator) -> None:
    assistant = AIMessage(
        [
            {"type": "reasoning", "reasoning": "Adding "},
            {"type": "reasoning", "reasoning": "two numbers."},
            {"type": "tool_call", "id": "add:0", "name": "add", "args": {"a": 2, "b": 3}},
        ],
        tool_calls=[_CALL],
        response_metadata={"output_version": "v1", "model_provider": "moonshot"},
    )
    _model(kimi_emulator).invoke(_history(assistant))
    sent = _sent_assistant(kimi_emulator)
    assert sent["reasoning_content"] == "Adding two numbers."
    assert "content" not in sent


def test_missing_reasoning_gets_the_placeholder_not_a_400(kimi_emulator: KimiEmulator) -> None:
    # A history written by hand (or by another model) has no reasoning for the tool-call turn.
    result = _model(kimi_emulator).invoke(_history(AIMessage("", tool_calls=[_CALL])))
    assert _sent_assistant(kimi_emulator)["reasoning_content"] == REASONING_PLACEHOLDER
    assert "returned: 5" in result.text


def test_thinking_off_sends_no_reasoning(kimi_emulator: KimiEmulator) -> None:
    assistant = AIMessage("", tool_calls=[_CALL], additional_kwargs={"reasoning_content": "r"})
    _model(kimi_emulator, thinking=False).invoke(_history(assistant))
    assert "reasoning_content" not in _sent_assistant(kimi_emulator)


def test_preserved_thinking_sends_reasoning_on_every_assistant_turn(
    kimi_emulator: KimiEmulator,
) -> None:
    history = [
        HumanMessage("Hi"),
        AIMessage("Hello!", additional_kwargs={"reasoning_content": "A greeting."}),
        HumanMessage("And now?"),
        AIMessage("Still here."),
        HumanMessage("Bye"),
    ]
    _model(kimi_emulator, preserve_thinking=True).invoke(history)
    body = kimi_emulator.chat_requests[-1]
    assert body["thinking"] == {"type": "enabled", "keep": "all"}
    assistants = [m for m in body["messages"] if m["role"] == "assistant"]
    assert [m["reasoning_content"] for m in assistants] == ["A greeting.", REASONING_PLACEHOLDER]


@pytest.mark.parametrize("output_version", [None, "v1"])
def test_two_step_tool_loop_round_trips_its_own_reasoning(
    kimi_emulator: KimiEmulator, output_version: str | None
) -> None:
    kimi_emulator.script(
        Reply(reasoning="Need the adder.", tool_calls=[ScriptedToolCall("add", {"a": 2, "b": 3})])
    )
    model = _model(kimi_emulator, output_version=output_version).bind_tools([_add_tool()])
    messages: list[Any] = [HumanMessage("What is 2 + 3?")]
    first = model.invoke(messages)
    assert first.tool_calls
    messages += [first, ToolMessage("5", tool_call_id=first.tool_calls[0]["id"], name="add")]
    model.invoke(messages)
    assert _sent_assistant(kimi_emulator)["reasoning_content"] == "Need the adder."


def _add_tool() -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": "add",
            "description": "Add two integers.",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                "required": ["a", "b"],
            },
        },
    }


def test_builtin_calls_made_next_to_client_calls_are_echoed_on_the_next_turn(
    kimi_emulator: KimiEmulator,
) -> None:
    search = Reply.web_search("kimi news").tool_calls
    assert search is not None
    kimi_emulator.script(
        Reply(reasoning="Both.", tool_calls=[*search, ScriptedToolCall("add", {"a": 1, "b": 1})])
    )
    model = _model(kimi_emulator).bind_tools([_add_tool(), {"type": "web_search"}])
    first = model.invoke("Search kimi news and add 1 + 1")
    assert [c["name"] for c in first.tool_calls] == ["add"]
    builtin = first.additional_kwargs["builtin_tool_calls"]
    assert [c["function"]["name"] for c in builtin] == ["$web_search"]
    tool_message = ToolMessage("2", tool_call_id=first.tool_calls[0]["id"], name="add")
    model.invoke([HumanMessage("Search kimi news and add 1 + 1"), first, tool_message])
    sent = kimi_emulator.chat_requests[-1]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "tool"]
    assert [c["type"] for c in sent[1]["tool_calls"]] == ["builtin_function", "function"]
    assert sent[2] == {
        "role": "tool",
        "tool_call_id": builtin[0]["id"],
        "name": "$web_search",
        "content": builtin[0]["function"]["arguments"],
    }


def _script_search_rounds(emu: KimiEmulator) -> None:
    emu.script(Reply.web_search("kimi news", reasoning="Search first. "))
    emu.script(Reply(content="Kimi shipped K3.", reasoning="Then answer.", chunk_size=3))


@pytest.mark.parametrize("streaming", [False, True])
def test_invoke_keeps_every_search_rounds_reasoning_like_stream(
    kimi_emulator: KimiEmulator, streaming: bool
) -> None:
    model = _model(kimi_emulator, streaming=streaming).bind_tools([{"type": "web_search"}])
    _script_search_rounds(kimi_emulator)
    chunks = list(model.stream("What did Kimi ship?"))
    streamed = "".join(c.additional_kwargs.get("reasoning_content", "") for c in chunks)
    _script_search_rounds(kimi_emulator)
    invoked = model.invoke("What did Kimi ship?")
    assert streamed == "Search first. Then answer."
    assert invoked.additional_kwargs["reasoning_content"] == streamed
    # The search round still echoes only its own reasoning.
    echoed = kimi_emulator.chat_requests[-1]["messages"][-2]
    assert echoed["reasoning_content"] == "Search first. "
