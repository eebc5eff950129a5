"""``Kimi`` as a drop-in beside other LlamaIndex LLMs (issue 13 sections 1, 3, 4), over HTTP.

Assistant turns are built in the shapes other integrations write (read from their source):
llama-index-llms-anthropic 0.9+ (``ThinkingBlock`` with ``additional_information`` holding the
signature, ``ToolCallBlock``, ``CitationBlock``), its older releases (Anthropic ``tool_use``
dicts and a ``thinking`` dict in ``additional_kwargs``), and OpenAI-compatible LLMs (SDK tool-call
objects in ``additional_kwargs``, ``reasoning_content`` beside them).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
from kimi_core import REASONING_PLACEHOLDER
from kimi_emulator import KimiEmulator, Reply, ScriptedToolCall
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import (
    ChatMessage,
    CitationBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.memory import Memory
from llama_index.core.program import FunctionCallingProgram
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from llama_index.core.types import PydanticProgramMode
from llama_index.llms.kimi import Kimi
from openai.types.chat import ChatCompletionMessageToolCall
from pydantic import BaseModel

_ID = "toolu_01A09q90qw90lq917835lq9"
_THOUGHT = "The user wants the weather in Paris; get_weather answers that."
_SENT_CALLS = [
    {
        "id": _ID,
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
]


def _claude_turn(thinking: str = _THOUGHT) -> ChatMessage:
    """What llama-index-llms-anthropic's chat() returns for a thinking + tool-use answer."""
    return ChatMessage(
        role=MessageRole.ASSISTANT,
        blocks=[
            ThinkingBlock(
                content=thinking,
                additional_information={"signature": "ErUBCkYIBRgCIkBrn0Zw==", "type": "thinking"},
            ),
            TextBlock(text="Let me check the weather in Paris."),
            CitationBlock(
                cited_content=TextBlock(text="Paris: 18C, sunny (weather.example)"),
                source="https://weather.example/paris",
                title="Paris weather",
                additional_location_info={"search_result_index": 0},
            ),
            ToolCallBlock(tool_call_id=_ID, tool_name="get_weather", tool_kwargs={"city": "Paris"}),
        ],
    )


def _old_claude_turn() -> ChatMessage:
    """Older llama-index-llms-anthropic: Anthropic's own blocks kept in additional_kwargs."""
    return ChatMessage(
        role=MessageRole.ASSISTANT,
        content="Let me check the weather in Paris.",
        additional_kwargs={
            "tool_calls": [
                {"id": _ID, "input": {"city": "Paris"}, "name": "get_weather", "type": "tool_use"}
            ],
            "thinking": {"signature": "ErUBCkYIBRgC==", "thinking": _THOUGHT, "type": "thinking"},
        },
    )


def _openai_like_turn() -> ChatMessage:
    """OpenAI / OpenAILike: SDK tool-call objects, reasoning_content from the raw message."""
    call = ChatCompletionMessageToolCall(
        id=_ID,
        type="function",
        function={"name": "get_weather", "arguments": '{"city": "Paris"}'},  # type: ignore[arg-type]
    )
    return ChatMessage(
        role=MessageRole.ASSISTANT,
        content="Let me check the weather in Paris.",
        additional_kwargs={"tool_calls": [call], "reasoning_content": _THOUGHT},
    )


def _history(turn: ChatMessage) -> list[ChatMessage]:
    return [
        ChatMessage(role=MessageRole.USER, content="What is the weather in Paris?"),
        turn,
        ChatMessage(
            role=MessageRole.TOOL, content="18C and sunny", additional_kwargs={"tool_call_id": _ID}
        ),
    ]


_TURNS: dict[str, Callable[[], ChatMessage]] = {
    "anthropic-blocks": _claude_turn,
    "anthropic-additional-kwargs": _old_claude_turn,
    "openai-like": _openai_like_turn,
}


@pytest.mark.parametrize("maker", list(_TURNS.values()), ids=list(_TURNS))
def test_turns_written_by_other_llms_convert(
    llm: Kimi, kimi_emulator: KimiEmulator, maker: Callable[[], ChatMessage]
) -> None:
    # Was: the Anthropic tool_use dicts raised ValueError; the cited text was sent as if the
    # model had said it; the reasoning in additional_kwargs was replaced by the placeholder.
    llm.chat(_history(maker()))
    assert kimi_emulator.chat_requests[-1]["messages"][1] == {
        "role": "assistant",
        "content": "Let me check the weather in Paris.",
        "reasoning_content": _THOUGHT,
        "tool_calls": _SENT_CALLS,
    }


def test_signature_only_thinking_counts_as_missing(llm: Kimi, kimi_emulator: KimiEmulator) -> None:
    # Anthropic streams the signature into an empty ThinkingBlock when thinking is not shown.
    llm.chat(_history(_claude_turn(thinking="")))
    sent = kimi_emulator.chat_requests[-1]["messages"][1]
    assert sent["reasoning_content"] == REASONING_PLACEHOLDER
    assert "ErUB" not in json.dumps(kimi_emulator.chat_requests[-1])


def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"18C and sunny in {city}"


@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning:inspect")
async def test_function_agent_memory_written_by_another_llm(
    llm: Kimi, kimi_emulator: KimiEmulator
) -> None:
    memory = Memory.from_defaults(session_id="thread-1", token_limit=40_000)
    await memory.aput_messages(
        [
            *_history(_claude_turn()),
            ChatMessage(role=MessageRole.ASSISTANT, content="It is 18C and sunny in Paris."),
        ]
    )
    agent = FunctionAgent(tools=[FunctionTool.from_defaults(get_weather)], llm=llm)
    kimi_emulator.script(Reply(content="Tomorrow looks rainy.", reasoning="Forecast."))
    result = await agent.run(user_msg="And tomorrow?", memory=memory)
    assert "rainy" in str(result.response.content)
    [body] = kimi_emulator.chat_requests
    assert body["messages"][:4] == [
        {"role": "user", "content": "What is the weather in Paris?"},
        {
            "role": "assistant",
            "content": "Let me check the weather in Paris.",
            "reasoning_content": _THOUGHT,
            "tool_calls": _SENT_CALLS,
        },
        {"role": "tool", "tool_call_id": _ID, "content": "18C and sunny"},
        {"role": "assistant", "content": "It is 18C and sunny in Paris."},
    ]
    assert body["messages"][-1] == {"role": "user", "content": "And tomorrow?"}


# -- 3. habits from other providers ---------------------------------------------------------------


def test_temperature_habit_is_left_out_with_one_warning_and_an_adjustment(
    make_llm: Callable[..., Kimi], kimi_emulator: KimiEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    # LlamaIndex's OpenAI LLM defaults to temperature=0.1; apps carry it over. Was: ValueError.
    with caplog.at_level(logging.WARNING, logger="kimi_core"):
        llm = make_llm(temperature=0.1)
        response = llm.chat([ChatMessage(role=MessageRole.USER, content="hi")])
        streamed = list(llm.stream_chat([ChatMessage(role=MessageRole.USER, content="hi")]))
    [warning] = [r.getMessage() for r in caplog.records]
    assert "kimi-k2.6 only accepts temperature=1 with thinking on" in warning
    assert all("temperature" not in body for body in kimi_emulator.chat_requests)
    [note] = response.additional_kwargs["adjustments"]
    assert "temperature=0.1 is left out of the request" in note
    assert streamed[-1].additional_kwargs["adjustments"] == [note]


def test_sampling_policy_error_raises_before_sending(
    make_llm: Callable[..., Kimi], kimi_emulator: KimiEmulator
) -> None:
    with pytest.raises(ValueError, match="only accepts temperature=1 with thinking on"):
        make_llm(temperature=0, sampling_policy="error")
    with pytest.raises(ValueError, match="'n': use the n setting"):
        make_llm(additional_kwargs={"n": 2})
    assert kimi_emulator.chat_requests == []


# -- 4. structured output under thinking ----------------------------------------------------------


class Joke(BaseModel):
    """A joke."""

    setup: str
    punchline: str


_PROMPT = PromptTemplate("Tell me a joke about {topic}")
_PROSE = Reply(content="Why did the cat sit on the laptop? To watch the mouse.", reasoning="Cats.")
_CAUSE = "kimi-k2.6 rejects tool_choice='required' with thinking on"


@pytest.fixture
def function_llm(make_llm: Callable[..., Kimi]) -> Kimi:
    return make_llm(pydantic_program_mode=PydanticProgramMode.FUNCTION)


def _assert_explained(error: BaseException, kimi_emulator: KimiEmulator) -> None:
    assert isinstance(error, ValueError)
    assert "the model made none" in str(error)
    assert _CAUSE in str(error)
    assert "pydantic_program_mode" in str(error)
    body = kimi_emulator.chat_requests[-1]
    assert body["tool_choice"] == "auto"
    assert [t["function"]["name"] for t in body["tools"]] == ["Joke"]


def test_structured_predict_in_prose_names_cause_and_fix(
    function_llm: Kimi, kimi_emulator: KimiEmulator
) -> None:
    kimi_emulator.script(_PROSE)
    with pytest.raises(ValueError) as info:
        function_llm.structured_predict(Joke, _PROMPT, topic="cats")
    _assert_explained(info.value, kimi_emulator)


def test_function_calling_program_in_prose_names_cause_and_fix(
    llm: Kimi, kimi_emulator: KimiEmulator
) -> None:
    kimi_emulator.script(_PROSE)
    program = FunctionCallingProgram.from_defaults(output_cls=Joke, prompt=_PROMPT, llm=llm)
    with pytest.raises(ValueError) as info:
        program(topic="cats")
    _assert_explained(info.value, kimi_emulator)


def test_structured_llm_stream_in_prose_raises_instead_of_empty_objects(
    function_llm: Kimi, kimi_emulator: KimiEmulator
) -> None:
    # Was: objects with every field None, and tool_choice never sent.
    kimi_emulator.script(_PROSE)
    structured = function_llm.as_structured_llm(Joke)
    with pytest.raises(ValueError) as info:
        list(structured.stream_chat([ChatMessage(role=MessageRole.USER, content="A cat joke")]))
    _assert_explained(info.value, kimi_emulator)


def test_function_mode_stream_reads_the_tool_call(
    function_llm: Kimi, kimi_emulator: KimiEmulator
) -> None:
    # Was: every streamed object empty even when the model called the tool (LlamaIndex's
    # stream_call reads calls from additional_kwargs; Kimi returns ToolCallBlocks).
    kimi_emulator.script(
        Reply(
            tool_calls=[ScriptedToolCall("Joke", {"setup": "A cat", "punchline": "sat"})],
            chunk_size=4,
        )
    )
    objects = list(function_llm.stream_structured_predict(Joke, _PROMPT, topic="cats"))
    assert objects[-1] == Joke(setup="A cat", punchline="sat")
    assert kimi_emulator.chat_requests[-1]["tool_choice"] == "auto"


async def test_async_function_mode_stream_in_prose_raises(
    function_llm: Kimi, kimi_emulator: KimiEmulator
) -> None:
    kimi_emulator.script(_PROSE)
    with pytest.raises(ValueError) as info:
        async for _ in await function_llm.astream_structured_predict(Joke, _PROMPT, topic="cats"):
            pass
    _assert_explained(info.value, kimi_emulator)
