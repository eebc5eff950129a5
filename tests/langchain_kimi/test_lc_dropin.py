"""ChatKimi as a drop-in beside other models (issue 13 sections 1-4), through HTTP to the emulator.

Messages of other providers are built in the exact shapes their LangChain packages produce
(read from their source: langchain-anthropic `_format_output`, langchain-openai's Responses
output, langchain-google-genai, ChatGroq / ChatDeepSeek / ChatXAI / ChatOpenRouter keeping
reasoning in `additional_kwargs["reasoning_content"]`), with the `model_provider` they stamp.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from kimi_core import REASONING_PLACEHOLDER
from kimi_emulator import KimiEmulator, Reply
from langchain.agents import create_agent
from langchain.agents.middleware import ModelRequest, ModelResponse, wrap_model_call
from langchain_anthropic import ChatAnthropic
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.tools import tool
from langchain_kimi import ChatKimi
from pydantic import BaseModel

_CLAUDE_ID = "toolu_01A09q90qw90lq917835lq9"
_CLAUDE_META = {
    "model_provider": "anthropic",
    "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
    "model": "claude-sonnet-4-5-20250929",
    "model_name": "claude-sonnet-4-5-20250929",
    "stop_reason": "tool_use",
    "stop_sequence": None,
}
_THOUGHT = "The user wants the weather in Paris; get_weather answers that."


def _model(emu: KimiEmulator, **kwargs: Any) -> ChatKimi:
    return ChatKimi(base_url=emu.base_url, api_key=emu.api_key, **kwargs)


def _call(call_id: str) -> dict[str, Any]:
    return {"name": "get_weather", "args": {"city": "Paris"}, "id": call_id, "type": "tool_call"}


def _claude_tool_turn(*, thinking: str = _THOUGHT) -> AIMessage:
    """ChatAnthropic's message for a thinking + tool-use answer (langchain-anthropic 1.x)."""
    return AIMessage(
        content=[
            {"type": "thinking", "thinking": thinking, "signature": "ErUBCkYIBRgCIkBrn0ZwmE+f=="},
            {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rL"},
            {"type": "text", "text": "Let me check the weather in Paris."},
            {
                "type": "tool_use",
                "id": _CLAUDE_ID,
                "name": "get_weather",
                "input": {"city": "Paris"},
            },
        ],
        tool_calls=[_call(_CLAUDE_ID)],
        response_metadata=_CLAUDE_META,
        usage_metadata={"input_tokens": 412, "output_tokens": 96, "total_tokens": 508},
    )


def _claude_thread(turn: AIMessage | None = None) -> list[BaseMessage]:
    """A thread with one Claude tool round, continued by the user."""
    return [
        HumanMessage("What is the weather in Paris?"),
        turn or _claude_tool_turn(),
        ToolMessage("18C and sunny", tool_call_id=_CLAUDE_ID, name="get_weather"),
        AIMessage(
            "It is 18C and sunny in Paris.",
            response_metadata={**_CLAUDE_META, "stop_reason": "end_turn"},
        ),
        HumanMessage("And tomorrow?"),
    ]


_SENT_CLAUDE_TURN = {
    "role": "assistant",
    "content": "Let me check the weather in Paris.",
    "reasoning_content": _THOUGHT,
    "tool_calls": [
        {
            "id": _CLAUDE_ID,
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        }
    ],
}


# -- 1. histories written by other models ---------------------------------------------------------


def test_claude_thread_continues_on_kimi(kimi_emulator: KimiEmulator) -> None:
    # Was: ValueError "Unsupported content block type 'thinking'".
    _model(kimi_emulator).invoke(_claude_thread())
    sent = kimi_emulator.chat_requests[-1]["messages"]
    # The thinking text goes back as reasoning_content; the signature and the redacted block,
    # which only Anthropic can read, are dropped on purpose.
    assert sent[1] == _SENT_CLAUDE_TURN
    assert sent[2] == {
        "role": "tool",
        "tool_call_id": _CLAUDE_ID,
        "name": "get_weather",
        "content": "18C and sunny",
    }
    assert sent[3] == {"role": "assistant", "content": "It is 18C and sunny in Paris."}
    assert "signature" not in json.dumps(sent)
    assert "redacted" not in json.dumps(sent)


def test_with_fallbacks_from_chat_anthropic_to_kimi(kimi_emulator: KimiEmulator) -> None:
    # A real ChatAnthropic over HTTP to 127.0.0.1: the emulator speaks no Anthropic API, so the
    # primary fails and the fallback continues the Claude-written thread.
    claude = ChatAnthropic(  # type: ignore[call-arg]
        model="claude-sonnet-4-5-20250929",
        api_key="sk-ant-offline",  # type: ignore[arg-type]
        base_url=f"http://127.0.0.1:{kimi_emulator.port}",
        max_retries=0,
    )
    kimi_emulator.script(Reply(content="Tomorrow looks rainy.", reasoning="Forecast."))
    reply = claude.with_fallbacks([_model(kimi_emulator)]).invoke(_claude_thread())
    assert reply.text == "Tomorrow looks rainy."
    assert reply.response_metadata["model_provider"] == "moonshot"
    [body] = kimi_emulator.chat_requests
    assert body["messages"][1] == _SENT_CLAUDE_TURN
    assert body["messages"][-1] == {"role": "user", "content": "And tomorrow?"}


def test_signature_only_and_redacted_reasoning_count_as_missing(
    kimi_emulator: KimiEmulator,
) -> None:
    # Anthropic's signature-only thinking (display omitted) and a redacted block: no text.
    _model(kimi_emulator).invoke(_claude_thread(_claude_tool_turn(thinking="")))
    assert kimi_emulator.chat_requests[-1]["messages"][1]["reasoning_content"] == (
        REASONING_PLACEHOLDER
    )


def test_streamed_claude_turn_converts(kimi_emulator: KimiEmulator) -> None:
    # ChatAnthropic.stream() chunks, added up: indexed blocks, the signature in the last thinking
    # delta, tool input as partial_json (langchain-anthropic's stream shapes).
    meta = {"model_provider": "anthropic"}
    chunks = [
        AIMessageChunk([{"type": "thinking", "thinking": "The user wants ", "index": 0}]),
        AIMessageChunk(
            [{"type": "thinking", "thinking": "Paris.", "signature": "ErUB==", "index": 0}]
        ),
        AIMessageChunk([{"type": "text", "text": "Let me check.", "index": 1}]),
        AIMessageChunk(
            [
                {
                    "type": "tool_use",
                    "id": _CLAUDE_ID,
                    "name": "get_weather",
                    "input": {},
                    "index": 2,
                }
            ],
            tool_call_chunks=[{"name": "get_weather", "args": "", "id": _CLAUDE_ID, "index": 2}],
        ),
        AIMessageChunk(
            [{"type": "input_json_delta", "partial_json": '{"city": "Paris"}', "index": 2}],
            tool_call_chunks=[{"name": None, "args": '{"city": "Paris"}', "id": None, "index": 2}],
            chunk_position="last",
            response_metadata=meta,
        ),
    ]
    turn = chunks[0]
    for chunk in chunks[1:]:
        turn += chunk
    _model(kimi_emulator).invoke(_claude_thread(turn))
    assert kimi_emulator.chat_requests[-1]["messages"][1] == {
        **_SENT_CLAUDE_TURN,
        "content": "Let me check.",
        "reasoning_content": "The user wants Paris.",
    }


def _openai_responses_v1() -> AIMessage:
    # langchain-openai with use_responses_api=True (output_version "responses/v1").
    return AIMessage(
        content=[
            {
                "type": "reasoning",
                "id": "rs_68ab0c",
                "summary": [
                    {"type": "summary_text", "text": "**Weather lookup**\n\nCall get_weather."},
                    {"type": "summary_text", "text": "**Answer**\n\nReport it."},
                ],
                "encrypted_content": "gAAAAABoq8x1-opaque",
            },
            {"type": "text", "text": "Checking.", "annotations": [], "id": "msg_68ab0d"},
            {
                "type": "function_call",
                "id": "fc_68ab0e",
                "call_id": "call_Q1",
                "name": "get_weather",
                "arguments": '{"city": "Paris"}',
            },
        ],
        tool_calls=[_call("call_Q1")],
        response_metadata={"model_provider": "openai", "model_name": "gpt-5", "id": "resp_1"},
    )


def _openai_responses_v03() -> AIMessage:
    # The older Responses format: reasoning item in additional_kwargs, text blocks in content.
    return AIMessage(
        content=[{"type": "text", "text": "Checking.", "annotations": []}],
        additional_kwargs={
            "reasoning": {
                "id": "rs_1",
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "Call get_weather."}],
            }
        },
        tool_calls=[_call("call_Q1")],
        response_metadata={"model_provider": "openai", "model_name": "o4-mini"},
    )


def _gemini() -> AIMessage:
    # langchain-google-genai with include_thoughts=True.
    return AIMessage(
        content=[
            {"type": "thinking", "thinking": "Paris weather: call the tool.", "signature": "CiQB"},
            {"type": "text", "text": "Checking."},
        ],
        tool_calls=[_call("a3f9c2d1-0b6e-4c1e-9d55-5e2f3a7b8c90")],
        response_metadata={"model_provider": "google_genai", "model_name": "gemini-2.5-pro"},
    )


def _reasoning_content(provider: str, call_id: str, **extra: Any) -> AIMessage:
    # ChatGroq, ChatDeepSeek, ChatXAI, ChatOpenRouter: reasoning as a string beside the content.
    return AIMessage(
        "Checking.",
        additional_kwargs={"reasoning_content": "Call get_weather.", **extra},
        tool_calls=[_call(call_id)],
        response_metadata={"model_provider": provider},
    )


_OTHER_MODELS: dict[str, tuple[Callable[[], AIMessage], str]] = {
    "openai-responses-v1": (
        _openai_responses_v1,
        "**Weather lookup**\n\nCall get_weather.\n\n**Answer**\n\nReport it.",
    ),
    "openai-responses-v0.3": (_openai_responses_v03, "Call get_weather."),
    "google-genai": (_gemini, "Paris weather: call the tool."),
    "groq": (lambda: _reasoning_content("groq", "call_gq1"), "Call get_weather."),
    "deepseek": (lambda: _reasoning_content("deepseek", "call_00_ds1"), "Call get_weather."),
    "xai": (lambda: _reasoning_content("xai", "call_xai1"), "Call get_weather."),
    "openrouter": (
        lambda: _reasoning_content(
            "openrouter",
            "call_or1",
            reasoning_details=[{"type": "reasoning.text", "text": "Call get_weather.", "index": 0}],
        ),
        "Call get_weather.",
    ),
}


@pytest.mark.parametrize("maker", [v[0] for v in _OTHER_MODELS.values()], ids=list(_OTHER_MODELS))
def test_tool_turns_of_other_providers_convert(
    kimi_emulator: KimiEmulator, maker: Callable[[], AIMessage]
) -> None:
    turn = maker()
    reasoning = next(r for m, r in _OTHER_MODELS.values() if m is maker)
    call_id = turn.tool_calls[0]["id"]
    assert call_id is not None
    _model(kimi_emulator).invoke(
        [
            HumanMessage("What is the weather in Paris?"),
            turn,
            ToolMessage("18C and sunny", tool_call_id=call_id),
        ]
    )
    sent = kimi_emulator.chat_requests[-1]["messages"][1]
    assert sent == {
        "role": "assistant",
        "content": "Checking.",
        "reasoning_content": reasoning,
        "tool_calls": [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    }


def test_openai_refusal_goes_back_as_the_turn_text(kimi_emulator: KimiEmulator) -> None:
    refusal = AIMessage(
        "",
        additional_kwargs={"refusal": "I can't help with that."},
        response_metadata={"model_provider": "openai", "model_name": "gpt-4o"},
    )
    _model(kimi_emulator).invoke([HumanMessage("x"), refusal, HumanMessage("Why not?")])
    assert kimi_emulator.chat_requests[-1]["messages"][1] == {
        "role": "assistant",
        "content": "I can't help with that.",
    }


class _ClaudeFake(GenericFakeChatModel):
    """A first model that answers like ChatAnthropic (bind_tools is a no-op for the fake)."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> _ClaudeFake:  # type: ignore[override]
        return self


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"18C and sunny in {city}"


def test_create_agent_switching_model_mid_run(kimi_emulator: KimiEmulator) -> None:
    kimi = _model(kimi_emulator)

    @wrap_model_call
    def claude_then_kimi(
        request: ModelRequest, handler: Callable[[ModelRequest], ModelResponse]
    ) -> ModelResponse:
        # After the first tool round the run continues on Kimi (a cost or outage switch).
        if any(isinstance(m, ToolMessage) for m in request.messages):
            return handler(request.override(model=kimi))
        return handler(request)

    first = _ClaudeFake(messages=iter([_claude_tool_turn()]))
    agent = create_agent(first, tools=[get_weather], middleware=[claude_then_kimi])
    kimi_emulator.script(Reply(content="It is 18C and sunny in Paris.", reasoning="Done."))
    result = agent.invoke({"messages": [HumanMessage("What is the weather in Paris?")]})
    assert result["messages"][-1].text == "It is 18C and sunny in Paris."
    [body] = kimi_emulator.chat_requests
    assert body["messages"][1] == _SENT_CLAUDE_TURN
    assert body["messages"][2] == {
        "role": "tool",
        "tool_call_id": _CLAUDE_ID,
        "name": "get_weather",
        "content": "18C and sunny in Paris",
    }
    assert [t["function"]["name"] for t in body["tools"]] == ["get_weather"]


# -- 2. arguments, the LangChain way -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "suggestion"),
    [({"max_token": 5}, "max_tokens"), ({"thinkng": False}, "thinking")],
)
def test_close_misspelling_raises_with_the_field_it_resembles(
    kwargs: dict[str, Any], suggestion: str
) -> None:
    # Was: accepted and silently ignored.
    with pytest.raises(ValueError, match=rf"did you mean `{suggestion}`\?"):
        ChatKimi(api_key="k", **kwargs)


def test_unknown_argument_moves_into_model_kwargs_with_a_warning(
    kimi_emulator: KimiEmulator,
) -> None:
    with pytest.warns(UserWarning, match="'top_k' is not a ChatKimi parameter"):
        model = _model(kimi_emulator, top_k=20)
    assert model.model_kwargs == {"top_k": 20}
    model.invoke("Hello")
    assert kimi_emulator.chat_requests[-1]["top_k"] == 20


def test_unknown_n_is_checked_not_ignored(kimi_emulator: KimiEmulator) -> None:
    # Was: ChatKimi(n=3) accepted, n never sent. Now n is a setting, checked at construction.
    with pytest.raises(ValueError, match="only accepts n=1"):
        _model(kimi_emulator, n=3)
    assert kimi_emulator.chat_requests == []


@pytest.mark.parametrize("model_name", ["kimi-k2.6", "moonshot-v1-8k"])
def test_model_kwargs_n_cannot_slip_past_the_guard(
    kimi_emulator: KimiEmulator, model_name: str
) -> None:
    # Was: the n=1 guard ran before model_kwargs were merged, so n=2 was sent.
    with pytest.raises(ValueError, match="'n': use n"):
        _model(kimi_emulator, model=model_name, model_kwargs={"n": 2})
    with pytest.raises(ValueError, match=r"n=1|n=2 is not supported"):
        _model(kimi_emulator, model=model_name).invoke("Hello", n=2)
    assert kimi_emulator.chat_requests == []


@pytest.mark.parametrize(
    ("model_kwargs", "fix"),
    [
        ({"tools": []}, "'tools': use tools"),
        ({"stream": True}, "'stream': use the streaming call"),
        ({"max_completion_tokens": 5}, "'max_completion_tokens': use max_completion_tokens"),
    ],
)
def test_model_kwargs_may_not_set_managed_fields(
    kimi_emulator: KimiEmulator, model_kwargs: dict[str, Any], fix: str
) -> None:
    with pytest.raises(ValueError, match=fix):
        _model(kimi_emulator, model_kwargs=model_kwargs)
    with pytest.raises(ValueError, match="'tools': use tools"):
        _model(kimi_emulator).invoke("Hello", extra_body={"tools": []})
    assert kimi_emulator.chat_requests == []


def test_kimi_settings_are_arguments_checked_not_model_kwargs(kimi_emulator: KimiEmulator) -> None:
    # Every kimi-core setting is a ChatKimi argument; model_kwargs may not shadow one (issue 17).
    model = _model(kimi_emulator, safety_identifier="u1", logprobs=True)
    model.invoke("Hello")
    body = kimi_emulator.chat_requests[-1]
    assert (body["safety_identifier"], body["logprobs"]) == ("u1", True)
    with pytest.raises(ValueError, match="top_logprobs needs logprobs=True"):
        _model(kimi_emulator, top_logprobs=3).invoke("Hello")
    with pytest.raises(ValueError, match="'safety_identifier': use safety_identifier"):
        _model(kimi_emulator, model_kwargs={"safety_identifier": "u1"})


# -- 3. habits from other providers ---------------------------------------------------------------


def test_temperature_zero_is_left_out_with_one_warning_and_an_adjustment(
    kimi_emulator: KimiEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    # Was: ValueError at construction.
    with caplog.at_level(logging.WARNING, logger="kimi_core"):
        model = _model(kimi_emulator, temperature=0)
        first = model.invoke("Hello")
        model.invoke("Hello again")
        chunks = list(model.stream("Hello"))
    [warning] = [r.getMessage() for r in caplog.records]
    assert "kimi-k2.6 only accepts temperature=1 with thinking on" in warning
    for body in kimi_emulator.chat_requests:
        assert "temperature" not in body
    [note] = first.response_metadata["adjustments"]
    assert "temperature=0" in note
    assert "sampling_policy='omit'" in note
    assert chunks[-1].response_metadata["adjustments"] == [note]


def test_per_call_temperature_habit_warns_once_per_instance(
    kimi_emulator: KimiEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    model = _model(kimi_emulator)
    with caplog.at_level(logging.WARNING, logger="kimi_core"):
        replies = [model.invoke("Hello", temperature=0) for _ in range(3)]
        _model(kimi_emulator).invoke("Hello", temperature=0)  # another instance warns again
    assert len(caplog.records) == 2
    assert all("temperature=0" in r.getMessage() for r in caplog.records)
    assert all(len(r.response_metadata["adjustments"]) == 1 for r in replies)
    assert all("temperature" not in body for body in kimi_emulator.chat_requests)


def test_sampling_policy_error_keeps_the_strict_behaviour(kimi_emulator: KimiEmulator) -> None:
    with pytest.raises(ValueError, match="only accepts temperature=1 with thinking on"):
        _model(kimi_emulator, temperature=0, sampling_policy="error")
    strict = _model(kimi_emulator, sampling_policy="error")
    with pytest.raises(ValueError, match="only accepts temperature=1"):
        strict.invoke("Hello", temperature=0)
    assert kimi_emulator.chat_requests == []


# -- 4. structured output under thinking ----------------------------------------------------------


class Joke(BaseModel):
    """A joke."""

    setup: str
    punchline: str


_PROSE = Reply(content="Why did the cat sit on the laptop? To watch the mouse.", reasoning="Cats.")


def test_function_calling_answered_in_prose_raises(kimi_emulator: KimiEmulator) -> None:
    # Was: None. kimi-k2.6 thinking cannot be forced to call the tool, so tool_choice is "auto".
    kimi_emulator.script(_PROSE)
    structured = _model(kimi_emulator).with_structured_output(Joke, method="function_calling")
    with pytest.raises(OutputParserException) as info:
        structured.invoke("Tell me a joke about cats")
    message = str(info.value)
    assert "answered in text instead of calling the 'Joke' tool" in message
    assert "rejects a named tool_choice ('Joke') with thinking on" in message
    assert "method='json_schema'" in message
    body = kimi_emulator.chat_requests[-1]
    assert body["tool_choice"] == "auto"
    assert [t["function"]["name"] for t in body["tools"]] == ["Joke"]


def test_function_calling_include_raw_returns_the_parsing_error(
    kimi_emulator: KimiEmulator,
) -> None:
    kimi_emulator.script(_PROSE)
    structured = _model(kimi_emulator).with_structured_output(
        {"title": "Joke", "type": "object", "properties": {"setup": {"type": "string"}}},
        method="function_calling",
        include_raw=True,
    )
    result = structured.invoke("Tell me a joke about cats")
    assert result["parsed"] is None
    assert isinstance(result["parsing_error"], OutputParserException)
    assert "answered in text" in str(result["parsing_error"])
    assert result["raw"].text == _PROSE.content
    assert kimi_emulator.chat_requests[-1]["tool_choice"] == "auto"
