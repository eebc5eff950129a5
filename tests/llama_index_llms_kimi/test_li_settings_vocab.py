"""Kimi takes kimi-core's settings vocabulary (issue 17 section 1), through the emulator."""

from __future__ import annotations

import pytest
from kimi_core import WebSearchLoopError
from kimi_emulator import Reply
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.tools import FunctionTool


def user(text: str) -> list[ChatMessage]:
    return [ChatMessage(role="user", content=text)]


def test_per_call_tool_choice_policy(make_llm, kimi_emulator) -> None:
    # Was: TypeError (not in the adapter's list of per-call settings).
    echo = FunctionTool.from_defaults(fn=lambda x: x, name="echo")
    with pytest.raises(ValueError, match="rejects tool_choice='required'"):
        make_llm().chat_with_tools(
            [echo], user_msg="hi", tool_required=True, tool_choice_policy="error"
        )
    assert kimi_emulator.chat_requests == []


def test_per_call_stream_usage(make_llm, kimi_emulator) -> None:
    # Was: TypeError.
    llm = make_llm()
    list(llm.stream_chat(user("hi")))
    list(llm.stream_chat(user("hi"), stream_usage=False))
    first, second = kimi_emulator.chat_requests
    assert first["stream_options"] == {"include_usage": True}
    assert "stream_options" not in second


def test_web_search_round_limit_as_argument_and_per_call(make_llm, kimi_emulator) -> None:
    # Was: refused both as a constructor argument and per call.
    for rounds, llm, kwargs in [
        (2, make_llm(thinking=False, web_search=True, web_search_max_rounds=2), {}),
        (1, make_llm(thinking=False, web_search=True), {"web_search_max_rounds": 1}),
    ]:
        for _ in range(rounds + 1):
            kimi_emulator.script(Reply.web_search("again"))
        with pytest.raises(WebSearchLoopError, match=f"after {rounds} rounds"):
            llm.chat(user("News?"), **kwargs)


def test_n_and_stream_usage_are_arguments(make_llm, kimi_emulator) -> None:
    # Was: refused (extra="forbid"); n could only be smuggled into additional_kwargs.
    with pytest.raises(ValueError, match="n=1"):
        make_llm(n=2)
    list(make_llm(stream_usage=False).stream_chat(user("hi")))
    assert "stream_options" not in kimi_emulator.chat_requests[-1]


def test_a_misspelt_per_call_setting_names_the_fix(make_llm, kimi_emulator) -> None:
    with pytest.raises(TypeError, match="did you mean 'temperature'"):
        make_llm().chat(user("hi"), temprature=0.6)
    assert kimi_emulator.chat_requests == []
