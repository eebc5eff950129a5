"""The registered block translator: Kimi-native message fields -> standard v1 content blocks."""

from __future__ import annotations

import langchain_kimi  # noqa: F401  (registers the translator)
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.messages.block_translators import get_translator
from langchain_kimi._translator import PROVIDER

SEARCH = {
    "id": "t-web_search-1",
    "name": "$web_search",
    "arguments": {"search_result": {"search_id": "s1"}, "usage": {"total_tokens": 12}},
    "search_tokens": 12,
}


def _meta(**extra: object) -> dict[str, object]:
    return {"model_provider": PROVIDER, **extra}


def test_registered_under_the_moonshot_provider_name() -> None:
    assert PROVIDER == "moonshot"
    assert get_translator(PROVIDER) is not None


def test_reasoning_search_text_and_tool_calls_in_order() -> None:
    message = AIMessage(
        content="The answer.",
        additional_kwargs={"reasoning_content": "thinking it over"},
        response_metadata=_meta(web_searches=[SEARCH]),
        tool_calls=[{"id": "functions.add:0", "name": "add", "args": {"a": 1}}],
    )
    assert message.content_blocks == [
        {"type": "reasoning", "reasoning": "thinking it over"},
        {
            "type": "server_tool_call",
            "id": "t-web_search-1",
            "name": "web_search",
            "args": {"search_result": {"search_id": "s1"}, "usage": {"total_tokens": 12}},
            "extras": {"kimi_name": "$web_search"},
        },
        {
            "type": "server_tool_result",
            "tool_call_id": "t-web_search-1",
            "status": "success",
            "output": {"search_tokens": 12},
        },
        {"type": "text", "text": "The answer."},
        {"type": "tool_call", "id": "functions.add:0", "name": "add", "args": {"a": 1}},
    ]


def test_empty_reasoning_and_text_produce_no_blocks() -> None:
    message = AIMessage(
        content="",
        additional_kwargs={"reasoning_content": ""},
        response_metadata=_meta(),
        tool_calls=[{"id": "c1", "name": "f", "args": {}}],
    )
    assert message.content_blocks == [{"type": "tool_call", "id": "c1", "name": "f", "args": {}}]


def test_invalid_tool_calls_are_kept() -> None:
    message = AIMessage(
        content="",
        response_metadata=_meta(),
        invalid_tool_calls=[{"id": "c1", "name": "f", "args": "{oops", "error": "bad json"}],
    )
    assert message.content_blocks == [
        {"type": "invalid_tool_call", "id": "c1", "name": "f", "args": "{oops", "error": "bad json"}
    ]


def test_chunk_in_flight_yields_tool_call_chunks() -> None:
    chunk = AIMessageChunk(
        content="",
        response_metadata=_meta(),
        tool_call_chunks=[{"id": "c1", "name": "add", "args": '{"a"', "index": 0}],
    )
    assert chunk.content_blocks == [
        {"type": "tool_call_chunk", "id": "c1", "name": "add", "args": '{"a"', "index": 0}
    ]


def test_aggregated_chunks_yield_reasoning_then_text_and_parsed_tool_calls() -> None:
    parts = [
        AIMessageChunk(
            content="", additional_kwargs={"reasoning_content": "let "}, response_metadata=_meta()
        ),
        AIMessageChunk(
            content="", additional_kwargs={"reasoning_content": "me see"}, response_metadata=_meta()
        ),
        AIMessageChunk(content="Hi", response_metadata=_meta()),
        AIMessageChunk(
            content="",
            response_metadata=_meta(),
            tool_call_chunks=[{"id": "c1", "name": "add", "args": '{"a": 2}', "index": 0}],
            chunk_position="last",
        ),
    ]
    full = parts[0] + parts[1:]
    assert full.content_blocks == [
        {"type": "reasoning", "reasoning": "let me see"},
        {"type": "text", "text": "Hi"},
        {"type": "tool_call", "id": "c1", "name": "add", "args": {"a": 2}},
    ]


def test_list_content_passes_standard_blocks_through() -> None:
    message = AIMessage(
        content=[
            "plain",
            {"type": "text", "text": " more"},
            {"type": "reasoning", "reasoning": "r"},
        ],
        response_metadata=_meta(),
    )
    assert message.content_blocks == [
        {"type": "reasoning", "reasoning": "r"},
        {"type": "text", "text": "plain"},
        {"type": "text", "text": " more"},
    ]


def test_builtin_calls_awaiting_their_echo_are_server_tool_calls() -> None:
    pending = {
        "id": "t-web_search-9",
        "type": "builtin_function",
        "function": {"name": "$web_search", "arguments": '{"search_result": {"search_id": "s9"}}'},
    }
    message = AIMessage(
        "",
        additional_kwargs={"builtin_tool_calls": [pending]},
        response_metadata=_meta(),
        tool_calls=[{"id": "add:0", "name": "add", "args": {}}],
    )
    assert message.content_blocks == [
        {
            "type": "server_tool_call",
            "id": "t-web_search-9",
            "name": "web_search",
            "args": {"search_result": {"search_id": "s9"}},
            "extras": {"kimi_name": "$web_search"},
        },
        {"type": "tool_call", "id": "add:0", "name": "add", "args": {}},
    ]
