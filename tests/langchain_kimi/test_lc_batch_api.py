"""ChatKimi.batch(use_batch_api=True), abatch and the job API against the emulator's Batch API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kimi_core import BatchJob, BatchPolling
from kimi_emulator import EmulatorConfig, KimiEmulator
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.exceptions import ModelInvalidRequestError
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_kimi import ChatKimi
from pydantic import BaseModel, Field

FAST = BatchPolling(initial=0.02, maximum=0.2, timeout=120)


@pytest.fixture(scope="module")
def batch_server() -> Iterator[KimiEmulator]:
    with KimiEmulator(config=EmulatorConfig(batch_time_scale=100_000)) as emulator:
        yield emulator


@pytest.fixture
def emu(batch_server: KimiEmulator) -> KimiEmulator:
    batch_server.reset()
    return batch_server


def _model(emu: KimiEmulator, **kwargs: Any) -> ChatKimi:
    return ChatKimi(base_url=emu.base_url, api_key=emu.api_key, thinking=False, **kwargs)


def _uploaded_bodies(emu: KimiEmulator) -> list[dict[str, Any]]:
    bodies = []
    for batch in emu.batches.all():
        data = emu.files.get(batch.input_file_id).data
        bodies += [json.loads(line)["body"] for line in data.splitlines()]
    return bodies


def _prompts(n: int) -> list[str]:
    return [f"Say exactly: answer {i}" for i in range(n)]


class GetWeather(BaseModel):
    """Get the weather in a city."""

    city: str = Field(description="City name")


class Person(BaseModel):
    """A person."""

    name: str
    age: int


def test_batch_api_returns_what_invoke_returns_in_order(emu):
    model = _model(emu)
    online = [model.invoke(p) for p in _prompts(3)]
    emu.reset()
    batched = model.batch(_prompts(3), use_batch_api=True, polling=FAST)
    assert [m.content for m in batched] == [m.content for m in online]
    assert [m.usage_metadata for m in batched] == [m.usage_metadata for m in online]
    [batch] = emu.batches.all()
    for message in batched:
        assert isinstance(message, AIMessage)
        assert message.response_metadata["batch_id"] == batch.id
        assert message.response_metadata["estimated_cost_usd"] > 0
        assert message.response_metadata["model_name"] == "kimi-k2.6"
    assert emu.chat_requests == []  # nothing went online
    assert _uploaded_bodies(emu) == [
        {
            "model": "kimi-k2.6",
            "messages": [{"role": "user", "content": p}],
            "thinking": {"type": "disabled"},
        }
        for p in _prompts(3)
    ]


def test_batch_stays_online_unless_asked(emu):
    assert [m.content for m in _model(emu).batch(_prompts(2))] == ["answer 0", "answer 1"]
    assert emu.batches.all() == []
    assert len(emu.chat_requests) == 2


def test_model_level_switch_and_batch_options_reach_the_api(emu):
    model = _model(emu, use_batch_api=True)
    seen = []
    model.batch(
        _prompts(2),
        polling=FAST,
        completion_window="3d",
        batch_metadata={"team": "x"},
        progress=seen.append,
    )
    [batch] = emu.batches.all()
    assert (batch.completion_window, batch.metadata) == ("3d", {"team": "x"})
    assert seen[-1].status == "completed"
    # The options configure the job; none of them leaks into a request body.
    assert all(set(body) == {"model", "messages", "thinking"} for body in _uploaded_bodies(emu))


def test_bound_tools_go_into_every_line(emu):
    model = _model(emu).bind_tools([GetWeather])
    results = model.batch(
        ["What is the weather in Paris? Use GetWeather.", "Say exactly: hi"],
        use_batch_api=True,
        polling=FAST,
    )
    bodies = _uploaded_bodies(emu)
    assert all(body["tools"][0]["function"]["name"] == "GetWeather" for body in bodies)
    assert results[0].tool_calls[0]["name"] == "GetWeather"
    assert results[0].tool_calls[0]["args"] == {"city": "Paris"}
    assert results[1].content == "hi"


def test_structured_output_chain_parses_batched_answers(emu):
    structured = _model(emu).with_structured_output(Person)
    people = structured.batch(
        ["Ada is 36 years old.", "Alan is 41 years old."], use_batch_api=True, polling=FAST
    )
    assert all(isinstance(p, Person) for p in people)
    assert all(body["response_format"]["type"] == "json_schema" for body in _uploaded_bodies(emu))
    assert len(emu.batches.all()) == 1


def test_prompt_model_parser_pipeline(emu):
    prompt = ChatPromptTemplate.from_messages([("user", "Say exactly: {word}")])
    # RunnableSequence.batch hands kwargs to its first step only: switch the model itself on.
    chain = prompt | _model(emu).bind(use_batch_api=True, polling=FAST) | StrOutputParser()
    assert chain.batch([{"word": "alpha"}, {"word": "beta"}]) == ["alpha", "beta"]
    assert len(emu.batches.all()) == 1
    # invoke on the same chain stays online.
    assert chain.invoke({"word": "gamma"}) == "gamma"
    assert len(emu.chat_requests) == 1
    assert "use_batch_api" not in emu.chat_requests[0]


def test_failures_keep_their_position(emu):
    model = _model(emu)
    inputs = ["Say exactly: a", f"Say {emu.config.content_filter_trigger}", "Say exactly: c"]
    results = model.batch(inputs, use_batch_api=True, polling=FAST, return_exceptions=True)
    assert [results[0].content, results[2].content] == ["a", "c"]
    assert isinstance(results[1], ModelInvalidRequestError)
    with pytest.raises(ModelInvalidRequestError):
        model.batch(inputs, use_batch_api=True, polling=FAST)


def test_an_input_that_cannot_be_built_fails_alone_or_before_upload(emu):
    model = _model(emu)
    inputs: list[Any] = ["Say exactly: a", [("user", "hi")], "Say exactly: c"]
    with pytest.raises(ValueError, match="sampling fields"):
        model.batch(inputs, use_batch_api=True, polling=FAST, temperature=0.6)
    assert emu.requests == []
    results = model.batch(
        ["Say exactly: a", "Say exactly: b"],
        use_batch_api=True,
        polling=FAST,
        return_exceptions=True,
        stop=["x"] * 6,
    )
    assert all(isinstance(r, ValueError) for r in results)
    assert emu.requests == []


def test_each_input_is_traced(emu):
    class Recorder(BaseCallbackHandler):
        def __init__(self) -> None:
            self.started: list[Any] = []
            self.ended: list[Any] = []
            self.errors: list[Any] = []

        def on_chat_model_start(self, serialized, messages, **kwargs):
            self.started.append(messages)

        def on_llm_end(self, response, **kwargs):
            self.ended.append(response.generations[0][0].message.content)

        def on_llm_error(self, error, **kwargs):
            self.errors.append(error)

    recorder = Recorder()
    _model(emu).batch(
        ["Say exactly: a", f"Say {emu.config.content_filter_trigger}"],
        {"callbacks": [recorder]},
        use_batch_api=True,
        polling=FAST,
        return_exceptions=True,
    )
    assert len(recorder.started) == 2
    assert recorder.ended == ["a"]
    assert len(recorder.errors) == 1


async def test_abatch(emu):
    results = await _model(emu).abatch(_prompts(3), use_batch_api=True, polling=FAST)
    assert [m.content for m in results] == ["answer 0", "answer 1", "answer 2"]
    assert len(emu.batches.all()) == 1


def test_job_api_submit_now_collect_later(emu, tmp_path):
    model = _model(emu)
    job = model.submit_batch(_prompts(4), batch_metadata={"run": "nightly"})
    path = tmp_path / "job.json"
    job.save(path)
    assert emu.api_key not in path.read_text()
    # Another model object (as in another process) collects it.
    other = _model(emu)
    restored = BatchJob.load(path)
    results = other.batch_results(restored, polling=FAST)
    assert [m.content for m in results] == [f"answer {i}" for i in range(4)]
    assert other.batch_status(restored).status == "completed"


def test_job_api_cancel(emu, monkeypatch):
    monkeypatch.setattr(emu.config, "batch_request_seconds", 2000.0)
    model = _model(emu)
    job = model.submit_batch(_prompts(100))
    for _ in range(2000):
        if model.batch_status(job).completed >= 2:
            break
        time.sleep(0.01)
    assert model.cancel_batch(job).status == "cancelling"
    results = model.batch_results(job, polling=FAST, return_exceptions=True)
    answered = [r for r in results if isinstance(r, AIMessage)]
    assert 2 <= len(answered) < 100
    assert all(
        getattr(r, "error_type", None) == "batch_cancelled" for r in results[len(answered) :]
    )


def test_ten_thousand_requests_keep_their_positions(emu):
    n = 10_000
    started = time.perf_counter()
    results = _model(emu).batch(
        _prompts(n), use_batch_api=True, polling=BatchPolling(initial=0.2, maximum=0.5)
    )
    elapsed = time.perf_counter() - started
    assert [m.content for m in results] == [f"answer {i}" for i in range(n)]
    print(f"\n10,000-request ChatKimi.batch(use_batch_api=True) wall time: {elapsed:.1f}s")


def test_job_api_takes_tools_as_bind_tools_does(emu):
    model = _model(emu)
    job = model.submit_batch(
        ["What is the weather in Oslo? Use GetWeather."], tools=[GetWeather], tool_choice="any"
    )
    [body] = _uploaded_bodies(emu)
    assert body["tools"][0]["function"]["name"] == "GetWeather"
    assert body["tool_choice"] == "required"
    [message] = model.batch_results(job, polling=FAST)
    assert message.tool_calls[0]["args"] == {"city": "Oslo"}


def test_structured_output_with_raw_goes_through_the_batch_api(emu):
    structured = _model(emu).with_structured_output(Person, include_raw=True)
    results = structured.batch(["Ada is 36 years old."], use_batch_api=True, polling=FAST)
    [batch] = emu.batches.all()
    assert emu.chat_requests == []
    assert isinstance(results[0]["parsed"], Person)
    assert results[0]["parsing_error"] is None
    assert results[0]["raw"].response_metadata["batch_id"] == batch.id
    # invoke keeps its shape: the raw message, the parsed object, no error.
    online = structured.invoke("Ada is 36 years old.")
    assert sorted(online) == ["parsed", "parsing_error", "raw"]
    assert online["parsed"] == results[0]["parsed"]
