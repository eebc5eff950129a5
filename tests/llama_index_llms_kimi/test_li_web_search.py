"""The builtin ``$web_search``: declared verbatim, resolved inside the LLM call, visible after."""

from __future__ import annotations

import json

import pytest
from kimi_emulator import Reply, ScriptedToolCall
from llama_index.core.base.llms.types import ChatMessage, ThinkingBlock, ToolCallBlock
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.tools import FunctionTool

WEB_SEARCH_TOOL = {"type": "builtin_function", "function": {"name": "$web_search"}}


def user(text: str) -> list[ChatMessage]:
    return [ChatMessage(role="user", content=text)]


def _search_round(tokens: int) -> Reply:
    return Reply(
        tool_calls=[
            ScriptedToolCall(
                name="$web_search",
                type="builtin_function",
                id="t-web_search-1",
                arguments={
                    "search_result": {"search_id": "s-1"},
                    "usage": {"total_tokens": tokens},
                },
            )
        ],
        usage={"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    )


def test_search_loop_runs_inside_chat(make_llm, kimi_emulator) -> None:
    llm = make_llm(web_search=True, thinking=False)
    kimi_emulator.script(_search_round(tokens=1200))
    kimi_emulator.script(
        Reply(
            content="Kimi K3 was released in July 2026.",
            usage={"prompt_tokens": 1220, "completion_tokens": 9, "total_tokens": 1229},
        )
    )
    response = llm.chat(user("Search: when was Kimi K3 released?"))
    assert response.message.content == "Kimi K3 was released in July 2026."
    assert not [b for b in response.message.blocks if isinstance(b, ToolCallBlock)]
    first, second = kimi_emulator.chat_requests
    assert first["tools"] == [WEB_SEARCH_TOOL]
    assert second["tools"] == [WEB_SEARCH_TOOL]
    echo = second["messages"][-1]
    assert echo["role"] == "tool"
    assert echo["name"] == "$web_search"
    assert echo["tool_call_id"] == "t-web_search-1"
    assert json.loads(echo["content"])["search_result"] == {"search_id": "s-1"}
    (search,) = response.additional_kwargs["web_searches"]
    assert search["call_id"] == "t-web_search-1"
    assert search["search_tokens"] == 1200
    # Usage is summed over both rounds.
    assert response.additional_kwargs["prompt_tokens"] == 1230
    assert response.additional_kwargs["total_tokens"] == 1244


def test_search_loop_runs_inside_stream_chat(make_llm, kimi_emulator) -> None:
    llm = make_llm(web_search=True, thinking=False)
    kimi_emulator.script(_search_round(tokens=800))
    kimi_emulator.script(Reply(content="Found it.", content_chunks=2))
    responses = list(llm.stream_chat(user("search for the answer")))
    events = [
        r.additional_kwargs["web_search"] for r in responses if "web_search" in r.additional_kwargs
    ]
    assert [e["search_tokens"] for e in events] == [800]
    final = responses[-1]
    assert final.message.content == "Found it."
    assert len(final.additional_kwargs["web_searches"]) == 1
    assert not any(isinstance(b, ToolCallBlock) for r in responses for b in r.message.blocks)


async def test_web_search_per_call_and_with_thinking(llm, kimi_emulator) -> None:
    # Thinking stays on (kimi-k2.6 default): kimi-core's profile allows it (CONFLICT decided there).
    response = await llm.achat(user("Please search the web for Kimi news"), web_search=True)
    assert response.additional_kwargs["web_searches"]
    first, second = kimi_emulator.chat_requests
    assert WEB_SEARCH_TOOL in first["tools"]
    replay_turn = second["messages"][-2]
    assert replay_turn["tool_calls"][0]["type"] == "builtin_function"
    assert replay_turn["reasoning_content"]


def test_token_counting_handler_sees_usage_summed_over_rounds(make_llm, kimi_emulator) -> None:
    counter = TokenCountingHandler()
    llm = make_llm(web_search=True, thinking=False, callback_manager=CallbackManager([counter]))
    for stream in (False, True):
        kimi_emulator.script(_search_round(tokens=1200))
        kimi_emulator.script(
            Reply(
                content="Done.",
                usage={"prompt_tokens": 1220, "completion_tokens": 9, "total_tokens": 1229},
            )
        )
        if stream:
            list(llm.stream_chat(user("search it")))
        else:
            llm.chat(user("search it"))
    # The searches' raw summary carries the usage of both rounds, for both calls.
    assert counter.prompt_llm_token_count == 2 * 1230
    assert counter.completion_llm_token_count == 2 * 14


@pytest.mark.parametrize("stream", [False, True])
def test_search_and_function_call_in_one_turn(make_llm, kimi_emulator, stream) -> None:
    llm = make_llm(web_search=True, thinking=False)
    search = _search_round(tokens=300).tool_calls[0]
    add = ScriptedToolCall(name="add", arguments={"a": 1, "b": 2}, id="call_add")
    kimi_emulator.script(Reply(tool_calls=[search, add]))
    tools = [FunctionTool.from_defaults(fn=lambda a, b: a + b, name="add")]
    if stream:
        first = list(llm.stream_chat_with_tools(tools, user_msg="search and add"))[-1]
    else:
        first = llm.chat_with_tools(tools, user_msg="search and add")
    # The agent only ever sees the client function; the builtin call rides along for the wire.
    assert [c.tool_name for c in llm.get_tool_calls_from_response(first)] == ["add"]
    (kept,) = first.message.additional_kwargs["builtin_tool_calls"]
    assert kept["function"]["name"] == "$web_search"
    history = [
        ChatMessage(role="user", content="search and add"),
        first.message,
        ChatMessage(role="tool", content="3", additional_kwargs={"tool_call_id": "call_add"}),
    ]
    llm.chat_with_tools(tools, chat_history=history)
    sent = kimi_emulator.chat_requests[-1]["messages"]
    assert [c["type"] for c in sent[1]["tool_calls"]] == ["function", "builtin_function"]
    echo = next(m for m in sent if m.get("tool_call_id") == "t-web_search-1")
    assert echo["name"] == "$web_search"
    assert echo["content"] == kept["function"]["arguments"]
    assert sent[-1] == {"role": "tool", "tool_call_id": "call_add", "content": "3"}


def _script_reasoning_rounds(kimi_emulator) -> None:
    kimi_emulator.script(Reply.web_search("kimi news", reasoning="Search first. "))
    kimi_emulator.script(Reply(content="Kimi shipped K3.", reasoning="Then answer.", chunk_size=3))


def _thinking(message: ChatMessage) -> str:
    return "".join(b.content or "" for b in message.blocks if isinstance(b, ThinkingBlock))


async def test_chat_keeps_every_search_rounds_reasoning_like_stream(
    make_llm, kimi_emulator
) -> None:
    llm = make_llm(web_search=True)
    _script_reasoning_rounds(kimi_emulator)
    responses = list(llm.stream_chat(user("What did Kimi ship?")))
    streamed = "".join(r.additional_kwargs.get("thinking_delta", "") for r in responses)
    assert streamed == "Search first. Then answer."
    assert _thinking(responses[-1].message) == streamed
    _script_reasoning_rounds(kimi_emulator)
    assert _thinking(llm.chat(user("What did Kimi ship?")).message) == streamed
    _script_reasoning_rounds(kimi_emulator)
    assert _thinking((await llm.achat(user("What did Kimi ship?"))).message) == streamed
    # The search round still echoes only its own reasoning.
    assert kimi_emulator.chat_requests[-1]["messages"][-2]["reasoning_content"] == "Search first. "
