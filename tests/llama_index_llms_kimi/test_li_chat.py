"""chat / stream / complete, sync and async, against the emulator; what was sent and received."""

from __future__ import annotations

import pytest
from kimi_core import REASONING_PLACEHOLDER, QuotaExhaustedError
from kimi_emulator import Fault, Reply
from llama_index.core.base.llms.types import (
    ChatMessage,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events.llm import (
    LLMChatEndEvent,
    LLMChatInProgressEvent,
    LLMChatStartEvent,
)
from llama_index.core.instrumentation.span_handlers import SimpleSpanHandler

STREAMED = Reply(
    reasoning="Let me think.",
    content="Hello there!",
    reasoning_chunks=["Let ", "me ", "think."],
    content_chunks=["Hel", "lo ", "there!"],
)


def user(text: str) -> list[ChatMessage]:
    return [ChatMessage(role="user", content=text)]


def test_chat_returns_thinking_then_text_with_usage(llm, kimi_emulator) -> None:
    kimi_emulator.script(Reply(content="Paris.", reasoning="The capital of France."))
    response = llm.chat(user("Capital of France?"))
    thinking, text = response.message.blocks
    assert isinstance(thinking, ThinkingBlock)
    assert thinking.content == "The capital of France."
    assert thinking.num_tokens == response.additional_kwargs["reasoning_tokens"] > 0
    assert isinstance(text, TextBlock)
    assert response.message.content == "Paris."
    usage = response.additional_kwargs
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    assert usage["reasoning_tokens"] > 0
    assert {"cached_tokens", "finish_reason", "request_id"} <= set(usage)
    assert response.raw["choices"][0]["message"]["content"] == "Paris."


async def test_achat(llm, kimi_emulator) -> None:
    kimi_emulator.script(Reply(content="Paris.", reasoning="Easy."))
    response = await llm.achat(user("Capital of France?"))
    assert [type(b) for b in response.message.blocks] == [ThinkingBlock, TextBlock]
    assert response.message.content == "Paris."
    assert kimi_emulator.chat_requests[0]["messages"] == [
        {"role": "user", "content": "Capital of France?"}
    ]


def _check_stream(responses: list, *, per_event: bool) -> None:
    thinking = [r.additional_kwargs.get("thinking_delta") for r in responses]
    deltas = [r.delta for r in responses if r.delta]
    if per_event:
        assert [t for t in thinking if t] == ["Let ", "me ", "think."]
        assert deltas == ["Hel", "lo ", "there!"]
    else:
        # Events from one network read may come as one response; what they say is the same.
        assert "".join(t for t in thinking if t) == "Let me think."
        assert "".join(deltas) == "Hello there!"
    # Every response carries the whole message so far, thinking first.
    first = responses[0].message.blocks
    assert isinstance(first[0], ThinkingBlock)
    assert first[0].content == (thinking[0] or "")
    seen_text = ""
    for response in responses:
        seen_text += response.delta or ""
        assert (response.message.content or "") == seen_text
    final = responses[-1]
    thinking_block, text_block = final.message.blocks
    assert thinking_block.content == "Let me think."
    assert thinking_block.num_tokens == final.additional_kwargs["reasoning_tokens"] > 0
    assert text_block.text == "Hello there!"
    assert final.additional_kwargs["finish_reason"] == "stop"
    assert final.additional_kwargs["total_tokens"] > 0


@pytest.mark.parametrize("coalesce", [True, False], ids=["coalesced", "per-event"])
def test_stream_chat_keeps_the_first_chunk_and_accumulates(
    make_llm, kimi_emulator, coalesce
) -> None:
    kimi_emulator.script(STREAMED)
    responses = list(make_llm(coalesce_stream=coalesce).stream_chat(user("hi")))
    _check_stream(responses, per_event=not coalesce)
    body = kimi_emulator.chat_requests[0]
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("coalesce", [True, False], ids=["coalesced", "per-event"])
async def test_astream_chat_keeps_the_first_chunk_and_accumulates(
    make_llm, kimi_emulator, coalesce
) -> None:
    kimi_emulator.script(STREAMED)
    llm = make_llm(coalesce_stream=coalesce)
    responses = [r async for r in await llm.astream_chat(user("hi"))]
    _check_stream(responses, per_event=not coalesce)


def test_a_long_coalesced_stream_says_what_the_per_event_stream_says(
    make_llm, kimi_emulator
) -> None:
    # Guards the issue-6 fix (each response carries the whole message, so merging the events of
    # one read keeps a long answer from being copied per token) by behaviour, not by timing.
    reply = Reply(reasoning="why " * 400, content="word " * 400, chunk_size=5)
    answers = []
    for coalesce in (False, True):
        kimi_emulator.script(reply)
        answers.append(list(make_llm(coalesce_stream=coalesce).stream_chat(user("hi"))))
    per_event, coalesced = answers
    assert len(coalesced) <= len(per_event)
    for responses in answers:
        assert "".join(r.delta or "" for r in responses) == "word " * 400
        thinking = (r.additional_kwargs.get("thinking_delta") or "" for r in responses)
        assert "".join(thinking) == "why " * 400
    assert coalesced[-1].message.blocks == per_event[-1].message.blocks
    # The same usage and finish (request ids and prompt-cache hits differ between two calls).
    same = ("finish_reason", "completion_tokens", "reasoning_tokens")
    assert {k: coalesced[-1].additional_kwargs[k] for k in same} == {
        k: per_event[-1].additional_kwargs[k] for k in same
    }


def test_complete_goes_through_chat(llm, kimi_emulator) -> None:
    kimi_emulator.script(Reply(content="42"))
    assert llm.complete("What is 6*7?").text == "42"
    kimi_emulator.script(Reply(content="Hello there!", content_chunks=3))
    chunks = list(llm.stream_complete("Say hello"))
    assert "".join(c.delta or "" for c in chunks) == "Hello there!"
    assert chunks[-1].text == "Hello there!"
    for body in kimi_emulator.chat_requests:
        assert body["messages"][0]["role"] == "user"
        assert len(body["messages"]) == 1


async def test_acomplete_and_astream_complete(llm, kimi_emulator) -> None:
    kimi_emulator.script(Reply(content="42"))
    assert (await llm.acomplete("What is 6*7?")).text == "42"
    kimi_emulator.script(Reply(content="Hello there!", content_chunks=3))
    chunks = [c async for c in await llm.astream_complete("Say hello")]
    assert chunks[-1].text == "Hello there!"
    assert [b["messages"][0]["content"] for b in kimi_emulator.chat_requests] == [
        "What is 6*7?",
        "Say hello",
    ]


class _Recorder(BaseEventHandler):
    events: list = []

    @classmethod
    def class_name(cls) -> str:
        return "Recorder"

    def handle(self, event, **kwargs) -> None:
        self.events.append(event)


def test_instrumentation_events_for_chat_and_stream(llm, kimi_emulator) -> None:
    recorder = _Recorder(events=[])
    dispatcher = get_dispatcher()
    dispatcher.add_event_handler(recorder)
    try:
        llm.chat(user("hi"))
        kimi_emulator.script(STREAMED)
        streamed = list(llm.stream_chat(user("hi")))
    finally:
        dispatcher.event_handlers.remove(recorder)
    kinds = [type(e) for e in recorder.events]
    assert kinds.count(LLMChatStartEvent) == 2
    assert kinds.count(LLMChatEndEvent) == 2
    assert kinds.count(LLMChatInProgressEvent) == len(streamed)
    start = next(e for e in recorder.events if isinstance(e, LLMChatStartEvent))
    assert start.model_dict["model_name"] == "kimi-k2.6"


def _tool_history(with_thinking: bool) -> list[ChatMessage]:
    blocks = [ThinkingBlock(content="I need the weather.")] if with_thinking else []
    blocks.append(
        ToolCallBlock(tool_call_id="call_1", tool_name="get_weather", tool_kwargs={"city": "Oslo"})
    )
    return [
        ChatMessage(role="user", content="Weather in Oslo?"),
        ChatMessage(role="assistant", blocks=blocks),
        ChatMessage(role="tool", content="12C", additional_kwargs={"tool_call_id": "call_1"}),
    ]


def test_thinking_block_goes_back_as_reasoning_content(llm, kimi_emulator) -> None:
    llm.chat(_tool_history(with_thinking=True))
    assistant, tool = kimi_emulator.chat_requests[0]["messages"][1:]
    assert assistant == {
        "role": "assistant",
        "reasoning_content": "I need the weather.",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
            }
        ],
    }
    assert tool == {"role": "tool", "tool_call_id": "call_1", "content": "12C"}


def test_missing_reasoning_gets_kimi_cores_placeholder(llm, kimi_emulator) -> None:
    llm.chat(_tool_history(with_thinking=False))
    assistant = kimi_emulator.chat_requests[0]["messages"][1]
    assert assistant["reasoning_content"] == REASONING_PLACEHOLDER


def test_no_reasoning_sent_with_thinking_off(make_llm, kimi_emulator) -> None:
    make_llm(thinking=False).chat(_tool_history(with_thinking=True))
    assistant = kimi_emulator.chat_requests[0]["messages"][1]
    assert "reasoning_content" not in assistant


def test_preserve_thinking_sends_reasoning_on_every_assistant_turn(make_llm, kimi_emulator) -> None:
    history = [
        ChatMessage(role="user", content="Hi"),
        ChatMessage(
            role="assistant", blocks=[ThinkingBlock(content="Greet back."), TextBlock(text="Hey!")]
        ),
        ChatMessage(role="user", content="Bye"),
    ]
    make_llm(preserve_thinking=True).chat(history)
    make_llm().chat(history)
    kept, default = kimi_emulator.chat_requests
    assert kept["messages"][1] == {
        "role": "assistant",
        "content": "Hey!",
        "reasoning_content": "Greet back.",
    }
    assert default["messages"][1] == {"role": "assistant", "content": "Hey!"}


def test_chat_history_from_a_previous_answer_round_trips(llm, kimi_emulator) -> None:
    kimi_emulator.script(Reply(content="Hey!", reasoning="Greet back."))
    first = llm.chat(user("Hi"))
    llm.chat([*user("Hi"), first.message, *user("Bye")], preserve_thinking=True)
    sent = kimi_emulator.chat_requests[1]["messages"][1]
    assert sent["reasoning_content"] == "Greet back."
    assert sent["content"] == "Hey!"


def test_partial_mode_and_system_roles(llm, kimi_emulator) -> None:
    kimi_emulator.script(Reply(content=" world"))
    llm.chat(
        [
            ChatMessage(role="system", content="Be brief."),
            ChatMessage(role="developer", content="Answer in English."),
            ChatMessage(role="user", content="Say hello world"),
            ChatMessage(role="assistant", content="Hello", additional_kwargs={"partial": True}),
        ]
    )
    messages = kimi_emulator.chat_requests[0]["messages"]
    assert [m["role"] for m in messages] == ["system", "system", "user", "assistant"]
    assert messages[-1] == {"role": "assistant", "content": "Hello", "partial": True}


def test_api_errors_surface_as_typed_kimi_core_errors(llm, kimi_emulator) -> None:
    kimi_emulator.script(Fault.quota())
    with pytest.raises(QuotaExhaustedError):
        llm.chat(user("hi"))
    kimi_emulator.script(Fault.quota())
    with pytest.raises(QuotaExhaustedError):
        list(llm.stream_chat(user("hi")))


def test_empty_assistant_turn_is_a_clear_error_before_sending(llm, kimi_emulator) -> None:
    with pytest.raises(ValueError, match="assistant message is empty"):
        llm.chat([*user("hi"), ChatMessage(role="assistant", content=""), *user("again")])
    assert kimi_emulator.chat_requests == []


async def test_public_methods_open_instrumentation_spans(llm, kimi_emulator) -> None:
    spans = SimpleSpanHandler()
    dispatcher = get_dispatcher()
    dispatcher.add_span_handler(spans)
    try:
        llm.chat(user("hi"))
        await llm.achat(user("hi"))
        list(llm.stream_chat(user("hi")))
        llm.complete("hi")
    finally:
        dispatcher.span_handlers.remove(spans)
    names = {span.id_.split("-")[0] for span in spans.completed_spans}
    assert {"Kimi.chat", "Kimi.achat", "Kimi.stream_chat", "Kimi.complete"} <= names


def test_legacy_tool_calls_in_additional_kwargs_are_sent(llm, kimi_emulator) -> None:
    legacy = {
        "id": "call_7",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
    }
    llm.chat(
        [
            *user("Weather in Rome?"),
            ChatMessage(role="assistant", content="", additional_kwargs={"tool_calls": [legacy]}),
            ChatMessage(role="tool", content="20C", additional_kwargs={"tool_call_id": "call_7"}),
        ]
    )
    assistant = kimi_emulator.chat_requests[0]["messages"][1]
    assert assistant["tool_calls"] == [legacy]
    assert "content" not in assistant


def test_token_counting_handler_reads_kimis_usage(make_llm, kimi_emulator) -> None:
    counter = TokenCountingHandler()
    llm = make_llm(callback_manager=CallbackManager([counter]))
    usage = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    kimi_emulator.script(Reply(content="Hi!", reasoning="Greet.", usage=usage))
    llm.chat(user("hi"))
    kimi_emulator.script(Reply(content="Hi!", reasoning="Greet.", usage=usage, chunk_size=1))
    list(llm.stream_chat(user("hi")))
    assert counter.prompt_llm_token_count == 22
    assert counter.completion_llm_token_count == 14


def test_logprobs(make_llm, kimi_emulator) -> None:
    llm = make_llm(thinking=False, logprobs=True, top_logprobs=2)
    kimi_emulator.script(Reply(content="Hello there", content_chunks=["Hello", " there"]))
    response = llm.chat(user("hi"))
    kimi_emulator.script(Reply(content="Hello there", content_chunks=["Hello", " there"]))
    streamed = list(llm.stream_chat(user("hi")))[-1]
    body = kimi_emulator.chat_requests[0]
    assert (body["logprobs"], body["top_logprobs"]) == (True, 2)
    for result in (response, streamed):
        assert result.logprobs is not None
        assert len(result.logprobs) == 2
        assert all(len(alternatives) == 2 for alternatives in result.logprobs)
        assert result.logprobs[0][0].token == "Hello"
        assert all(alt.logprob <= 0 for alts in result.logprobs for alt in alts)
    plain = make_llm().chat(user("hi"))
    assert plain.logprobs is None


def test_stream_rebuilds_only_the_block_that_grew(make_llm, kimi_emulator) -> None:
    # Guards the linear part of streaming: while text streams, the finished reasoning is not
    # copied into a new block for every chunk (and vice versa).
    kimi_emulator.script(STREAMED)
    responses = [
        r
        for r in make_llm(coalesce_stream=False).stream_chat(user("hi"))
        if r.delta or r.additional_kwargs.get("thinking_delta")
    ]
    text_phase = [r for r in responses if r.delta]
    thinking_blocks = {id(r.message.blocks[0]) for r in text_phase}
    assert len(text_phase) == 3
    assert len(thinking_blocks) == 1
    reasoning_phase = [r for r in responses if not r.delta]
    assert len({id(r.message.blocks[1]) for r in reasoning_phase}) == 1


def test_a_tool_that_returned_nothing_still_answers_its_call(llm, kimi_emulator) -> None:
    history = _tool_history(with_thinking=True)
    history[-1] = ChatMessage(role="tool", blocks=[], additional_kwargs={"tool_call_id": "call_1"})
    llm.chat(history)
    assert kimi_emulator.chat_requests[0]["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": "",
    }
