"""Contract: every ``ChatSettings`` field is reachable from both adapters under its own name.

kimi-core owns the settings vocabulary (issue 17 section 1). For each field of the dataclass,
both ``ChatKimi`` and ``Kimi`` take it as a constructor argument and per call, under the same
name, and it arrives in the ``ChatSettings`` they build. A new field fails here until both
adapters take it (and until it has a sample value below).

The one documented exception: at construction, ``extra_body`` is spelt the framework's way,
``model_kwargs`` on ``ChatKimi`` (as on ``ChatOpenAI``) and ``additional_kwargs`` on ``Kimi``
(as on ``OpenAILike``); per call it is ``extra_body`` in both. ``ChatKimi``'s ``model`` is the
field ``model_name`` with the argument name ``model``, so the argument has the same name.

The settings are read through each adapter's ``_settings``, the one place each builds them for
a request; that they then reach the wire is tested through the emulator in
``test_lc_settings_vocab.py`` / ``test_li_settings_vocab.py`` and the adapters' other tests.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from kimi_core import MANAGED_BODY_FIELDS, SETTING_NAMES, ChatSettings, MediaPolicy
from langchain_kimi import ChatKimi
from llama_index.llms.kimi import Kimi

# A value for each setting that differs from its default and passes the constructor's checks.
SAMPLES: dict[str, Any] = {
    "model": "moonshot-v1-8k",
    "thinking": False,
    "preserve_thinking": True,
    "reasoning_effort": "low",
    "max_tokens": 123,
    "temperature": 0.6,
    "top_p": 0.95,
    "n": 1,
    "presence_penalty": 0.0,
    "frequency_penalty": 0.0,
    "stop": ["END"],
    "prompt_cache_key": "session-1",
    "prompt_cache_options": {"ttl": "1h"},
    "safety_identifier": "user-hash",
    "logprobs": True,
    "top_logprobs": 2,
    "stream_usage": False,
    "tool_choice_policy": "error",
    "sampling_policy": "error",
    "web_search_max_rounds": 3,
    "media": MediaPolicy(download=False),
    "extra_body": {"top_k": 20},
    "endpoint": "vllm",
}
# Settings whose sample needs another setting beside it.
COMPANIONS: dict[str, dict[str, Any]] = {"reasoning_effort": {"model": "kimi-k3"}}
# The constructor spelling of a setting, where the framework's own name differs (see above).
CONSTRUCTOR_NAME = {
    ChatKimi: {"extra_body": "model_kwargs"},
    Kimi: {"extra_body": "additional_kwargs"},
}
FIELDS = [field.name for field in dataclasses.fields(ChatSettings)]


def _build(adapter: type[ChatKimi | Kimi], **kwargs: Any) -> ChatKimi | Kimi:
    return adapter(api_key="sk-contract", base_url="http://127.0.0.1:9/v1", **kwargs)


def _settings(model: ChatKimi | Kimi, per_call: dict[str, Any]) -> ChatSettings:
    if isinstance(model, ChatKimi):
        return model._settings(None, per_call)
    return model._settings(per_call)


def test_every_field_has_a_sample_and_kimi_core_names_them_all() -> None:
    assert set(SAMPLES) == set(FIELDS), "add a sample value for each new ChatSettings field"
    assert tuple(FIELDS) == SETTING_NAMES
    for name in FIELDS:
        default = next(f for f in dataclasses.fields(ChatSettings) if f.name == name)
        value = default.default_factory() if callable(default.default_factory) else default.default
        assert SAMPLES[name] != value, f"the sample of {name} must differ from its default"


@pytest.mark.parametrize("adapter", [ChatKimi, Kimi])
@pytest.mark.parametrize("name", FIELDS)
def test_each_setting_is_a_constructor_argument(adapter: type[Any], name: str) -> None:
    argument = CONSTRUCTOR_NAME[adapter].get(name, name)
    model = _build(adapter, **COMPANIONS.get(name, {}), **{argument: SAMPLES[name]})
    assert getattr(_settings(model, {}), name) == SAMPLES[name]


@pytest.mark.parametrize("adapter", [ChatKimi, Kimi])
@pytest.mark.parametrize("name", FIELDS)
def test_each_setting_is_a_per_call_argument(adapter: type[Any], name: str) -> None:
    model = _build(adapter, **COMPANIONS.get(name, {}))
    assert getattr(_settings(model, {name: SAMPLES[name]}), name) == SAMPLES[name]


@pytest.mark.parametrize("adapter", [ChatKimi, Kimi])
def test_an_unknown_per_call_setting_names_the_closest(adapter: type[Any]) -> None:
    with pytest.raises(TypeError, match="'temprature' \\(did you mean 'temperature'\\?\\)"):
        _settings(_build(adapter), {"temprature": 0.6})


@pytest.mark.parametrize("name", FIELDS)
def test_no_extra_body_key_shadows_a_setting(name: str) -> None:
    # A setting's name sent as a body field would bypass (or silently not apply) the setting.
    assert name in MANAGED_BODY_FIELDS
