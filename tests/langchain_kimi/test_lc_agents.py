"""End to end with LangChain's agent factory and LangGraph, thinking on, against the emulator."""

from __future__ import annotations

from typing import Any

import pytest
from kimi_core import REASONING_PLACEHOLDER, QuotaExhaustedError
from kimi_emulator import Fault, KimiEmulator, Reply, ScriptedToolCall
from langchain.agents import create_agent
from langchain.agents.middleware import ModelRetryMiddleware, SummarizationMiddleware
from langchain_core.messages import AIMessage, AIMessageChunk, ToolMessage
from langchain_core.tools import tool
from langchain_kimi import ChatKimi
from pydantic import BaseModel, Field


@tool
def get_weather(city: str) -> str:
    """Get the current temperature in a city, in Celsius."""
    return f"It is 21 C in {city}."


@tool
def to_fahrenheit(celsius: float) -> str:
    """Convert a Celsius temperature to Fahrenheit."""
    return f"{celsius * 9 / 5 + 32:.1f} F"


def _model(emu: KimiEmulator, **kwargs: Any) -> ChatKimi:
    return ChatKimi(base_url=emu.base_url, api_key=emu.api_key, **kwargs)


def _script_two_tool_steps(emu: KimiEmulator) -> None:
    emu.script(
        Reply(
            reasoning="First the weather.",
            tool_calls=[ScriptedToolCall("get_weather", {"city": "Oslo"})],
        )
    )
    emu.script(
        Reply(
            reasoning="Now convert 21 C.",
            tool_calls=[ScriptedToolCall("to_fahrenheit", {"celsius": 21})],
        )
    )


def test_agent_with_two_tools_and_thinking_sends_reasoning_back_every_turn(
    kimi_emulator: KimiEmulator,
) -> None:
    _script_two_tool_steps(kimi_emulator)
    agent = create_agent(_model(kimi_emulator), tools=[get_weather, to_fahrenheit])
    state = agent.invoke({"messages": [("user", "Weather in Oslo, in Fahrenheit?")]})

    messages = state["messages"]
    assert [type(m).__name__ for m in messages] == [
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
    ]
    assert "69.8 F" in messages[-1].text
    requests = kimi_emulator.chat_requests
    assert len(requests) == 3
    assert "thinking" not in requests[0]  # k2.6 thinks by default
    expected = ["First the weather.", "Now convert 21 C."]
    for i, body in enumerate(requests[1:], start=1):
        turns = [m for m in body["messages"] if m["role"] == "assistant"]
        assert [m["reasoning_content"] for m in turns] == expected[:i]
        assert all("tool_calls" in m and "content" not in m for m in turns)
        assert REASONING_PLACEHOLDER not in str(body)


async def test_async_agent_round_trip(kimi_emulator: KimiEmulator) -> None:
    _script_two_tool_steps(kimi_emulator)
    agent = create_agent(_model(kimi_emulator), tools=[get_weather, to_fahrenheit])
    state = await agent.ainvoke({"messages": [("user", "Weather in Oslo, in Fahrenheit?")]})
    assert isinstance(state["messages"][-1], AIMessage)
    last = kimi_emulator.chat_requests[-1]["messages"]
    assert [m.get("reasoning_content") for m in last if m["role"] == "assistant"] == [
        "First the weather.",
        "Now convert 21 C.",
    ]


def test_langgraph_messages_stream_reasoning_before_text(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(
        Reply(
            reasoning="Looking it up.",
            tool_calls=[ScriptedToolCall("get_weather", {"city": "Oslo"})],
            chunk_size=4,
        )
    )
    kimi_emulator.script(Reply(content="It is 21 C in Oslo.", reasoning="Got it.", chunk_size=4))
    # One chunk per server event, so the order of the events is what is seen.
    agent = create_agent(_model(kimi_emulator, coalesce_stream=False), tools=[get_weather])
    events = list(
        agent.stream({"messages": [("user", "Weather in Oslo?")]}, stream_mode="messages")
    )
    model_chunks = [m for m, meta in events if meta["langgraph_node"] == "model"]
    assert all(isinstance(m, AIMessageChunk) for m in model_chunks)
    kinds = []
    for chunk in model_chunks:
        if chunk.additional_kwargs.get("reasoning_content"):
            kinds.append("reasoning")
        if chunk.text:
            kinds.append("text")
        if chunk.tool_call_chunks:
            kinds.append("tool")
    first_turn = kinds[: kinds.index("tool")]
    second_turn = kinds[len(kinds) - kinds[::-1].index("tool") :]
    assert set(first_turn) == {"reasoning"}
    assert second_turn.index("text") > second_turn.index("reasoning")
    assert "text" not in second_turn[: second_turn.index("text")]
    # The model streamed (not one final message per call), and each call was one stream.
    assert len([k for k in kinds if k == "reasoning"]) > 4
    assert all(body.get("stream") for body in kimi_emulator.chat_requests)
    tool_results = [m for m, meta in events if isinstance(m, ToolMessage)]
    assert tool_results[0].content == "It is 21 C in Oslo."


class Forecast(BaseModel):
    """A weather forecast."""

    city: str = Field(description="The city")
    celsius: int = Field(description="Temperature in Celsius")


def test_agent_response_format_with_thinking_on(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(
        Reply(
            reasoning="Need data.", tool_calls=[ScriptedToolCall("get_weather", {"city": "Oslo"})]
        )
    )
    kimi_emulator.script(Reply(content='{"city": "Oslo", "celsius": 21}', reasoning="Done."))
    agent = create_agent(_model(kimi_emulator), tools=[get_weather], response_format=Forecast)
    state = agent.invoke({"messages": [("user", "Forecast for Oslo")]})
    assert state["structured_response"] == Forecast(city="Oslo", celsius=21)
    for body in kimi_emulator.chat_requests:
        # The profile says kimi-k2.6 supports json_schema, so no forced tool choice is needed.
        assert body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["name"] == "Forecast"
        assert "tool_choice" not in body
    assert kimi_emulator.chat_requests[1]["messages"][1]["reasoning_content"] == "Need data."


def test_web_search_question_answered_in_one_agent_invoke(kimi_emulator: KimiEmulator) -> None:
    agent = create_agent(_model(kimi_emulator), tools=[{"type": "web_search"}, get_weather])
    state = agent.invoke({"messages": [("user", "Search the web: who develops Kimi?")]})
    messages = state["messages"]
    assert [type(m).__name__ for m in messages] == ["HumanMessage", "AIMessage"]
    answer = messages[-1]
    assert answer.tool_calls == []
    assert "search results" in answer.text
    assert [b["type"] for b in answer.content_blocks] == [
        "reasoning",
        "server_tool_call",
        "server_tool_result",
        "text",
    ]
    search_round, answer_round = kimi_emulator.chat_requests
    assert {"type": "builtin_function", "function": {"name": "$web_search"}} in search_round[
        "tools"
    ]
    assert answer_round["messages"][-1]["name"] == "$web_search"


def test_retry_middleware_follows_kimi_retryability(kimi_emulator: KimiEmulator) -> None:
    retry = ModelRetryMiddleware(max_retries=2, initial_delay=0, jitter=False, on_failure="error")
    agent = create_agent(_model(kimi_emulator, max_retries=0), tools=[], middleware=[retry])
    kimi_emulator.script(Fault.overloaded())
    state = agent.invoke({"messages": [("user", "What is 3 + 4?")]})
    assert state["messages"][-1].text == "7"
    assert len(kimi_emulator.chat_requests) == 2
    # An exhausted balance is a 429 too, but retrying cannot help: the middleware does not.
    kimi_emulator.reset()
    kimi_emulator.script(Fault.quota())
    with pytest.raises(QuotaExhaustedError):
        agent.invoke({"messages": [("user", "What is 3 + 4?")]})
    assert len(kimi_emulator.chat_requests) == 1


def test_summarization_middleware_reads_the_context_window_from_the_profile(
    kimi_emulator: KimiEmulator,
) -> None:
    model = _model(kimi_emulator)
    assert model.profile is not None
    # 0.0002 of kimi-k2.6's 262,144-token window is 52 tokens: this history is over it.
    summarize = SummarizationMiddleware(
        model=model, trigger=("fraction", 0.0002), keep=("messages", 2)
    )
    agent = create_agent(model, tools=[], middleware=[summarize])
    history: list[Any] = []
    for i in range(6):
        history += [("user", f"Note {i}: the parcel left depot {i} on day {i}."), ("ai", "Noted.")]
    agent.invoke({"messages": [*history, ("user", "Where is the parcel?")]})
    summary_request, answer_request = kimi_emulator.chat_requests
    assert "Note 0" in summary_request["messages"][0]["content"]
    sent = answer_request["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[0]["content"].startswith("Here is a summary of the conversation to date")
    assert sent[-1]["content"] == "Where is the parcel?"
