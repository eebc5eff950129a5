"""A few round trips against the real Moonshot API, the same behaviours the emulator tests pin.

Skipped unless pytest runs with ``--live`` and ``MOONSHOT_API_KEY`` (or ``KIMI_API_KEY``) is set:
``MOONSHOT_API_KEY=sk-... nox -s live``. Never part of CI.
"""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_kimi import ChatKimi
from llama_index.core.base.llms.types import ChatMessage, ThinkingBlock
from llama_index.llms.kimi import Kimi

# enable_socket: pytest-socket lets these (and only these) reach beyond loopback.
pytestmark = [pytest.mark.live, pytest.mark.enable_socket, pytest.mark.timeout(300)]

MODEL = "kimi-k2.6"


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"It is sunny in {city}, 21 degrees."


def test_invoke_reads_reasoning_and_usage() -> None:
    message = ChatKimi(model=MODEL).invoke("What is 17 * 3? Answer with the number only.")
    assert "51" in message.text
    assert any(block["type"] == "reasoning" for block in message.content_blocks)
    assert message.usage_metadata is not None
    assert message.usage_metadata["output_tokens"] > 0


def test_stream_shows_reasoning_before_text() -> None:
    kinds: list[str] = []
    for chunk in ChatKimi(model=MODEL).stream("Name one prime number above 10."):
        assert isinstance(chunk, AIMessageChunk)
        kinds.extend(block["type"] for block in chunk.content_blocks)
    assert "reasoning" in kinds
    assert "text" in kinds
    assert kinds.index("reasoning") < kinds.index("text")


def test_tool_round_trip_sends_reasoning_back() -> None:
    model = ChatKimi(model=MODEL).bind_tools([get_weather])
    question = HumanMessage('Call get_weather for "Paris", then answer in one sentence.')
    first = model.invoke([question])
    assert isinstance(first, AIMessage)
    assert first.tool_calls, first
    call = first.tool_calls[0]
    answer = model.invoke(
        [question, first, ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"])]
    )
    assert "21" in answer.text or "sunny" in answer.text.lower()


def test_web_search_answers_with_sources() -> None:
    model = ChatKimi(model=MODEL).bind_tools([{"type": "web_search"}])
    message = model.invoke("Search the web: what is the capital of France? One word.")
    assert "paris" in message.text.lower()


def test_llama_index_chat_and_stream() -> None:
    llm = Kimi(model=MODEL)
    response = llm.chat([ChatMessage(role="user", content="What is 2 + 2? Number only.")])
    assert "4" in (response.message.content or "")
    assert any(isinstance(block, ThinkingBlock) for block in response.message.blocks)
    text = "".join(
        r.delta or "" for r in llm.stream_chat([ChatMessage(role="user", content="Say hi.")])
    )
    assert text.strip()
