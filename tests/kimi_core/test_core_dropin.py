"""Drop-in rules in kimi-core (issue 13): habits from other providers and the extra-body guard.

Both adapters build their requests here, so what is checked once here holds for both.
"""

from __future__ import annotations

import logging

import pytest
from kimi_core import (
    ChatSettings,
    KimiClient,
    Message,
    build_chat_request,
    check_thinking_and_sampling,
)
from kimi_emulator import KimiEmulator

_HI = [Message.user("hi")]


def test_temperature_zero_is_left_out_and_reported(
    client: KimiClient, kimi_emulator: KimiEmulator
) -> None:
    request = build_chat_request(_HI, ChatSettings(model="kimi-k2.6", temperature=0))
    client.complete(request)
    body = kimi_emulator.chat_requests[-1]
    assert "temperature" not in body
    [note] = request.adjustments
    assert "kimi-k2.6 only accepts temperature=1 with thinking on" in note
    assert "temperature=0 is left out" in note


def test_sampling_policy_error_keeps_the_strict_check(kimi_emulator: KimiEmulator) -> None:
    with pytest.raises(ValueError, match=r"only accepts temperature=0.6 with thinking off"):
        build_chat_request(
            _HI,
            ChatSettings(model="kimi-k2.6", thinking=False, temperature=0, sampling_policy="error"),
        )
    with pytest.raises(ValueError, match="sampling_policy must be 'omit' or 'error'"):
        build_chat_request(_HI, ChatSettings(sampling_policy="drop"))  # type: ignore[arg-type]
    assert kimi_emulator.chat_requests == []


def test_values_the_model_takes_are_still_sent() -> None:
    request = build_chat_request(_HI, ChatSettings(thinking=False, temperature=0.6, top_p=0.95))
    assert (request.body["temperature"], request.body["top_p"]) == (0.6, 0.95)
    assert request.adjustments == []
    free = build_chat_request(_HI, ChatSettings(model="moonshot-v1-8k", temperature=0))
    assert free.body["temperature"] == 0
    assert free.adjustments == []


def test_n_is_never_left_out() -> None:
    # Dropping n would silently return fewer answers than asked for.
    with pytest.raises(ValueError, match="only accepts n=1"):
        build_chat_request(_HI, ChatSettings(model="kimi-k2.6", n=3))


def test_the_construction_check_warns_once_per_configuration(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="kimi_core"):
        check_thinking_and_sampling(ChatSettings(temperature=0, top_p=0.5))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "temperature=0 is left out" in warnings[0]
    assert "top_p=0.5 is left out" in warnings[1]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="kimi_core"):
        build_chat_request(_HI, ChatSettings(temperature=0))
    # Per request: an info record and the adjustment, not a warning per call.
    assert [r.levelno for r in caplog.records] == [logging.INFO]


@pytest.mark.parametrize(
    ("extra", "fix"),
    [
        ({"n": 2}, "'n': use the n setting"),
        ({"temperature": 0.3}, "'temperature': use the temperature setting"),
        ({"max_tokens": 9}, "'max_tokens': use the max_tokens setting"),
        ({"tools": []}, "'tools': use tools"),
        ({"stream": True}, "'stream': use the streaming call"),
        ({"extra_body": {"thinking": {"type": "disabled"}}}, "'extra_body': use the fields"),
    ],
)
def test_extra_body_may_not_set_managed_fields(
    extra: dict[str, object], fix: str, kimi_emulator: KimiEmulator
) -> None:
    # Merged last, these would bypass the checks (n=2 past the one-answer guard).
    settings = ChatSettings(extra_body=extra)
    with pytest.raises(ValueError, match=fix):
        build_chat_request(_HI, settings)
    with pytest.raises(ValueError, match=fix):
        check_thinking_and_sampling(settings)
    assert kimi_emulator.chat_requests == []


def test_n_guard_holds_for_models_with_free_sampling() -> None:
    with pytest.raises(ValueError, match="n=2 is not supported"):
        check_thinking_and_sampling(ChatSettings(model="moonshot-v1-8k", n=2))


def test_unknown_extra_fields_still_pass(client: KimiClient, kimi_emulator: KimiEmulator) -> None:
    # safety_identifier, the example here before, is a setting: extra_body may not shadow it.
    request = build_chat_request(_HI, ChatSettings(extra_body={"top_k": 20}))
    client.complete(request)
    assert kimi_emulator.chat_requests[-1]["top_k"] == 20
