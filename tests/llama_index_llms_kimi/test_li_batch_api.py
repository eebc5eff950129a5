"""Kimi.batch_chat / batch_complete and the job API against the emulator's Batch API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kimi_core import BatchJob, BatchPolling, ContentFilterError
from kimi_emulator import EmulatorConfig, KimiEmulator
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, CompletionResponse
from llama_index.llms.kimi import Kimi

FAST = BatchPolling(initial=0.02, maximum=0.2, timeout=120)


@pytest.fixture(scope="module")
def batch_server() -> Iterator[KimiEmulator]:
    with KimiEmulator(config=EmulatorConfig(batch_time_scale=100_000)) as emulator:
        yield emulator


@pytest.fixture
def emu(batch_server: KimiEmulator) -> KimiEmulator:
    batch_server.reset()
    return batch_server


def _llm(emu: KimiEmulator, **kwargs: Any) -> Kimi:
    return Kimi(api_key=emu.api_key, base_url=emu.base_url, thinking=False, **kwargs)


def _conversations(n: int) -> list[list[ChatMessage]]:
    return [[ChatMessage(role="user", content=f"Say exactly: answer {i}")] for i in range(n)]


def _uploaded_bodies(emu: KimiEmulator) -> list[dict[str, Any]]:
    bodies = []
    for batch in emu.batches.all():
        data = emu.files.get(batch.input_file_id).data
        bodies += [json.loads(line)["body"] for line in data.splitlines()]
    return bodies


def test_batch_chat_returns_what_chat_returns_in_order(emu):
    llm = _llm(emu)
    online = [llm.chat(c) for c in _conversations(3)]
    emu.reset()
    batched = llm.batch_chat(_conversations(3), polling=FAST)
    assert [r.message.content for r in batched] == [r.message.content for r in online]
    [batch] = emu.batches.all()
    for response in batched:
        assert isinstance(response, ChatResponse)
        assert response.additional_kwargs["batch_id"] == batch.id
        assert response.additional_kwargs["estimated_cost_usd"] > 0
        assert response.additional_kwargs["prompt_tokens"] > 0
    assert emu.chat_requests == []
    assert _uploaded_bodies(emu) == [
        {
            "model": "kimi-k2.6",
            "messages": [{"role": "user", "content": f"Say exactly: answer {i}"}],
            "thinking": {"type": "disabled"},
        }
        for i in range(3)
    ]


def test_per_call_options_reach_every_line(emu):
    llm = _llm(emu)
    llm.batch_chat(
        _conversations(2),
        polling=FAST,
        response_format={"type": "json_object"},
        max_tokens=64,
        completion_window="48h",
        batch_metadata={"k": "v"},
    )
    bodies = _uploaded_bodies(emu)
    assert all(b["response_format"] == {"type": "json_object"} for b in bodies)
    assert all(b["max_completion_tokens"] == 64 for b in bodies)
    [batch] = emu.batches.all()
    assert (batch.completion_window, batch.metadata) == ("48h", {"k": "v"})


def test_batch_complete(emu):
    results = _llm(emu).batch_complete(["Say exactly: x", "Say exactly: y"], polling=FAST)
    assert all(isinstance(r, CompletionResponse) for r in results)
    assert [r.text for r in results] == ["x", "y"]


def test_a_failed_request_keeps_its_position(emu):
    llm = _llm(emu)
    conversations = _conversations(3)
    conversations[1] = [ChatMessage(role="user", content=emu.config.content_filter_trigger)]
    results = llm.batch_chat(conversations, polling=FAST, return_exceptions=True)
    assert isinstance(results[1], ContentFilterError)
    assert [results[0].message.content, results[2].message.content] == ["answer 0", "answer 2"]
    with pytest.raises(ContentFilterError):
        llm.batch_chat(conversations, polling=FAST)


def test_limits_are_checked_before_upload(emu):
    with pytest.raises(ValueError, match=r"request 0: the Batch API rejects sampling fields"):
        _llm(emu, temperature=0.6).batch_chat(_conversations(1), polling=FAST)
    assert emu.requests == []


async def test_abatch_chat_and_abatch_complete(emu):
    llm = _llm(emu)
    chats = await llm.abatch_chat(_conversations(2), polling=FAST)
    assert [r.message.content for r in chats] == ["answer 0", "answer 1"]
    completions = await llm.abatch_complete(["Say exactly: z"], polling=FAST)
    assert completions[0].text == "z"


def test_job_api_across_objects(emu, tmp_path):
    job = _llm(emu).submit_batch(_conversations(5))
    path = tmp_path / "job.json"
    job.save(path)
    other = _llm(emu)
    restored = BatchJob.load(path)
    results = other.batch_results(restored, polling=FAST)
    assert [r.message.content for r in results] == [f"answer {i}" for i in range(5)]
    assert other.batch_status(restored).status == "completed"


def test_ten_thousand_requests_keep_their_positions(emu):
    n = 10_000
    started = time.perf_counter()
    results = _llm(emu).batch_chat(
        _conversations(n), polling=BatchPolling(initial=0.2, maximum=0.5)
    )
    elapsed = time.perf_counter() - started
    assert [r.message.content for r in results] == [f"answer {i}" for i in range(n)]
    print(f"\n10,000-request Kimi.batch_chat wall time: {elapsed:.1f}s")


def test_llamaindex_tools_go_into_every_line(emu):
    from llama_index.core.tools import FunctionTool

    def get_weather(city: str) -> str:
        """Get the weather in a city."""
        return f"sunny in {city}"

    llm = _llm(emu)
    tool = FunctionTool.from_defaults(fn=get_weather)
    conversations = [
        [ChatMessage(role="user", content=f"What is the weather in {city}? Use get_weather.")]
        for city in ("Paris", "Oslo")
    ]
    responses = llm.batch_chat(conversations, tools=[tool], polling=FAST)
    bodies = _uploaded_bodies(emu)
    assert all(b["tools"][0]["function"]["name"] == "get_weather" for b in bodies)
    calls = [llm.get_tool_calls_from_response(r) for r in responses]
    assert [c[0].tool_kwargs for c in calls] == [{"city": "Paris"}, {"city": "Oslo"}]
