"""ChatKimi takes kimi-core's settings vocabulary (issue 17 section 1), through the emulator."""

from __future__ import annotations

from typing import Any

import pytest
from kimi_core import WebSearchLoopError
from kimi_emulator import KimiEmulator, Reply
from langchain_kimi import ChatKimi


def _model(emu: KimiEmulator, **kwargs: Any) -> ChatKimi:
    return ChatKimi(base_url=emu.base_url, api_key=emu.api_key, max_retries=0, **kwargs)


def test_per_call_n_and_top_logprobs_are_checked_like_settings(kimi_emulator: KimiEmulator) -> None:
    model = _model(kimi_emulator, thinking=False)
    with pytest.raises(ValueError, match="only accepts n=1"):
        model.invoke("Hello", n=3)
    with pytest.raises(ValueError, match="top_logprobs must be between 0 and 20, got 50"):
        model.invoke("Hello", logprobs=True, top_logprobs=50)
    assert kimi_emulator.chat_requests == []


def test_logprobs_come_back_in_response_metadata(kimi_emulator: KimiEmulator) -> None:
    # Was: sent, but the answer's logprobs never reached the LangChain message.
    model = _model(kimi_emulator, thinking=False, logprobs=True, top_logprobs=2)
    kimi_emulator.script(Reply(content="Hello there", content_chunks=["Hello", " there"]))
    message = model.invoke("Hi")
    kimi_emulator.script(Reply(content="Hello there", content_chunks=["Hello", " there"]))
    streamed = None
    for chunk in model.stream("Hi"):
        streamed = chunk if streamed is None else streamed + chunk
    body = kimi_emulator.chat_requests[0]
    assert (body["logprobs"], body["top_logprobs"]) == (True, 2)
    assert streamed is not None
    for result in (message, streamed):
        content = result.response_metadata["logprobs"]["content"]
        assert [entry["token"] for entry in content] == ["Hello", " there"]
        assert all(len(entry["top_logprobs"]) == 2 for entry in content)
        assert all(entry["logprob"] <= 0 for entry in content)
    assert "logprobs" not in _model(kimi_emulator).invoke("Hi").response_metadata


def test_web_search_round_limit_as_argument_and_per_call(kimi_emulator: KimiEmulator) -> None:
    # Was: not a ChatKimi argument (it went into model_kwargs with a warning).
    for rounds, model, kwargs in [
        (2, _model(kimi_emulator, thinking=False, web_search_max_rounds=2), {}),
        (1, _model(kimi_emulator, thinking=False), {"web_search_max_rounds": 1}),
    ]:
        for _ in range(rounds + 1):
            kimi_emulator.script(Reply.web_search("again"))
        with pytest.raises(WebSearchLoopError, match=f"after {rounds} rounds"):
            model.bind_tools([{"type": "web_search"}]).invoke("News?", **kwargs)


def test_a_misspelt_per_call_setting_is_refused_not_sent(kimi_emulator: KimiEmulator) -> None:
    # Was: any unknown per-call name went into the body, so a typo reached the API as a field.
    with pytest.raises(TypeError, match="did you mean 'temperature'"):
        _model(kimi_emulator).invoke("Hello", temprature=0.6)
    assert kimi_emulator.chat_requests == []
