"""One LlamaIndex FunctionAgent, three servers: the platform, vLLM and SGLang dialects.

The agent code is the same for each; only ``base_url`` and ``endpoint`` change. What reached the
wire is read from the emulator's request log.
"""

from __future__ import annotations

import pytest
from kimi_core import EmptyAnswerError, UnsupportedFeatureError
from kimi_emulator import KimiEmulator, Reply, ScriptedToolCall
from llama_index.core.agent.workflow import AgentStream, FunctionAgent, ToolCallResult
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.tools import FunctionTool
from llama_index.llms.kimi import Kimi

pytestmark = [
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning:inspect"),
    pytest.mark.filterwarnings("ignore:is_running called from within a step:DeprecationWarning"),
]

# The reasoning field each server reads back, and the tool-call ids it writes.
WIRE = {
    "moonshot": ("reasoning_content", "add_0"),
    "vllm": ("reasoning", "functions.add:0"),
    "sglang": ("reasoning_content", "functions.add:0"),
}


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def _llm(emulator: KimiEmulator, endpoint: str, **kwargs) -> Kimi:
    kwargs.setdefault("thinking", True)
    return Kimi(
        api_key=emulator.api_key,
        base_url=emulator.base_url,
        endpoint=endpoint,
        max_retries=0,
        **kwargs,
    )


@pytest.mark.parametrize("endpoint", list(WIRE))
async def test_the_same_function_agent_runs_on_every_endpoint(kimi_emulator_dialect, endpoint):
    emulator = kimi_emulator_dialect(endpoint)
    field, call_id = WIRE[endpoint]
    emulator.script(
        Reply(
            reasoning="Add 2 and 3.",
            tool_calls=[ScriptedToolCall("add", {"a": 2, "b": 3})],
            chunk_size=4,
        )
    )
    emulator.script(
        Reply(
            reasoning="Add 5 and 4.",
            tool_calls=[ScriptedToolCall("add", {"a": 5, "b": 4})],
            chunk_size=4,
        )
    )
    emulator.script(Reply(reasoning="Done.", content="2 + 3 + 4 = 9", chunk_size=4))

    agent = FunctionAgent(tools=[FunctionTool.from_defaults(fn=add)], llm=_llm(emulator, endpoint))
    handler = agent.run(user_msg="What is 2 + 3 + 4?")
    events = [event async for event in handler.stream_events()]
    result = await handler

    assert str(result.response.content) == "2 + 3 + 4 = 9"
    thinking = "".join(e.thinking_delta or "" for e in events if isinstance(e, AgentStream))
    assert thinking == "Add 2 and 3.Add 5 and 4.Done."
    # Reasoning streams before the answer text.
    first_text = next(i for i, e in enumerate(events) if isinstance(e, AgentStream) and e.delta)
    last_thought = max(
        i for i, e in enumerate(events) if isinstance(e, AgentStream) and e.thinking_delta
    )
    assert last_thought < first_text
    outputs = [e.tool_output.content for e in events if isinstance(e, ToolCallResult)]
    assert outputs == ["5", "9"]
    assert [e.tool_id for e in events if isinstance(e, ToolCallResult)] == [call_id, call_id]

    requests = emulator.chat_requests
    assert len(requests) == 3
    for body in requests:
        assert body["stream"] is True
        if endpoint == "moonshot":
            assert body["thinking"] == {"type": "enabled"}
        else:
            assert body["chat_template_kwargs"] == {"thinking": True}
    last = requests[-1]["messages"]
    turns = [m for m in last if m["role"] == "assistant"]
    assert [t[field] for t in turns] == ["Add 2 and 3.", "Add 5 and 4."]
    assert all(set(t) & {"reasoning", "reasoning_content"} == {field} for t in turns)
    assert [t["tool_calls"][0]["id"] for t in turns] == [call_id, call_id]
    assert [m["tool_call_id"] for m in last if m["role"] == "tool"] == [call_id, call_id]


@pytest.mark.parametrize("endpoint", list(WIRE))
def test_usage_is_read_where_each_server_puts_it(kimi_emulator_dialect, endpoint):
    emulator = kimi_emulator_dialect(endpoint)
    emulator.script(Reply(reasoning="Hm.", content="Hi."))
    response = _llm(emulator, endpoint).chat([ChatMessage(role="user", content="Hello")])
    usage = response.raw["usage"]
    assert usage["prompt_tokens"] > 0
    assert response.additional_kwargs["prompt_tokens"] == usage["prompt_tokens"]
    assert response.additional_kwargs["completion_tokens"] == usage["completion_tokens"]
    raw_choice = response.raw["choices"][0]
    assert ("usage" in raw_choice) is False


@pytest.mark.parametrize("endpoint", ["vllm", "sglang"])
def test_web_search_fails_before_the_request(kimi_emulator_dialect, endpoint):
    emulator = kimi_emulator_dialect(endpoint)
    llm = _llm(emulator, endpoint, thinking=False, web_search=True)
    with pytest.raises(UnsupportedFeatureError, match=r"web_search.*Web Search API"):
        llm.chat([ChatMessage(role="user", content="News?")])
    assert emulator.chat_requests == []


def test_empty_answer_is_a_typed_error(kimi_emulator_dialect):
    emulator = kimi_emulator_dialect("sglang")
    emulator.script(Reply(content="", reasoning="About to answer."))
    with pytest.raises(EmptyAnswerError) as caught:
        _llm(emulator, "sglang").chat([ChatMessage(role="user", content="Hi")])
    assert caught.value.retryable
