"""ChatKimi basics against the emulator: what is sent per knob, what comes back, serialization."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest
from kimi_emulator import Fault, KimiEmulator, Reply
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.exceptions import ModelRateLimitError
from langchain_core.language_models import chat_models as chat_models_module
from langchain_core.load import dumpd, dumps, load
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_kimi import ChatKimi
from langchain_kimi import chat_models as chat_models_module_kimi


def _model(emu: KimiEmulator, **kwargs: Any) -> ChatKimi:
    return ChatKimi(base_url=emu.base_url, api_key=emu.api_key, **kwargs)


def _sum(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    return full


# -- construction, secrets, serialization ---------------------------------------------------------


def test_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOONSHOT_API_KEY", raising=False)
    monkeypatch.setenv("KIMI_API_KEY", "kimi-env-key")
    model = ChatKimi()
    assert model.api_key is not None
    assert model.api_key.get_secret_value() == "kimi-env-key"


def test_base_url_and_region_are_resolved_by_kimi_core(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOONSHOT_BASE_URL", "http://127.0.0.1:9/v1")
    assert ChatKimi(api_key="k").client.base_url == "http://127.0.0.1:9/v1"
    assert ChatKimi(api_key="k", region="cn").client.base_url == "https://api.moonshot.cn/v1"
    with pytest.raises(ValueError, match="either region or base_url"):
        ChatKimi(api_key="k", region="cn", base_url="http://127.0.0.1:9/v1")


def test_missing_key_names_both_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOONSHOT_API_KEY", raising=False)
    monkeypatch.delenv("KIMI_API_KEY", raising=False)
    with pytest.raises(ValueError, match=r"MOONSHOT_API_KEY.*KIMI_API_KEY"):
        ChatKimi()


def test_key_never_in_repr_dumps_or_tracing_params() -> None:
    model = ChatKimi(api_key="sk-very-secret", max_tokens=10)
    assert "sk-very-secret" not in repr(model)
    assert "sk-very-secret" not in str(model)
    assert "sk-very-secret" not in dumps(model)
    assert "sk-very-secret" not in json.dumps(model._get_invocation_params(), default=str)
    assert "sk-very-secret" not in repr(model.client)


def test_pickle_never_holds_the_key_and_unpickling_reads_it_again(
    kimi_emulator: KimiEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MOONSHOT_API_KEY", raising=False)
    monkeypatch.delenv("KIMI_API_KEY", raising=False)
    secret = "sk-very-secret-pickle-canary"
    model = ChatKimi(api_key=secret, base_url=kimi_emulator.base_url, thinking=False)
    assert model.client is not None  # a cached client must not carry the key into the pickle
    data = pickle.dumps(model)
    assert secret.encode() not in data
    assert model.api_key is not None
    assert model.api_key.get_secret_value() == secret
    with pytest.raises(ValueError, match=r"never pickled.*MOONSHOT_API_KEY or KIMI_API_KEY"):
        pickle.loads(data)
    monkeypatch.setenv("KIMI_API_KEY", kimi_emulator.api_key)
    restored = pickle.loads(data)
    assert restored.api_key is not None
    assert restored.api_key.get_secret_value() == kimi_emulator.api_key
    # The emulator answers 401 to any key but its own: the key really came from the environment.
    assert restored.invoke("What is 1 + 1?").text == "2"
    assert kimi_emulator.chat_requests[-1]["thinking"] == {"type": "disabled"}


# langchain-core marks `load` as beta and warns on every call.
@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
def test_serialized_round_trip_with_an_explicit_allowlist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOONSHOT_API_KEY", "env-key")
    model = ChatKimi(model="kimi-k3", reasoning_effort="high", max_tokens=1000)
    data = dumpd(model)
    assert data["id"] == ["langchain_kimi", "chat_models", "ChatKimi"]
    assert data["kwargs"]["api_key"] == {"lc": 1, "type": "secret", "id": ["MOONSHOT_API_KEY"]}
    loaded = load(
        data,
        valid_namespaces=["langchain_kimi"],
        allowed_objects=[ChatKimi],
        secrets_from_env=True,
    )
    assert isinstance(loaded, ChatKimi)
    assert loaded.model_name == "kimi-k3"
    assert loaded.reasoning_effort == "high"
    assert loaded.api_key is not None
    assert loaded.api_key.get_secret_value() == "env-key"


def test_copies_of_a_used_model_work(
    kimi_emulator: KimiEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _model(kimi_emulator)
    model.invoke("What is 1 + 1?")
    assert copy.deepcopy(model).invoke("What is 1 + 2?").text == "3"
    # A pickle leaves the key out; unpickling reads it from the environment.
    monkeypatch.setenv("MOONSHOT_API_KEY", kimi_emulator.api_key)
    assert pickle.loads(pickle.dumps(model)).invoke("What is 1 + 3?").text == "4"
    elsewhere = model.model_copy(update={"base_url": "http://127.0.0.1:9/v1", "max_retries": 0})
    assert elsewhere.client.base_url == "http://127.0.0.1:9/v1"
    assert model.client.base_url == kimi_emulator.base_url


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"temperature": 0.2, "sampling_policy": "error"}, "only accepts temperature=1"),
        (
            {"thinking": False, "temperature": 1.0, "sampling_policy": "error"},
            "only accepts temperature=0.6",
        ),
        ({"model": "kimi-k3", "thinking": False}, "always thinks"),
        ({"reasoning_effort": "max"}, "does not support reasoning_effort"),
        ({"model": "kimi-k3", "reasoning_effort": "medium"}, "'low', 'high', 'max'"),
    ],
)
def test_impossible_knobs_fail_at_construction(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ChatKimi(api_key="k", **kwargs)


def test_model_kwargs_cannot_bypass_the_checked_fields() -> None:
    with pytest.raises(
        ValueError, match=r"'temperature': use temperature; 'thinking': use thinking"
    ):
        ChatKimi(api_key="k", model_kwargs={"temperature": 0.3, "thinking": {"type": "x"}})


def test_profile_comes_from_kimi_core() -> None:
    k3 = ChatKimi(api_key="k", model="kimi-k3").profile
    assert k3 is not None
    assert k3["max_input_tokens"] == 1_048_576
    assert k3["reasoning_effort_levels"] == ["low", "high", "max"]
    assert k3["structured_output"] is True
    assert k3["video_inputs"] is True
    assert k3["temperature"] is False
    legacy = ChatKimi(api_key="k", model="moonshot-v1-8k").profile
    assert legacy is not None
    assert legacy["max_input_tokens"] == 8_192
    assert legacy["reasoning_output"] is False
    assert legacy["image_inputs"] is False


def test_langsmith_params_use_moonshot_naming() -> None:
    model = ChatKimi(api_key="k", max_tokens=50, stop=["END"])
    assert model._get_ls_params() == {
        "ls_provider": "moonshot",
        "ls_model_name": "kimi-k2.6",
        "ls_model_type": "chat",
        "ls_max_tokens": 50,
        "ls_stop": ["END"],
    }
    assert model._get_ls_params(model="kimi-k3")["ls_model_name"] == "kimi-k3"


# -- what is sent ----------------------------------------------------------------------------------


def test_defaults_send_only_model_and_messages(kimi_emulator: KimiEmulator) -> None:
    _model(kimi_emulator).invoke("Hello")
    assert kimi_emulator.chat_requests[-1] == {
        "model": "kimi-k2.6",
        "messages": [{"role": "user", "content": "Hello"}],
    }


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"thinking": False}, {"thinking": {"type": "disabled"}}),
        ({"thinking": True}, {"thinking": {"type": "enabled"}}),
        ({"preserve_thinking": True}, {"thinking": {"type": "enabled", "keep": "all"}}),
        ({"model": "kimi-k2.7-code"}, {}),
        ({"model": "kimi-k3", "reasoning_effort": "low"}, {"reasoning_effort": "low"}),
        ({"model": "kimi-k3"}, {}),
    ],
)
def test_thinking_object_per_model(
    kimi_emulator: KimiEmulator, kwargs: dict[str, Any], expected: dict[str, Any]
) -> None:
    _model(kimi_emulator, **kwargs).invoke("Hello")
    body = kimi_emulator.chat_requests[-1]
    assert {k: v for k, v in body.items() if k in ("thinking", "reasoning_effort")} == expected
    assert body["model"] == kwargs.get("model", "kimi-k2.6")


def test_sampling_params_are_omitted_unless_set(kimi_emulator: KimiEmulator) -> None:
    _model(kimi_emulator).invoke("Hello")
    _model(kimi_emulator, thinking=False, temperature=0.6, top_p=0.95).invoke("Hello")
    first, second = kimi_emulator.chat_requests
    assert not {"temperature", "top_p", "n", "presence_penalty", "frequency_penalty"} & set(first)
    assert second["temperature"] == 0.6
    assert second["top_p"] == 0.95


def test_knobs_reach_the_body(kimi_emulator: KimiEmulator) -> None:
    model = _model(
        kimi_emulator,
        max_completion_tokens=2000,
        stop=["END"],
        prompt_cache_key="session-1",
        safety_identifier="user-hash",
    )
    assert model.max_tokens == 2000
    model.invoke("Hello")
    body = kimi_emulator.chat_requests[-1]
    assert body["max_completion_tokens"] == 2000
    assert body["stop"] == ["END"]
    assert body["prompt_cache_key"] == "session-1"
    assert body["safety_identifier"] == "user-hash"


def test_every_knob_can_be_set_per_call_and_through_bind(kimi_emulator: KimiEmulator) -> None:
    model = _model(kimi_emulator)
    model.invoke("Hello", thinking=False, max_tokens=300, stop=["x"])
    model.bind(thinking=False, prompt_cache_key="k1").invoke("Hello")
    model.invoke("Hello", model="kimi-k3", reasoning_effort="high")
    per_call, bound, other_model = kimi_emulator.chat_requests
    assert per_call["thinking"] == {"type": "disabled"}
    assert per_call["max_completion_tokens"] == 300
    assert per_call["stop"] == ["x"]
    assert bound["thinking"] == {"type": "disabled"}
    assert bound["prompt_cache_key"] == "k1"
    assert other_model["model"] == "kimi-k3"
    assert other_model["reasoning_effort"] == "high"


def test_client_knobs_per_call(kimi_emulator: KimiEmulator) -> None:
    model = _model(kimi_emulator, max_retries=0)
    kimi_emulator.script(Fault.overloaded(retry_after=0))
    assert model.invoke("What is 2 + 5?", max_retries=1, timeout=30).text == "7"
    assert len(kimi_emulator.chat_requests) == 2
    assert "max_retries" not in kimi_emulator.chat_requests[-1]
    assert "timeout" not in kimi_emulator.chat_requests[-1]
    kimi_emulator.script(Fault.overloaded(retry_after=0))
    with pytest.raises(ModelRateLimitError):
        model.invoke("What is 2 + 5?")


def test_per_call_knob_is_validated_before_sending(kimi_emulator: KimiEmulator) -> None:
    with pytest.raises(ValueError, match="only accepts temperature=1"):
        _model(kimi_emulator, sampling_policy="error").invoke("Hello", temperature=0.3)
    assert kimi_emulator.chat_requests == []


def test_system_and_named_messages(kimi_emulator: KimiEmulator) -> None:
    _model(kimi_emulator).invoke(
        [("system", "Be brief."), {"role": "user", "content": "Hi", "name": "alice"}]
    )
    assert kimi_emulator.chat_requests[-1]["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi", "name": "alice"},
    ]


def test_partial_mode_prefix(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Reply(content=" world"))
    prefix = AIMessage("Hello", additional_kwargs={"partial": True}, name="Narrator")
    result = _model(kimi_emulator).invoke([("user", "Say hello world"), prefix])
    assert result.text == " world"
    assert kimi_emulator.chat_requests[-1]["messages"][-1] == {
        "role": "assistant",
        "content": "Hello",
        "partial": True,
        "name": "Narrator",
    }


# -- what comes back -------------------------------------------------------------------------------


def test_invoke_result_metadata_and_usage(kimi_emulator: KimiEmulator) -> None:
    usage = {
        "prompt_tokens": 120,
        "completion_tokens": 40,
        "total_tokens": 160,
        "cached_tokens": 100,
        "completion_tokens_details": {"reasoning_tokens": 25},
    }
    kimi_emulator.script(Reply(content="Fine.", reasoning="Let me think.", usage=usage))
    result = _model(kimi_emulator).invoke("How are you?")
    assert result.text == "Fine."
    assert result.additional_kwargs["reasoning_content"] == "Let me think."
    assert result.usage_metadata == {
        "input_tokens": 120,
        "output_tokens": 40,
        "total_tokens": 160,
        "input_token_details": {"cache_read": 100},
        "output_token_details": {"reasoning": 25},
    }
    meta = result.response_metadata
    assert meta["model_provider"] == "moonshot"
    assert meta["model_name"] == "kimi-k2.6"
    assert meta["finish_reason"] == "stop"
    assert meta["request_id"]
    assert meta["id"].startswith("chatcmpl-")


def test_repeated_long_prompt_reports_cache_reads(kimi_emulator: KimiEmulator) -> None:
    prompt = "Summarise: " + " ".join(f"item {i} ships on day {i}." for i in range(200))
    model = _model(kimi_emulator)
    model.invoke(prompt)
    second = model.invoke(prompt)
    assert second.usage_metadata is not None
    assert second.usage_metadata["input_token_details"]["cache_read"] > 0


def test_stream_reasoning_before_text_and_exactly_one_usage_chunk(
    kimi_emulator: KimiEmulator,
) -> None:
    kimi_emulator.script(Reply(content="Blue light scatters.", reasoning="Rayleigh.", chunk_size=3))
    chunks = list(_model(kimi_emulator).stream("Why is the sky blue?"))
    kinds = [
        "reasoning" if c.additional_kwargs.get("reasoning_content") else "text"
        for c in chunks
        if c.additional_kwargs.get("reasoning_content") or c.text
    ]
    assert kinds == sorted(kinds, key=lambda k: k != "reasoning")
    assert "reasoning" in kinds
    assert "text" in kinds
    with_usage = [c for c in chunks if c.usage_metadata]
    assert len(with_usage) == 1
    assert with_usage[0] is chunks[-1]
    assert chunks[-1].chunk_position == "last"
    full = _sum(chunks)
    assert full.text == "Blue light scatters."
    assert full.additional_kwargs["reasoning_content"] == "Rayleigh."
    assert full.response_metadata["finish_reason"] == "stop"
    assert kimi_emulator.chat_requests[-1]["stream"] is True
    assert kimi_emulator.chat_requests[-1]["stream_options"] == {"include_usage": True}


def test_stopping_a_stream_early_releases_the_connection(kimi_emulator: KimiEmulator) -> None:
    model = _model(kimi_emulator, max_retries=0)
    for _ in range(3):
        kimi_emulator.script(Reply(content="long " * 400, chunk_size=5))
        stream = model.stream("Tell me more")
        next(stream)
        stream.close()
    assert model.invoke("What is 5 + 5?").text == "10"
    assert len(kimi_emulator.chat_requests) == 4


def test_stream_usage_off(kimi_emulator: KimiEmulator) -> None:
    chunks = list(_model(kimi_emulator, stream_usage=False).stream("Hello"))
    assert all(c.usage_metadata is None for c in chunks)
    assert "stream_options" not in kimi_emulator.chat_requests[-1]


async def test_astream_and_ainvoke(kimi_emulator: KimiEmulator) -> None:
    model = _model(kimi_emulator)
    result = await model.ainvoke("What is 6 * 7?")
    assert result.text == "42"
    chunks = [chunk async for chunk in model.astream("What is 6 * 7?")]
    assert _sum(chunks).text == "42"
    assert sum(1 for c in chunks if c.usage_metadata) == 1


def test_batch(kimi_emulator: KimiEmulator) -> None:
    results = _model(kimi_emulator).batch(["What is 1 + 1?", "What is 2 + 2?"])
    assert [r.text for r in results] == ["2", "4"]
    assert len(kimi_emulator.chat_requests) == 2


async def test_abatch(kimi_emulator: KimiEmulator) -> None:
    results = await _model(kimi_emulator).abatch(["What is 3 + 3?", "What is 4 + 4?"])
    assert [r.text for r in results] == ["6", "8"]
    assert len(kimi_emulator.chat_requests) == 2


class _Tokens(BaseCallbackHandler):
    def __init__(self) -> None:
        self.chunks: list[Any] = []

    def on_llm_new_token(self, token: str, *, chunk: Any = None, **kwargs: Any) -> None:
        self.chunks.append(chunk)


def test_invoke_on_a_streaming_model_streams_and_aggregates(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Reply(content="abc" * 50, reasoning="r" * 90, chunk_size=2))
    handler = _Tokens()
    model = _model(kimi_emulator, streaming=True)
    result = model.invoke("Hello", config={"callbacks": [handler]})
    assert kimi_emulator.chat_requests[-1]["stream"] is True
    assert isinstance(result, AIMessage)
    assert result.text == "abc" * 50
    assert result.additional_kwargs["reasoning_content"] == "r" * 90
    assert result.usage_metadata is not None
    # Every streamed piece reached the callbacks (merged per network read), under the final
    # message's id.
    messages = [c.message for c in handler.chunks]
    assert "".join(m.text for m in messages) == "abc" * 50
    assert "".join(m.additional_kwargs.get("reasoning_content", "") for m in messages) == "r" * 90
    assert len(handler.chunks) >= 2
    assert {c.message.id for c in handler.chunks} == {result.id}
    assert result.id is not None
    assert result.id.startswith("lc_run-")


def test_invoke_on_a_streaming_model_does_not_merge_chunks(
    kimi_emulator: KimiEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # langchain-core's own path adds every chunk to the previous ones (quadratic for the long
    # reasoning Kimi streams); ChatKimi aggregates with kimi-core's accumulator instead.
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("langchain-core chunk merging was used")

    monkeypatch.setattr(chat_models_module, "generate_from_stream", refuse)
    monkeypatch.setattr(chat_models_module, "agenerate_from_stream", refuse)
    monkeypatch.setattr(AIMessageChunk, "__add__", refuse)
    kimi_emulator.script(Reply(content="x" * 300, reasoning="y" * 3000, chunk_size=1))
    result = _model(kimi_emulator, streaming=True).invoke(
        "Hello", config={"callbacks": [_Tokens()]}
    )
    assert result.text == "x" * 300
    assert result.additional_kwargs["reasoning_content"] == "y" * 3000


def test_streamed_invoke_without_listeners_builds_no_chunks(
    kimi_emulator: KimiEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a chunk was built with nobody listening")

    monkeypatch.setattr(chat_models_module_kimi, "to_chunk", refuse)
    kimi_emulator.script(Reply(content="quiet", reasoning="r", chunk_size=1))
    result = _model(kimi_emulator, streaming=True).invoke("Hello")
    assert result.text == "quiet"
    assert kimi_emulator.chat_requests[-1]["stream"] is True


async def test_ainvoke_on_a_streaming_model(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Reply(content="streamed answer", reasoning="why", chunk_size=4))
    result = await _model(kimi_emulator, streaming=True).ainvoke("Hello")
    assert result.text == "streamed answer"
    assert result.additional_kwargs["reasoning_content"] == "why"
    assert kimi_emulator.chat_requests[-1]["stream"] is True


def test_v1_output_for_invoke_and_stream(kimi_emulator: KimiEmulator) -> None:
    model = _model(kimi_emulator, output_version="v1")
    kimi_emulator.script(Reply(content="Hi there", reasoning="Greeting."))
    message = model.invoke("Hello")
    assert message.content == [
        {"type": "reasoning", "reasoning": "Greeting."},
        {"type": "text", "text": "Hi there"},
    ]
    kimi_emulator.script(Reply(content="Hi there", reasoning="Greeting.", chunk_size=2))
    full = _sum(list(model.stream("Hello")))
    assert [(b["type"], b.get("reasoning") or b.get("text")) for b in full.content_blocks] == [
        ("reasoning", "Greeting."),
        ("text", "Hi there"),
    ]


def test_stream_events_v3_projects_reasoning_and_text(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Reply(content="Paris.", reasoning="Capital of France.", chunk_size=3))
    stream = _model(kimi_emulator).stream_events("Capital of France?", version="v3")
    events = list(stream)
    assert events
    assert stream.output.text == "Paris."
    assert [b["type"] for b in stream.output.content_blocks] == ["reasoning", "text"]


def test_token_counting_uses_the_estimate_endpoint(kimi_emulator: KimiEmulator) -> None:
    model = _model(kimi_emulator)
    count = model.get_num_tokens_from_messages([("system", "Be brief."), ("user", "Hi there")])
    assert count > 0
    estimate = [r for r in kimi_emulator.requests if r.path.endswith("estimate-token-count")]
    assert estimate[-1].body == {
        "model": "kimi-k2.6",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi there"},
        ],
    }
    assert model.get_num_tokens("Hi there") > 0


def test_token_counting_includes_tool_declarations(kimi_emulator: KimiEmulator) -> None:
    model = _model(kimi_emulator)
    tool = {
        "type": "function",
        "function": {"name": "ping", "parameters": {"type": "object", "properties": {}}},
    }
    plain = model.get_num_tokens_from_messages([HumanMessage("Hi")])
    with_tools = model.get_num_tokens_from_messages([HumanMessage("Hi")], tools=[tool])
    assert with_tools > plain
    body = [r for r in kimi_emulator.requests if r.path.endswith("estimate-token-count")][-1].body
    assert body["messages"][0] == {"role": "system", "content": json.dumps([tool])}
