"""One LangChain agent, three servers: the platform, vLLM and SGLang dialects of the emulator.

The agent code is the same for each; only ``base_url`` and ``endpoint`` change. What reached the
wire is read from the emulator's request log.
"""

from __future__ import annotations

import pytest
from kimi_core import EmptyAnswerError, UnsupportedFeatureError
from kimi_emulator import KimiEmulator, Reply, ScriptedToolCall
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from langchain_kimi import ChatKimi

# What each server names things (kimi-api.md 13.7): the reasoning field it reads back, and the
# tool-call ids it writes (``functions.{name}:{idx}``, restarting in every message).
WIRE = {
    "moonshot": ("reasoning_content", "get_weather_0"),
    "vllm": ("reasoning", "functions.get_weather:0"),
    "sglang": ("reasoning_content", "functions.get_weather:0"),
}


@tool
def get_weather(city: str) -> str:
    """Get the current temperature in a city, in Celsius."""
    return f"It is {len(city) * 3} C in {city}."


def _model(emulator: KimiEmulator, endpoint: str, **kwargs) -> ChatKimi:
    kwargs.setdefault("thinking", True)
    return ChatKimi(
        base_url=emulator.base_url,
        api_key=emulator.api_key,
        endpoint=endpoint,
        max_retries=0,
        **kwargs,
    )


def _script(emulator: KimiEmulator) -> None:
    emulator.script(
        Reply(
            reasoning="Oslo first.", tool_calls=[ScriptedToolCall("get_weather", {"city": "Oslo"})]
        )
    )
    emulator.script(
        Reply(
            reasoning="Now Bergen.",
            tool_calls=[ScriptedToolCall("get_weather", {"city": "Bergen"})],
        )
    )
    emulator.script(Reply(reasoning="Compare.", content="Bergen is warmer.", chunk_size=3))


@pytest.mark.parametrize("endpoint", list(WIRE))
def test_the_same_thinking_agent_runs_on_every_endpoint(kimi_emulator_dialect, endpoint):
    emulator = kimi_emulator_dialect(endpoint)
    field, call_id = WIRE[endpoint]
    _script(emulator)

    agent = create_agent(_model(emulator, endpoint), tools=[get_weather])
    state = agent.invoke({"messages": [("user", "Warmer: Oslo or Bergen?")]})

    messages = state["messages"]
    assert messages[-1].text == "Bergen is warmer."
    calls = [m for m in messages if isinstance(m, AIMessage) and m.tool_calls]
    assert [c.tool_calls[0]["id"] for c in calls] == [call_id, call_id]  # repeats across turns
    results = [m for m in messages if isinstance(m, ToolMessage)]
    assert [r.content for r in results] == ["It is 12 C in Oslo.", "It is 18 C in Bergen."]
    assert messages[-1].usage_metadata["input_tokens"] > 0

    requests = emulator.chat_requests
    assert len(requests) == 3
    for body in requests:
        if endpoint == "moonshot":
            assert body["thinking"] == {"type": "enabled"}
        else:
            assert body["chat_template_kwargs"] == {"thinking": True}
            assert "thinking" not in body
    last = requests[-1]["messages"]
    turns = [m for m in last if m["role"] == "assistant"]
    assert [t[field] for t in turns] == ["Oslo first.", "Now Bergen."]
    assert all(set(t) & {"reasoning", "reasoning_content"} == {field} for t in turns)
    assert [t["tool_calls"][0]["id"] for t in turns] == [call_id, call_id]
    assert [m["tool_call_id"] for m in last if m["role"] == "tool"] == [call_id, call_id]


@pytest.mark.parametrize("endpoint", list(WIRE))
def test_streaming_shows_reasoning_before_text_and_usage_at_the_end(
    kimi_emulator_dialect, endpoint
):
    emulator = kimi_emulator_dialect(endpoint)
    emulator.script(Reply(reasoning="Short thought.", content="Hello there.", chunk_size=2))
    chunks = list(_model(emulator, endpoint).stream("Greet me."))

    kinds = []
    for chunk in chunks:
        for block in chunk.content_blocks:
            if block["type"] in ("reasoning", "text") and (
                block.get("reasoning") or block.get("text")
            ):
                kinds.append(block["type"])
    first_text = kinds.index("text")
    assert kinds[:first_text] == ["reasoning"] * first_text
    assert first_text > 0
    assert "reasoning" not in kinds[first_text:]
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    assert total.text == "Hello there."
    assert total.additional_kwargs["reasoning_content"] == "Short thought."
    assert total.usage_metadata is not None
    assert total.usage_metadata["output_tokens"] > 0
    assert emulator.chat_requests[-1]["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("endpoint", ["vllm", "sglang"])
def test_platform_tools_fail_before_the_request(kimi_emulator_dialect, endpoint):
    emulator = kimi_emulator_dialect(endpoint)
    model = _model(emulator, endpoint, thinking=False).bind_tools([{"type": "web_search"}])
    with pytest.raises(UnsupportedFeatureError, match="Web Search API"):
        model.invoke("News?")
    assert emulator.chat_requests == []


def test_empty_answer_maps_to_a_retryable_langchain_error(kimi_emulator_dialect):
    from langchain_core.exceptions import ModelError

    emulator = kimi_emulator_dialect("vllm")
    emulator.script(Reply(content="", reasoning="About to answer."))
    with pytest.raises(EmptyAnswerError) as caught:
        _model(emulator, "vllm").invoke("Hi")
    assert isinstance(caught.value, ModelError)
    assert caught.value.is_retryable
    assert caught.value.result.reasoning == "About to answer."


def test_the_model_profile_follows_the_endpoint():
    platform = ChatKimi(api_key="sk-test", endpoint="moonshot")
    vllm = ChatKimi(api_key="sk-test", base_url="https://gpu-box/v1", endpoint="vllm")
    assert platform.profile["video_inputs"] is True
    assert platform.profile["temperature"] is False  # fixed by the platform
    assert vllm.profile["video_inputs"] is False
    assert vllm.profile["temperature"] is True
    with pytest.raises(ValueError, match="is not known"):
        ChatKimi(api_key="sk-test", endpoint="tgi")
