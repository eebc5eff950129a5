"""Profiles as data, thinking knobs and sampling checks: impossible combinations fail early."""

from __future__ import annotations

from datetime import date

import pytest
from kimi_core import (
    PROFILES,
    ChatSettings,
    Message,
    build_chat_request,
    check_sampling,
    check_thinking_and_sampling,
    get_profile,
    resolve_thinking,
)
from kimi_core.profiles import profile_from_model_info

KEEP_ALL = {"thinking": {"type": "enabled", "keep": "all"}}
CURRENT = ["kimi-k2.6", "kimi-k2.7-code", "kimi-k2.7-code-highspeed", "kimi-k3"]
RETIRED = {
    "kimi-k2.5": date(2026, 8, 31),
    "kimi-k2-thinking": date(2026, 5, 25),
    "kimi-k2-thinking-turbo": date(2026, 5, 25),
    "kimi-k2-0905-preview": date(2026, 5, 25),
    "kimi-k2-0711-preview": date(2026, 5, 25),
    "kimi-k2-turbo-preview": date(2026, 5, 25),
    "kimi-latest": date(2026, 1, 28),
    "moonshot-v1-8k": date(2026, 8, 31),
    "moonshot-v1-32k": date(2026, 8, 31),
    "moonshot-v1-128k": date(2026, 8, 31),
    "moonshot-v1-auto": date(2026, 8, 31),
    "moonshot-v1-8k-vision-preview": date(2026, 8, 31),
}


def test_table_covers_current_and_retired_models():
    for model in CURRENT:
        assert PROFILES[model].retired_on is None
    for model, when in RETIRED.items():
        assert PROFILES[model].retired_on == when
        assert PROFILES[model].replacement == "kimi-k2.6"


def test_documented_facts():
    k26, k27, k3 = get_profile("kimi-k2.6"), get_profile("kimi-k2.7-code"), get_profile("kimi-k3")
    assert (k26.context_window, k26.default_max_tokens) == (262_144, 32_768)
    assert (k3.context_window, k3.default_max_tokens) == (1_048_576, 131_072)
    assert k26.image_input
    assert k26.video_input
    assert k3.video_input
    assert k27.video_input
    assert not get_profile("moonshot-v1-8k-vision-preview").video_input
    assert get_profile("moonshot-v1-8k-vision-preview").image_input
    assert (k26.thinking_form, k27.thinking_form, k3.thinking_form) == (
        "toggle",
        "always",
        "effort",
    )
    assert k3.effort_levels == ("low", "high", "max")
    assert k3.default_effort == "max"
    assert k26.accepts_keep
    assert not get_profile("kimi-k2.5").accepts_keep
    assert k27.keep_always
    assert k3.keep_always
    assert get_profile("moonshot-v1-8k").context_window == 8_192


def test_unknown_ids_get_permissive_defaults_and_k3_family():
    proxy = get_profile("my-self-hosted-model")
    assert not proxy.known
    assert proxy.id == "my-self-hosted-model"
    assert proxy.fixed_sampling(True) is None
    assert proxy.fixed_sampling(False) is None
    assert proxy.image_input
    assert proxy.video_input
    future = get_profile("kimi-k3.2")
    assert future.thinking_form == "effort"
    assert future.context_window == 1_048_576
    assert future.id == "kimi-k3.2"
    assert not future.known


def test_models_endpoint_merges_into_profiles():
    merged = profile_from_model_info(
        {
            "id": "kimi-k2.6",
            "context_length": 131_072,
            "supports_image_in": True,
            "supports_video_in": False,
            "supports_reasoning": True,
        }
    )
    assert merged.context_window == 131_072
    assert merged.max_output_tokens == 131_072
    assert not merged.video_input
    assert merged.thinking_form == "toggle"


# -- thinking ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "thinking", "preserve", "effort", "enabled", "keep", "wire"),
    [
        ("kimi-k2.6", None, False, None, True, False, {}),
        ("kimi-k2.6", True, False, None, True, False, {"thinking": {"type": "enabled"}}),
        ("kimi-k2.6", False, False, None, False, False, {"thinking": {"type": "disabled"}}),
        ("kimi-k2.6", None, True, None, True, True, KEEP_ALL),
        ("kimi-k2.7-code", None, False, None, True, True, {}),
        ("kimi-k2.7-code", True, True, None, True, True, {}),
        ("kimi-k3", None, False, None, True, True, {}),
        ("kimi-k3", True, False, "low", True, True, {"reasoning_effort": "low"}),
        ("kimi-k3", None, True, "max", True, True, {"reasoning_effort": "max"}),
        ("moonshot-v1-8k", None, False, None, False, False, {}),
        ("moonshot-v1-8k", False, False, None, False, False, {}),
        ("kimi-k2-thinking", None, False, None, True, False, {}),
        ("proxy-model", None, False, None, False, False, {}),
        ("proxy-model", True, True, None, True, True, KEEP_ALL),
        ("proxy-model", None, False, "high", False, False, {"reasoning_effort": "high"}),
    ],
)  # fmt: skip
def test_resolve_thinking(model, thinking, preserve, effort, enabled, keep, wire):
    state = resolve_thinking(get_profile(model), thinking, preserve, effort)
    assert (state.enabled, state.keep, state.wire) == (enabled, keep, wire)


@pytest.mark.parametrize(
    ("model", "thinking", "preserve", "effort", "message"),
    [
        ("kimi-k2.7-code", False, False, None, "always thinks"),
        ("kimi-k3", False, False, None, "reasoning_effort='low'"),
        ("kimi-k3", False, False, "low", "cannot be combined"),
        ("kimi-k3", None, False, "medium", "one of 'low', 'high', 'max'"),
        ("kimi-k2.6", None, False, "high", "use thinking=True/False"),
        ("kimi-k2.6", False, True, None, "needs thinking on"),
        ("kimi-k2.5", None, True, None, "does not accept preserve_thinking"),
        ("moonshot-v1-8k", True, False, None, "does not support thinking"),
        ("moonshot-v1-8k", None, True, None, "preserve_thinking must be False"),
        ("kimi-k2-thinking", None, True, None, "does not support preserve_thinking"),
    ],
)
def test_impossible_thinking_combinations(model, thinking, preserve, effort, message):
    with pytest.raises(ValueError, match=message) as info:
        resolve_thinking(get_profile(model), thinking, preserve, effort)
    assert model in str(info.value)


# -- sampling ------------------------------------------------------------------------------


def test_sampling_omitted_unless_set():
    assert check_sampling(get_profile("kimi-k2.6"), True) == {}
    assert check_sampling(get_profile("kimi-k2.6"), True, temperature=None, top_p=None) == {}


@pytest.mark.parametrize(
    ("model", "thinking_on", "params", "sent"),
    [
        ("kimi-k2.6", True, {"temperature": 1.0, "top_p": 0.95, "n": 1}, None),
        ("kimi-k2.6", False, {"temperature": 0.6, "presence_penalty": 0}, None),
        ("kimi-k3", True, {"temperature": 1, "frequency_penalty": 0.0}, None),
        ("moonshot-v1-8k", False, {"temperature": 0.3, "top_p": 0.5, "n": 3}, None),
        ("proxy-model", True, {"temperature": 0.2, "presence_penalty": 1.5}, None),
    ],
)
def test_sampling_accepted_values_pass_through(model, thinking_on, params, sent):
    assert check_sampling(get_profile(model), thinking_on, **params) == (sent or params)


@pytest.mark.parametrize(
    ("model", "thinking_on", "params", "message"),
    [
        ("kimi-k2.6", True, {"temperature": 0.6}, "only accepts temperature=1 with thinking on"),
        (
            "kimi-k2.6",
            False,
            {"temperature": 1.0},
            "temperature=0.6 with thinking off",
        ),
        ("kimi-k3", True, {"temperature": 0.5}, "only accepts temperature=1"),
        ("kimi-k2.7-code", True, {"top_p": 0.9}, "only accepts top_p=0.95"),
        ("kimi-k2.6", True, {"n": 2}, "only accepts n=1"),
        ("kimi-k2.6", True, {"presence_penalty": 0.5}, "only accepts presence_penalty=0"),
        ("kimi-k3", True, {"frequency_penalty": 1}, "only accepts frequency_penalty=0"),
        ("moonshot-v1-8k", False, {"n": 0}, "positive integer"),
        ("moonshot-v1-8k", False, {"temperature": "hot"}, "must be a number"),
    ],
)
def test_sampling_rejected_before_any_request(model, thinking_on, params, message):
    with pytest.raises(ValueError, match=message):
        check_sampling(get_profile(model), thinking_on, **params)


def test_sampling_unknown_parameter():
    with pytest.raises(ValueError, match="unknown sampling parameter"):
        check_sampling(get_profile("kimi-k2.6"), True, top_k=3)


@pytest.mark.parametrize(("thinking", "preserve"), [("yes", False), (1, False), (None, "all")])
def test_thinking_knob_types(thinking, preserve):
    with pytest.raises(TypeError, match="must be"):
        resolve_thinking(get_profile("kimi-k2.6"), thinking, preserve)


# -- the adapters' construction-time check ---------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        ChatSettings(model="kimi-k2.7-code", thinking=False),
        ChatSettings(model="kimi-k3", reasoning_effort="medium"),
        ChatSettings(model="kimi-k2.6", thinking=False, preserve_thinking=True),
        ChatSettings(model="kimi-k2.6", temperature=0.6, sampling_policy="error"),
        ChatSettings(model="kimi-k2.6", thinking=False, temperature=1.0, sampling_policy="error"),
        ChatSettings(model="kimi-k2.7-code", top_p=0.9, sampling_policy="error"),
        ChatSettings(model="kimi-k3", presence_penalty=0.5, sampling_policy="error"),
        ChatSettings(model="moonshot-v1-8k", frequency_penalty="high"),  # type: ignore[arg-type]
        ChatSettings(model=""),
    ],
)
def test_construction_check_raises_what_a_request_would(settings: ChatSettings) -> None:
    # Adapters call the check when configured; the error must be the one a call would raise.
    with pytest.raises(ValueError) as at_request:
        build_chat_request([Message.user("hi")], settings)
    with pytest.raises(ValueError) as at_construction:
        check_thinking_and_sampling(settings)
    assert str(at_construction.value) == str(at_request.value)


@pytest.mark.parametrize(
    "settings",
    [
        ChatSettings(),
        ChatSettings(model="kimi-k2.6", thinking=False, temperature=0.6),
        ChatSettings(model="kimi-k2.6", preserve_thinking=True, top_p=0.95),
        ChatSettings(model="kimi-k3", reasoning_effort="low", temperature=1),
        ChatSettings(model="moonshot-v1-8k", temperature=0.3, presence_penalty=1.0),
    ],
)
def test_construction_check_resolves_the_request_thinking(settings: ChatSettings) -> None:
    request = build_chat_request([Message.user("hi")], settings)
    assert check_thinking_and_sampling(settings) == request.thinking
