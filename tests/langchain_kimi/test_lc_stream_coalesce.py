"""``ChatKimi.coalesce_stream``: events of one network read as one chunk, or one chunk per event.

Both ways must say the same thing (text, reasoning, tool calls, usage); only the cut differs.
"""

from __future__ import annotations

from typing import Any

import pytest
from kimi_emulator import KimiEmulator, Reply, ScriptedToolCall
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessageChunk
from langchain_kimi import ChatKimi

_REASONING = ["Let ", "me ", "think."]
_TEXT = ["Hel", "lo ", "there!"]
_ADD = {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}


def _model(emu: KimiEmulator, **kwargs: Any) -> ChatKimi:
    return ChatKimi(base_url=emu.base_url, api_key=emu.api_key, **kwargs)


def _reasoning(chunk: AIMessageChunk) -> str:
    return str(chunk.additional_kwargs.get("reasoning_content") or "")


def _sum(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    return total


def test_coalesce_stream_defaults_on() -> None:
    assert ChatKimi(api_key="sk-test").coalesce_stream is True


def test_per_event_stream_gives_one_chunk_per_server_event(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Reply(reasoning_chunks=_REASONING, content_chunks=_TEXT))
    chunks = list(_model(kimi_emulator, coalesce_stream=False).stream("hi"))
    assert [_reasoning(c) for c in chunks if _reasoning(c)] == _REASONING
    assert [c.text for c in chunks if c.text] == _TEXT
    assert kimi_emulator.chat_requests[-1]["stream"] is True


@pytest.mark.parametrize("tools", [False, True], ids=["text", "tool-calls"])
def test_both_ways_say_the_same(kimi_emulator: KimiEmulator, tools: bool) -> None:
    reply = Reply(
        reasoning="why " * 300,
        content=None if tools else "word " * 300,
        tool_calls=[ScriptedToolCall("add", {"a": 2, "b": 3}, id="add:0")] if tools else None,
        chunk_size=5,
    )
    streams = []
    for coalesce in (False, True):
        kimi_emulator.script(reply)
        model = _model(kimi_emulator, coalesce_stream=coalesce)
        if tools:
            model = model.bind_tools([{"name": "add", "description": "Add.", "parameters": _ADD}])
        streams.append(list(model.stream("What is 2 + 3?")))
    per_event, coalesced = streams
    # 1200 reasoning characters cut every 5: per event, one chunk for each of the 240 pieces.
    assert sum(1 for c in per_event if _reasoning(c)) == 240
    assert len(coalesced) <= len(per_event)
    totals = [_sum(chunks) for chunks in streams]
    for total in totals:
        assert _reasoning(total) == "why " * 300
        assert total.text == ("" if tools else "word " * 300)
    assert totals[0].tool_calls == totals[1].tool_calls
    if tools:
        assert totals[1].tool_calls == [
            {"name": "add", "args": {"a": 2, "b": 3}, "id": "add:0", "type": "tool_call"}
        ]
    usage = [t.usage_metadata for t in totals]
    assert usage[0] is not None
    assert usage[1] is not None
    assert usage[0]["output_tokens"] == usage[1]["output_tokens"] > 0
    assert totals[0].response_metadata.get("finish_reason") == totals[1].response_metadata.get(
        "finish_reason"
    )


async def test_astream_both_ways_say_the_same(kimi_emulator: KimiEmulator) -> None:
    reply = Reply(reasoning="why " * 200, content="word " * 200, chunk_size=5)
    totals = []
    for coalesce in (False, True):
        kimi_emulator.script(reply)
        model = _model(kimi_emulator, coalesce_stream=coalesce)
        chunks = [c async for c in model.astream("hi")]
        if not coalesce:
            assert "".join(c.text for c in chunks) == "word " * 200
            assert sum(1 for c in chunks if c.text) == 200
        totals.append(_sum(chunks))
    for total in totals:
        assert total.text == "word " * 200
        assert _reasoning(total) == "why " * 200


class _Chunks(BaseCallbackHandler):
    def __init__(self) -> None:
        self.chunks: list[AIMessageChunk] = []

    def on_llm_new_token(self, token: str, *, chunk: Any = None, **kwargs: Any) -> None:
        self.chunks.append(chunk.message)


@pytest.mark.parametrize("coalesce", [False, True], ids=["per-event", "coalesced"])
def test_a_streamed_invoke_reports_chunks_the_same_way(
    kimi_emulator: KimiEmulator, coalesce: bool
) -> None:
    # What LangGraph's stream_mode="messages" reads: the callbacks of a streamed invoke.
    kimi_emulator.script(Reply(reasoning="why " * 100, content="word " * 100, chunk_size=5))
    handler = _Chunks()
    model = _model(kimi_emulator, streaming=True, coalesce_stream=coalesce)
    message = model.invoke("hi", config={"callbacks": [handler]})
    reported = handler.chunks
    assert "".join(_reasoning(c) for c in reported) == _reasoning(message) == "why " * 100
    assert "".join(c.text for c in reported) == message.text == "word " * 100
    assert _reasoning(reported[0]) == "why w"  # the first event (5 characters), never held back
    if coalesce:
        assert len(reported) < 80
    else:
        assert sum(1 for c in reported if c.text) == 100
    assert kimi_emulator.chat_requests[-1]["stream"] is True
