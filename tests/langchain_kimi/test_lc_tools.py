"""Tools: what bind_tools sends, tool_choice per thinking state, parsing, and $web_search."""

from __future__ import annotations

from typing import Any

import pytest
from kimi_emulator import KimiEmulator, Reply, ScriptedToolCall
from langchain_core.messages import AIMessageChunk
from langchain_core.tools import tool
from langchain_kimi import ChatKimi
from pydantic import BaseModel, Field


def _model(emu: KimiEmulator, **kwargs: Any) -> ChatKimi:
    return ChatKimi(base_url=emu.base_url, api_key=emu.api_key, **kwargs)


class GetWeather(BaseModel):
    """Get the weather in a city."""

    city: str = Field(description="City name", min_length=1)
    days: int = Field(default=1, ge=1, le=7)


def get_time(zone: str) -> str:
    """Get the time in a time zone.

    Args:
        zone: An IANA zone name.
    """
    return "12:00"


@tool
def lookup(term: str) -> str:
    """Look a term up in the glossary."""
    return term


_RAW = {
    "type": "function",
    "function": {
        "name": "ping",
        "description": "Ping.",
        "parameters": {"type": "object", "properties": {}},
    },
}


def _tools_sent(emu: KimiEmulator) -> dict[str, dict[str, Any]]:
    return {t["function"]["name"]: t for t in emu.chat_requests[-1]["tools"]}


def test_every_tool_form_is_sent_with_an_mfjs_schema(kimi_emulator: KimiEmulator) -> None:
    _model(kimi_emulator).bind_tools([GetWeather, get_time, lookup, _RAW]).invoke("Hello")
    sent = _tools_sent(kimi_emulator)
    assert set(sent) == {"GetWeather", "get_time", "lookup", "ping"}
    weather = sent["GetWeather"]["function"]
    assert weather["description"] == "Get the weather in a city."
    city = weather["parameters"]["properties"]["city"]
    # MFJS has no minLength: kimi-core folds the constraint into the description.
    assert city["type"] == "string"
    assert "minLength" not in city
    assert "1" in city["description"]
    assert "title" not in weather["parameters"]
    assert sent["get_time"]["function"]["parameters"]["properties"]["zone"]["type"] == "string"
    assert sent["ping"]["function"]["parameters"] == {"type": "object", "properties": {}}


def test_strict_is_passed_on(kimi_emulator: KimiEmulator) -> None:
    _model(kimi_emulator).bind_tools([GetWeather], strict=True).invoke("Hello")
    assert _tools_sent(kimi_emulator)["GetWeather"]["function"]["strict"] is True


def test_parallel_tool_calls_cannot_be_switched_off() -> None:
    with pytest.raises(ValueError, match="parallel"):
        ChatKimi(api_key="k").bind_tools([GetWeather], parallel_tool_calls=False)


@pytest.mark.parametrize(
    ("thinking", "choice", "sent"),
    [
        (None, "auto", "auto"),
        (None, "none", "none"),
        # k2.6 rejects forced choices while thinking: sent as auto (documented downgrade).
        (None, "any", "auto"),
        (None, "GetWeather", "auto"),
        (False, "any", "required"),
        (False, "required", "required"),
        (False, True, "required"),
        (False, "GetWeather", {"type": "function", "function": {"name": "GetWeather"}}),
    ],
)
def test_tool_choice_per_thinking_state(
    kimi_emulator: KimiEmulator, thinking: bool | None, choice: Any, sent: Any
) -> None:
    model = _model(kimi_emulator, thinking=thinking)
    model.bind_tools([GetWeather, get_time], tool_choice=choice).invoke("Hello")
    assert kimi_emulator.chat_requests[-1]["tool_choice"] == sent


@pytest.mark.parametrize(
    ("model", "choice", "sent"),
    [
        ("kimi-k3", "any", "required"),
        ("kimi-k3", "GetWeather", "auto"),
        ("kimi-k2.7-code", "any", "auto"),
        ("kimi-k2.7-code", "GetWeather", "auto"),
    ],
)
def test_tool_choice_per_model(
    kimi_emulator: KimiEmulator, model: str, choice: str, sent: str
) -> None:
    _model(kimi_emulator, model=model).bind_tools([GetWeather], tool_choice=choice).invoke("Hi")
    assert kimi_emulator.chat_requests[-1]["tool_choice"] == sent


def test_a_downgrade_is_reported_in_response_metadata(kimi_emulator: KimiEmulator) -> None:
    model = _model(kimi_emulator).bind_tools([GetWeather], tool_choice="GetWeather")
    message = model.invoke("Hello")
    [note] = message.response_metadata["adjustments"]
    assert "rejects a named tool_choice" in note
    assert "sent tool_choice='auto'" in note
    chunks = list(model.stream("Hello"))
    assert chunks[-1].response_metadata["adjustments"] == [note]
    assert all("adjustments" not in c.response_metadata for c in chunks[:-1])
    plain = _model(kimi_emulator).invoke("Hello")
    assert "adjustments" not in plain.response_metadata


def test_forced_choice_can_raise_instead_of_downgrading(kimi_emulator: KimiEmulator) -> None:
    model = _model(kimi_emulator, tool_choice_policy="error").bind_tools(
        [GetWeather], tool_choice="any"
    )
    with pytest.raises(ValueError, match="thinking=False"):
        model.invoke("Hello")
    assert kimi_emulator.chat_requests == []


def test_parallel_calls_parse_and_stream_as_chunks(kimi_emulator: KimiEmulator) -> None:
    calls = [
        ScriptedToolCall("GetWeather", {"city": "Paris"}),
        ScriptedToolCall("get_time", {"zone": "UTC"}),
    ]
    model = _model(kimi_emulator).bind_tools([GetWeather, get_time])
    kimi_emulator.script(Reply(reasoning="Two calls.", tool_calls=calls))
    message = model.invoke("Weather in Paris and time in UTC")
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        ("GetWeather", {"city": "Paris"}),
        ("get_time", {"zone": "UTC"}),
    ]
    assert message.response_metadata["finish_reason"] == "tool_calls"

    kimi_emulator.script(Reply(reasoning="Two calls.", tool_calls=calls, chunk_size=3))
    chunks = list(model.stream("Weather in Paris and time in UTC"))
    assert any(len(c.tool_call_chunks) for c in chunks)
    full: AIMessageChunk = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    assert [(c["name"], c["args"]) for c in full.tool_calls] == [
        ("GetWeather", {"city": "Paris"}),
        ("get_time", {"zone": "UTC"}),
    ]
    assert [b["type"] for b in full.content_blocks] == ["reasoning", "tool_call", "tool_call"]


def test_v1_stream_keeps_parallel_calls_apart(kimi_emulator: KimiEmulator) -> None:
    calls = [
        ScriptedToolCall("GetWeather", {"city": "Rome"}),
        ScriptedToolCall("get_time", {"zone": "CET"}),
    ]
    kimi_emulator.script(Reply(reasoning="Both.", tool_calls=calls, chunk_size=2))
    model = _model(kimi_emulator, output_version="v1").bind_tools([GetWeather, get_time])
    chunks = list(model.stream("Weather in Rome and time in CET"))
    full: AIMessageChunk = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    assert full.content == [
        {"type": "reasoning", "reasoning": "Both.", "index": 0},
        {"type": "tool_call", "id": full.tool_calls[0]["id"], "name": "GetWeather",
         "args": {"city": "Rome"}},
        {"type": "tool_call", "id": full.tool_calls[1]["id"], "name": "get_time",
         "args": {"zone": "CET"}},
    ]  # fmt: skip


def test_bad_arguments_become_invalid_tool_calls(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Reply(tool_calls=[ScriptedToolCall("GetWeather", '{"city": "Par')]))
    message = _model(kimi_emulator).bind_tools([GetWeather]).invoke("Weather?")
    assert message.tool_calls == []
    assert message.invalid_tool_calls[0]["name"] == "GetWeather"
    assert message.invalid_tool_calls[0]["args"] == '{"city": "Par'


def test_call_without_arguments(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Reply(tool_calls=[ScriptedToolCall("ping", "")]))
    message = _model(kimi_emulator).bind_tools([_RAW]).invoke("ping")
    assert message.tool_calls[0]["args"] == {}


# -- $web_search -----------------------------------------------------------------------------------


_WIRE_SEARCH = {"type": "builtin_function", "function": {"name": "$web_search"}}


@pytest.mark.parametrize("declared", [_WIRE_SEARCH, {"type": "web_search"}])
def test_web_search_answers_in_one_invoke(kimi_emulator: KimiEmulator, declared: Any) -> None:
    model = _model(kimi_emulator, thinking=False).bind_tools([declared])
    message = model.invoke("Please search the web: who makes Kimi?")
    assert message.tool_calls == []
    assert message.text
    first, second = kimi_emulator.chat_requests
    assert first["tools"] == [_WIRE_SEARCH]
    assert second["tools"] == [_WIRE_SEARCH]
    call = second["messages"][1]["tool_calls"][0]
    assert call["type"] == "builtin_function"
    assert second["messages"][2] == {
        "role": "tool",
        "tool_call_id": call["id"],
        "name": "$web_search",
        "content": call["function"]["arguments"],
    }
    searches = message.response_metadata["web_searches"]
    assert [s["id"] for s in searches] == [call["id"]]
    blocks = message.content_blocks
    assert [b["type"] for b in blocks] == ["server_tool_call", "server_tool_result", "text"]
    assert blocks[0]["name"] == "web_search"
    assert blocks[1]["tool_call_id"] == call["id"]


def test_web_search_usage_sums_every_round(kimi_emulator: KimiEmulator) -> None:
    round_usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    search = Reply.web_search("kimi", total_tokens=700)
    kimi_emulator.script(Reply(tool_calls=search.tool_calls, usage=round_usage))
    kimi_emulator.script(Reply(content="Moonshot AI.", usage=round_usage))
    message = _model(kimi_emulator).bind_tools([_WIRE_SEARCH]).invoke("Who makes Kimi?")
    assert message.usage_metadata is not None
    assert message.usage_metadata["input_tokens"] == 20
    assert message.usage_metadata["output_tokens"] == 10
    assert message.response_metadata["web_searches"][0]["search_tokens"] == 700


def test_web_search_streams_across_rounds(kimi_emulator: KimiEmulator) -> None:
    search = Reply.web_search("kimi", reasoning="I should search.")
    kimi_emulator.script(search)
    kimi_emulator.script(Reply(content="Moonshot AI makes Kimi.", reasoning="Found.", chunk_size=4))
    chunks = list(_model(kimi_emulator).bind_tools([{"type": "web_search"}]).stream("Who?"))
    with_search = [c for c in chunks if c.response_metadata.get("web_searches")]
    assert len(with_search) == 1
    assert sum(1 for c in chunks if c.usage_metadata) == 1
    full: AIMessageChunk = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    assert full.text == "Moonshot AI makes Kimi."
    assert full.additional_kwargs["reasoning_content"] == "I should search.Found."
    assert full.tool_calls == []
    assert [b["type"] for b in full.content_blocks] == [
        "reasoning",
        "server_tool_call",
        "server_tool_result",
        "text",
    ]
    assert len(kimi_emulator.chat_requests) == 2


async def test_web_search_async(kimi_emulator: KimiEmulator) -> None:
    model = _model(kimi_emulator, thinking=False).bind_tools([{"type": "web_search"}])
    message = await model.ainvoke("Search for the Kimi K2 release")
    assert message.response_metadata["web_searches"]
    chunks = [c async for c in model.astream("Search for the Kimi K2 release")]
    assert sum(1 for c in chunks if c.response_metadata.get("web_searches")) == 1
    assert len(kimi_emulator.chat_requests) == 4


def test_stream_events_v3_with_a_search_and_parallel_calls(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Reply.web_search("kimi", reasoning="Search first."))
    calls = [
        ScriptedToolCall("get_time", {"zone": "UTC"}),
        ScriptedToolCall("get_time", {"zone": "CET"}),
    ]
    kimi_emulator.script(Reply(reasoning="Now the times.", tool_calls=calls, chunk_size=3))
    model = _model(kimi_emulator).bind_tools([{"type": "web_search"}, get_time])
    stream = model.stream_events("Search, then the time in UTC and CET", version="v3")
    events = list(stream)
    assert {"message-start", "content-block-delta", "message-finish"} <= {
        e["event"] for e in events
    }
    output = stream.output
    assert [b["type"] for b in output.content_blocks] == [
        "reasoning",
        "server_tool_call",
        "server_tool_result",
        "tool_call",
        "tool_call",
    ]
    assert [c["args"] for c in output.tool_calls] == [{"zone": "UTC"}, {"zone": "CET"}]


def test_v1_stream_across_search_rounds(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Reply.web_search("kimi", reasoning="Search."))
    kimi_emulator.script(Reply(content="Moonshot AI.", reasoning="Found it.", chunk_size=2))
    model = _model(kimi_emulator, output_version="v1").bind_tools([{"type": "web_search"}])
    chunks = list(model.stream("Who makes Kimi?"))
    full: AIMessageChunk = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    assert [(b["type"], b.get("index")) for b in full.content] == [  # type: ignore[union-attr]
        ("reasoning", 0),
        ("server_tool_call", 1),
        ("server_tool_result", 2),
        ("reasoning", 3),
        ("text", 4),
    ]
    assert full.content[3]["reasoning"] == "Found it."  # type: ignore[index]
    assert full.text == "Moonshot AI."
