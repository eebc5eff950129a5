"""Knobs, credentials, metadata and secrets of ``Kimi``."""

from __future__ import annotations

import copy
import json
import pickle
import time

import pytest
from kimi_core import APITimeoutError, EngineOverloadedError, get_profile
from kimi_emulator import Fault, Reply
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.constants import DEFAULT_NUM_OUTPUTS
from llama_index.core.tools import FunctionTool
from llama_index.llms.kimi import Kimi

SECRET = "sk-this-key-must-never-leak-0123456789"


def user(text: str) -> list[ChatMessage]:
    return [ChatMessage(role="user", content=text)]


def test_key_from_moonshot_api_key(kimi_emulator, monkeypatch) -> None:
    monkeypatch.setenv("MOONSHOT_API_KEY", kimi_emulator.api_key)
    monkeypatch.setenv("KIMI_API_KEY", "wrong-key")
    llm = Kimi(base_url=kimi_emulator.base_url, max_retries=0)
    # The emulator answers 401 to any other key, so this also shows MOONSHOT_API_KEY wins.
    assert llm.chat(user("hi")).message.content


def test_key_from_kimi_api_key_and_base_url_from_env(kimi_emulator, monkeypatch) -> None:
    monkeypatch.setenv("KIMI_API_KEY", kimi_emulator.api_key)
    monkeypatch.setenv("MOONSHOT_BASE_URL", kimi_emulator.base_url)
    llm = Kimi(max_retries=0)
    assert llm.chat(user("hi")).message.content
    assert len(kimi_emulator.chat_requests) == 1


def test_openai_api_key_is_never_used(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    with pytest.raises(ValueError, match=r"MOONSHOT_API_KEY.*KIMI_API_KEY"):
        Kimi()


def test_region_cn_selects_the_mainland_endpoint() -> None:
    assert Kimi(api_key=SECRET, region="cn").client.base_url == "https://api.moonshot.cn/v1"
    assert Kimi(api_key=SECRET).client.base_url == "https://api.moonshot.ai/v1"


def test_secret_never_serialized_or_logged() -> None:
    llm = Kimi(api_key=SECRET, default_headers={"X-Team-Token": SECRET})
    assert SECRET not in repr(llm)
    assert SECRET not in str(llm)
    assert SECRET not in json.dumps(llm.to_dict(), default=str)
    assert SECRET not in llm.to_json()
    assert SECRET not in json.dumps(llm.to_payload(), default=str)
    assert SECRET not in repr(llm.client)
    assert "api_key" not in llm.to_dict()


def test_to_payload_describes_the_model() -> None:
    payload = Kimi(api_key=SECRET, model="kimi-k3", reasoning_effort="low").to_payload()
    assert payload["class_name"] == "Kimi_LLM"
    assert payload["model_name"] == "kimi-k3"
    assert payload["reasoning_effort"] == "low"


@pytest.mark.parametrize("model", ["kimi-k2.6", "kimi-k3", "kimi-k2.7-code", "moonshot-v1-8k"])
def test_metadata_comes_from_the_profile(model: str) -> None:
    profile = get_profile(model)
    meta = Kimi(api_key=SECRET, model=model).metadata
    assert meta.context_window == profile.context_window
    assert meta.num_output == profile.default_max_tokens
    assert meta.is_chat_model
    assert meta.is_function_calling_model
    assert meta.model_name == model


def test_metadata_num_output_follows_max_tokens_and_unknown_models_are_safe() -> None:
    assert Kimi(api_key=SECRET, max_tokens=2048).metadata.num_output == 2048
    proxy = Kimi(api_key=SECRET, model="my-proxy-model").metadata
    assert proxy.context_window == get_profile("my-proxy-model").context_window
    assert proxy.num_output == DEFAULT_NUM_OUTPUTS


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"temperature": 0.3, "sampling_policy": "error"}, "only accepts temperature=1"),
        ({"thinking": False, "temperature": 1.0, "sampling_policy": "error"}, "temperature=0.6"),
        ({"model": "kimi-k2.6", "top_p": 0.5, "sampling_policy": "error"}, "top_p"),
        ({"model": "kimi-k2.6", "reasoning_effort": "high"}, "does not support reasoning_effort"),
        ({"model": "kimi-k3", "thinking": False}, "always thinks"),
        ({"model": "kimi-k2.6", "thinking": False, "preserve_thinking": True}, "needs thinking"),
    ],
)
def test_impossible_knobs_fail_at_construction(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Kimi(api_key=SECRET, **kwargs)


def test_thinking_knobs_reach_the_wire(make_llm, kimi_emulator) -> None:
    make_llm(thinking=False).chat(user("hi"))
    make_llm(preserve_thinking=True, max_tokens=4000).chat(user("hi"))
    make_llm(model="kimi-k3", reasoning_effort="low").chat(user("hi"))
    off, keep, k3 = kimi_emulator.chat_requests
    assert off["thinking"] == {"type": "disabled"}
    assert keep["thinking"] == {"type": "enabled", "keep": "all"}
    assert keep["max_completion_tokens"] == 4000
    assert k3["reasoning_effort"] == "low"
    assert "thinking" not in k3
    for body in (off, keep, k3):
        assert "temperature" not in body
        assert "top_p" not in body


def test_defaults_send_no_sampling_and_no_thinking_field(llm, kimi_emulator) -> None:
    llm.chat(user("hi"))
    body = kimi_emulator.chat_requests[0]
    assert body == {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}]}


def test_extra_body_prompt_cache_key_and_per_call_overrides(make_llm, kimi_emulator) -> None:
    llm = make_llm(prompt_cache_key="session-1", safety_identifier="u1")
    llm.chat(user("hi"), thinking=False, max_tokens=100, temperature=0.6)
    body = kimi_emulator.chat_requests[0]
    assert body["prompt_cache_key"] == "session-1"
    assert body["safety_identifier"] == "u1"
    assert body["thinking"] == {"type": "disabled"}
    assert body["max_completion_tokens"] == 100
    assert body["temperature"] == 0.6


def test_additional_kwargs_may_not_shadow_a_setting(make_llm, kimi_emulator) -> None:
    # Was: sent as given, so the setting of the same name was bypassed (issue 17).
    with pytest.raises(ValueError, match="'safety_identifier': use the safety_identifier setting"):
        make_llm(additional_kwargs={"safety_identifier": "u1"})
    assert kimi_emulator.chat_requests == []


def test_per_call_override_is_validated_before_sending(llm, kimi_emulator) -> None:
    with pytest.raises(ValueError, match="temperature"):
        llm.chat(user("hi"), temperature=0.2, sampling_policy="error")
    assert kimi_emulator.chat_requests == []


def test_unknown_keyword_is_an_error_not_silently_dropped(llm, kimi_emulator) -> None:
    with pytest.raises(TypeError, match="frobnicate"):
        llm.chat(user("hi"), frobnicate=True)
    assert kimi_emulator.chat_requests == []


def test_max_retries_retries_an_overloaded_engine(make_llm, kimi_emulator) -> None:
    kimi_emulator.script(Fault.overloaded(retry_after=0.01))
    response = make_llm(max_retries=1).chat(user("hi"))
    assert response.message.content
    assert len(kimi_emulator.chat_requests) == 2


def test_max_retries_zero_surfaces_the_typed_error(make_llm, kimi_emulator) -> None:
    kimi_emulator.script(Fault.overloaded(retry_after=0.01))
    with pytest.raises(EngineOverloadedError):
        make_llm(max_retries=0).chat(user("hi"))
    assert len(kimi_emulator.chat_requests) == 1


def test_timeout_is_applied(make_llm, kimi_emulator) -> None:
    kimi_emulator.script(Fault.delay_first_byte(0.5))
    kimi_emulator.script(Reply(content="too late"))
    with pytest.raises(APITimeoutError):
        make_llm(timeout=0.1).chat(user("hi"))
    # The emulator still answers the abandoned request after its delay; let it do so now, or it
    # would take the next test's scripted reply.
    time.sleep(1.0)


def test_penalties_stop_and_tool_choice_policy(make_llm, kimi_emulator) -> None:
    with pytest.raises(ValueError, match="presence_penalty"):
        make_llm(presence_penalty=0.5, sampling_policy="error")
    make_llm(presence_penalty=0.0, frequency_penalty=0.0, stop=["END"]).chat(user("hi"))
    body = kimi_emulator.chat_requests[0]
    assert (body["presence_penalty"], body["frequency_penalty"], body["stop"]) == (
        0.0,
        0.0,
        ["END"],
    )
    with pytest.raises(ValueError, match="required"):
        make_llm(tool_choice_policy="error").chat_with_tools(
            [FunctionTool.from_defaults(fn=lambda x: x, name="echo")],
            user_msg="hi",
            tool_required=True,
        )
    assert len(kimi_emulator.chat_requests) == 1


def test_knobs_assigned_after_construction_are_checked_and_applied(llm, kimi_emulator) -> None:
    llm.sampling_policy = "error"
    llm.thinking = False
    llm.max_tokens = 50
    llm.chat(user("hi"))
    body = kimi_emulator.chat_requests[0]
    assert body["thinking"] == {"type": "disabled"}
    assert body["max_completion_tokens"] == 50
    with pytest.raises(ValueError, match="temperature"):
        llm.temperature = 0.3
    with pytest.raises(ValueError, match="temperature"):
        llm.chat(user("hi"))
    assert len(kimi_emulator.chat_requests) == 1


def test_openailike_api_base_is_honoured_and_unknown_arguments_refused(kimi_emulator) -> None:
    llm = Kimi(api_key=kimi_emulator.api_key, api_base=kimi_emulator.base_url, max_retries=0)
    assert llm.chat(user("hi")).message.content
    assert len(kimi_emulator.chat_requests) == 1
    with pytest.raises(ValueError, match="is_function_calling_model"):
        Kimi(api_key=SECRET, is_function_calling_model=True)


def test_copies_and_pickles_work_and_keep_their_knobs(make_llm, kimi_emulator, monkeypatch) -> None:
    llm = make_llm(thinking=False, max_tokens=77)
    clone = copy.deepcopy(llm)
    # A pickle holds neither the key nor the client: unpickling reads the key from the
    # environment and __init__ builds a new client.
    monkeypatch.setenv("MOONSHOT_API_KEY", kimi_emulator.api_key)
    restored = pickle.loads(pickle.dumps(llm))
    for other in (clone, restored):
        assert other is not llm
        other.chat(user("hi"))
    for body in kimi_emulator.chat_requests:
        assert body["thinking"] == {"type": "disabled"}
        assert body["max_completion_tokens"] == 77


def test_pickle_never_holds_the_key_and_unpickling_reads_it_again(
    kimi_emulator, monkeypatch, caplog
) -> None:
    llm = Kimi(api_key=SECRET, base_url=kimi_emulator.base_url, thinking=False, max_retries=0)
    with caplog.at_level("WARNING"):
        data = pickle.dumps(llm)
    assert SECRET.encode() not in data
    # The client is left out on purpose, not found unpicklable by LlamaIndex.
    assert "unpickleable" not in caplog.text
    # Pickling a copy leaves the original intact.
    assert llm.api_key is not None
    assert llm.api_key.get_secret_value() == SECRET
    with pytest.raises(ValueError, match=r"never pickled.*MOONSHOT_API_KEY or KIMI_API_KEY"):
        pickle.loads(data)
    monkeypatch.setenv("KIMI_API_KEY", kimi_emulator.api_key)
    restored = pickle.loads(data)
    assert restored.thinking is False
    # The emulator answers 401 to any key but its own: the key really came from the environment.
    assert restored.chat(user("hi")).message.content
    assert kimi_emulator.chat_requests[-1]["thinking"] == {"type": "disabled"}
