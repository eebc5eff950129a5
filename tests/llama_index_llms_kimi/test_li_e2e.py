"""End to end: LlamaIndex agents and RAG pipelines driving ``Kimi`` against the emulator.

Each test asserts what LlamaIndex produced *and* what reached the wire (the emulator's log).
"""

from __future__ import annotations

import pytest
from kimi_core import REASONING_PLACEHOLDER
from kimi_emulator import Reply, ScriptedToolCall
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.agent.workflow import (
    AgentStream,
    AgentWorkflow,
    FunctionAgent,
    ReActAgent,
    ToolCallResult,
)
from llama_index.core.chat_engine import CondensePlusContextChatEngine
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


TOOLS = [FunctionTool.from_defaults(fn=add), FunctionTool.from_defaults(fn=multiply)]

# llama-index-workflows discovers steps with inspect.getmembers() on the (pydantic) agent, which
# reads deprecated pydantic attributes (``__fields__``, ``model_computed_fields`` on the instance,
# ...); nothing in this package can avoid that. Only warnings raised from ``inspect`` are ignored.
# BaseWorkflowAgent (ReActAgent's streaming path) calls the deprecated ``ctx.is_running``.
pytestmark = [
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning:inspect"),
    pytest.mark.filterwarnings("ignore:is_running called from within a step:DeprecationWarning"),
]


async def _run(agent, message: str):
    """Run an agent (or workflow), returning its result and every streamed event."""
    handler = agent.run(user_msg=message)
    events = [event async for event in handler.stream_events()]
    return await handler, events


def _assistant_tool_turns(body: dict) -> list[dict]:
    return [m for m in body["messages"] if m["role"] == "assistant" and m.get("tool_calls")]


async def test_function_agent_two_tools_thinking_streamed(llm, kimi_emulator) -> None:
    kimi_emulator.script(
        Reply(
            reasoning="First I add 2 and 3.",
            tool_calls=[ScriptedToolCall(name="add", arguments={"a": 2, "b": 3}, id="call_add")],
            chunk_size=4,
        )
    )
    kimi_emulator.script(
        Reply(
            reasoning="Now multiply 5 by 4.",
            tool_calls=[
                ScriptedToolCall(name="multiply", arguments={"a": 5, "b": 4}, id="call_mul")
            ],
            chunk_size=4,
        )
    )
    kimi_emulator.script(
        Reply(reasoning="The result is 20.", content="(2 + 3) * 4 = 20", chunk_size=4)
    )
    agent = FunctionAgent(tools=TOOLS, llm=llm, system_prompt="Use the tools for arithmetic.")
    result, events = await _run(agent, "What is (2 + 3) * 4?")

    assert str(result.response.content) == "(2 + 3) * 4 = 20"
    thinking = "".join(e.thinking_delta or "" for e in events if isinstance(e, AgentStream))
    assert thinking == "First I add 2 and 3.Now multiply 5 by 4.The result is 20."
    tool_results = [
        (e.tool_name, e.tool_output.content) for e in events if isinstance(e, ToolCallResult)
    ]
    assert tool_results == [("add", "5"), ("multiply", "20")]

    first, second, third = kimi_emulator.chat_requests
    for body in (first, second, third):
        assert body["stream"] is True
        assert [t["function"]["name"] for t in body["tools"]] == ["add", "multiply"]
        assert "thinking" not in body  # kimi-k2.6 thinks by default
    assert _assistant_tool_turns(first) == []
    (turn,) = _assistant_tool_turns(second)
    assert turn["reasoning_content"] == "First I add 2 and 3."
    assert turn["tool_calls"][0]["id"] == "call_add"
    assert second["messages"][-1] == {"role": "tool", "tool_call_id": "call_add", "content": "5"}
    # Every recorded tool-call turn carries its own reasoning back, never the placeholder.
    assert [t["reasoning_content"] for t in _assistant_tool_turns(third)] == [
        "First I add 2 and 3.",
        "Now multiply 5 by 4.",
    ]
    assert third["messages"][0] == {"role": "system", "content": "Use the tools for arithmetic."}


async def test_function_agent_without_streaming_uses_achat_with_tools(llm, kimi_emulator) -> None:
    agent = FunctionAgent(tools=TOOLS, llm=llm, streaming=False)
    # The emulator's brain calls the tool the user names, then quotes the tool result.
    result, events = await _run(agent, "Please add 20 and 22")
    assert [e.tool_output.content for e in events if isinstance(e, ToolCallResult)] == ["42"]
    assert "42" in str(result.response.content)
    first, second = kimi_emulator.chat_requests
    assert "stream" not in first
    (turn,) = _assistant_tool_turns(second)
    assert turn["reasoning_content"] not in ("", REASONING_PLACEHOLDER)


async def test_agent_workflow_handoff(llm, kimi_emulator) -> None:
    kimi_emulator.script(
        Reply(
            reasoning="This is arithmetic; hand it to the calculator.",
            tool_calls=[
                ScriptedToolCall(
                    name="handoff",
                    arguments={"to_agent": "calculator", "reason": "arithmetic"},
                    id="call_handoff",
                )
            ],
        )
    )
    kimi_emulator.script(
        Reply(
            reasoning="Multiply 6 by 7.",
            tool_calls=[
                ScriptedToolCall(name="multiply", arguments={"a": 6, "b": 7}, id="call_mul")
            ],
        )
    )
    kimi_emulator.script(Reply(reasoning="Done.", content="6 * 7 = 42"))
    router = FunctionAgent(
        name="router",
        description="Routes questions.",
        system_prompt="Hand arithmetic to the calculator.",
        llm=llm,
        tools=[],
        can_handoff_to=["calculator"],
    )
    calculator = FunctionAgent(
        name="calculator",
        description="Does arithmetic with tools.",
        system_prompt="Use the tools.",
        llm=llm,
        tools=[TOOLS[1]],
    )
    workflow = AgentWorkflow(agents=[router, calculator], root_agent="router")
    result, events = await _run(workflow, "What is 6 times 7?")

    assert str(result.response.content) == "6 * 7 = 42"
    assert result.current_agent_name == "calculator"
    assert [e.tool_name for e in events if isinstance(e, ToolCallResult)] == ["handoff", "multiply"]
    first, second, third = kimi_emulator.chat_requests
    assert [t["function"]["name"] for t in first["tools"]] == ["handoff"]
    assert "multiply" in [t["function"]["name"] for t in second["tools"]]
    assert second["messages"][0]["content"].startswith("Use the tools.")
    # The router's handoff turn travels to the calculator with its reasoning.
    reasoning = [t["reasoning_content"] for t in _assistant_tool_turns(third)]
    assert reasoning == ["This is arithmetic; hand it to the calculator.", "Multiply 6 by 7."]


async def test_react_agent(llm, kimi_emulator) -> None:
    kimi_emulator.script(
        Reply(
            reasoning="I should use the add tool.",
            content='Thought: I need to add.\nAction: add\nAction Input: {"a": 2, "b": 40}',
        )
    )
    kimi_emulator.script(
        Reply(
            reasoning="The tool said 42.",
            content="Thought: I can answer without using any more tools.\nAnswer: 42",
        )
    )
    agent = ReActAgent(tools=TOOLS, llm=llm)
    result, events = await _run(agent, "What is 2 + 40?")

    assert str(result.response.content) == "42"
    assert [e.tool_output.content for e in events if isinstance(e, ToolCallResult)] == ["42"]
    thinking = "".join(e.thinking_delta or "" for e in events if isinstance(e, AgentStream))
    assert thinking == "I should use the add tool.The tool said 42."
    first, second = kimi_emulator.chat_requests
    assert "tools" not in first  # ReAct drives tools through the prompt
    assert "add" in first["messages"][0]["content"]
    assert "Observation: 42" in str(second["messages"])


DOCS = [
    Document(text="The Kimi emulator listens on 127.0.0.1 and never needs a real API key."),
    Document(text="kimi-k2.6 thinks by default and has a 262,144 token context window."),
    Document(text="The $web_search builtin is echoed back by the client, not executed."),
]


def _index() -> VectorStoreIndex:
    # The tests are about the LLM; LlamaIndex's mock embedding keeps retrieval offline.
    return VectorStoreIndex.from_documents(DOCS, embed_model=MockEmbedding(embed_dim=8))


def test_vector_store_query_engine(llm, kimi_emulator) -> None:
    kimi_emulator.script(Reply(reasoning="The context says so.", content="On 127.0.0.1."))
    engine = _index().as_query_engine(llm=llm, similarity_top_k=3)
    response = engine.query("Where does the emulator listen?")
    assert str(response) == "On 127.0.0.1."
    assert len(response.source_nodes) == 3
    (body,) = kimi_emulator.chat_requests
    sent = str(body["messages"])
    assert all(doc.text in sent for doc in DOCS)
    assert "Where does the emulator listen?" in sent


def test_condense_plus_context_chat_engine(llm, kimi_emulator) -> None:
    engine = CondensePlusContextChatEngine.from_defaults(
        retriever=_index().as_retriever(similarity_top_k=3), llm=llm
    )
    kimi_emulator.script(Reply(reasoning="From the context.", content="It thinks by default."))
    first = engine.chat("Does kimi-k2.6 think?")
    kimi_emulator.script(Reply(content="How big is the context window of kimi-k2.6?"))
    kimi_emulator.script(Reply(content="262,144 tokens."))
    second = engine.chat("And how big is its context?")

    assert str(first) == "It thinks by default."
    assert str(second) == "262,144 tokens."
    answer_1, condense, answer_2 = kimi_emulator.chat_requests
    assert DOCS[1].text in answer_1["messages"][0]["content"]
    # The condense step is a completion: one user message holding the history and the question.
    assert len(condense["messages"]) == 1
    assert "And how big is its context?" in condense["messages"][0]["content"]
    assert "It thinks by default." in condense["messages"][0]["content"]
    # The history turn kept its ThinkingBlock; without preserved thinking it is not sent back.
    history = [m for m in answer_2["messages"] if m["role"] == "assistant"]
    assert history == [{"role": "assistant", "content": "It thinks by default."}]


class Answer(BaseModel):
    """The final answer of the agent."""

    result: int
    explanation: str


async def test_structured_output_with_thinking_on(llm, kimi_emulator) -> None:
    kimi_emulator.script(Reply(reasoning="Simple.", content="2 + 2 = 4"))
    kimi_emulator.script(
        Reply(reasoning="Fill the schema.", content='{"result": 4, "explanation": "2 + 2 = 4"}')
    )
    agent = FunctionAgent(tools=TOOLS, llm=llm, output_cls=Answer)
    result, _ = await _run(agent, "What is 2 + 2?")
    assert result.get_pydantic_model(Answer) == Answer(result=4, explanation="2 + 2 = 4")
    _, structured = kimi_emulator.chat_requests
    assert structured["response_format"]["type"] == "json_schema"
    assert structured["response_format"]["json_schema"]["name"] == "Answer"
    assert "thinking" not in structured  # thinking on (the model's default)
    assert "tool_choice" not in structured


async def test_web_search_inside_a_function_agent(make_llm, kimi_emulator) -> None:
    llm = make_llm(web_search=True)
    agent = FunctionAgent(tools=TOOLS, llm=llm)
    # The emulator's brain searches when asked to, then answers from the echoed results.
    result, events = await _run(agent, "Please search the web: what is the Kimi emulator?")

    assert "According to the search results" in str(result.response.content)
    assert [e for e in events if isinstance(e, ToolCallResult)] == []
    # The search is visible in the stream (AgentStream.raw), never as a tool call for the agent.
    streamed = [e.raw for e in events if isinstance(e, AgentStream) and e.raw]
    (search,) = [raw["web_search"] for raw in streamed if "web_search" in raw]
    assert search["round"] == 1
    assert streamed[-1]["web_searches"] == [search]
    first, second = kimi_emulator.chat_requests
    declared = [t["function"]["name"] for t in first["tools"]]
    assert declared == ["add", "multiply", "$web_search"]
    search_turn, echo = second["messages"][-2:]
    assert search_turn["tool_calls"][0]["function"]["name"] == "$web_search"
    assert search_turn["reasoning_content"]
    assert echo["name"] == "$web_search"
    assert echo["content"] == search_turn["tool_calls"][0]["function"]["arguments"]
