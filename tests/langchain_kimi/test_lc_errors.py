"""Kimi failures surface as langchain-core ModelErrors that are also kimi-core errors."""

from __future__ import annotations

from typing import Any

import kimi_core
import pytest
from kimi_emulator import Fault, KimiEmulator
from langchain_core import exceptions as lc
from langchain_kimi import ChatKimi
from langchain_kimi._errors import to_langchain_error


def _model(emu: KimiEmulator, **kwargs: Any) -> ChatKimi:
    return ChatKimi(base_url=emu.base_url, api_key=emu.api_key, **kwargs)


@pytest.mark.parametrize(
    ("fault", "lc_class", "kimi_class", "retryable"),
    [
        (Fault.quota(), lc.ModelRateLimitError, kimi_core.QuotaExhaustedError, False),
        (Fault.overloaded(), lc.ModelRateLimitError, kimi_core.EngineOverloadedError, True),
        (Fault.rate_limit(), lc.ModelRateLimitError, kimi_core.RateLimitError, True),
        (Fault.server_error(503), lc.ModelAPIError, kimi_core.ServerError, True),
        (Fault.content_filter(), lc.ModelInvalidRequestError, kimi_core.ContentFilterError, False),
        (
            Fault.status(401, "invalid_authentication_error", "Invalid Authentication"),
            lc.ModelAuthenticationError,
            kimi_core.AuthenticationError,
            False,
        ),
        (
            Fault.status(403, "permission_denied_error", "Not allowed"),
            lc.ModelPermissionDeniedError,
            kimi_core.PermissionDeniedError,
            False,
        ),
        (
            Fault.status(
                400,
                "invalid_request_error",
                "Invalid request: Your request exceeded model token limit: 262144 "
                "(requested: 291351)",
            ),
            lc.ContextOverflowError,
            kimi_core.ContextOverflowError,
            False,
        ),
    ],
)
def test_faults_map_onto_the_model_error_taxonomy(
    kimi_emulator: KimiEmulator,
    fault: Fault,
    lc_class: type[lc.ModelError],
    kimi_class: type[kimi_core.KimiError],
    retryable: bool,
) -> None:
    kimi_emulator.script(fault)
    with pytest.raises(lc_class) as caught:
        _model(kimi_emulator, max_retries=0).invoke("Hello")
    assert isinstance(caught.value, kimi_class)
    assert caught.value.is_retryable is retryable
    assert caught.value.status == fault.http_status
    assert caught.value.request_id


def test_quota_exhaustion_is_not_retried(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Fault.quota())
    with pytest.raises(kimi_core.QuotaExhaustedError):
        _model(kimi_emulator, max_retries=3).invoke("Hello")
    assert len(kimi_emulator.chat_requests) == 1


def test_overload_is_retried_then_succeeds(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Fault.overloaded(retry_after=0))
    result = _model(kimi_emulator, max_retries=2).invoke("What is 2 + 2?")
    assert result.text == "4"
    assert len(kimi_emulator.chat_requests) == 2


def test_stream_errors_are_mapped(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Fault.server_error())
    with pytest.raises(lc.ModelAPIError):
        list(_model(kimi_emulator, max_retries=0).stream("Hello"))


async def test_async_errors_are_mapped(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Fault.quota())
    with pytest.raises(lc.ModelRateLimitError) as caught:
        await _model(kimi_emulator).ainvoke("Hello")
    assert caught.value.is_retryable is False
    kimi_emulator.script(Fault.content_filter())
    with pytest.raises(kimi_core.ContentFilterError):
        [c async for c in _model(kimi_emulator).astream("Hello")]


def test_a_stream_cut_short_is_an_error_not_a_truncated_answer(
    kimi_emulator: KimiEmulator,
) -> None:
    kimi_emulator.script(Fault.disconnect_after(3))
    with pytest.raises(lc.ModelError) as caught:
        list(_model(kimi_emulator).stream("Tell me a long story"))
    assert isinstance(caught.value, kimi_core.KimiError)
    assert caught.value.is_retryable is False


def test_every_kimi_core_error_class_stays_catchable_as_itself() -> None:
    for name in kimi_core.errors.__all__:
        cls = getattr(kimi_core.errors, name)
        if isinstance(cls, type) and issubclass(cls, kimi_core.KimiError):
            mapped = to_langchain_error(cls("boom", status=500))
            assert isinstance(mapped, cls)
            assert isinstance(mapped, lc.ModelError)


def test_a_kimi_core_subclass_unknown_to_the_table_keeps_its_class() -> None:
    class SlowDownError(kimi_core.RateLimitError):
        pass

    mapped = to_langchain_error(SlowDownError("later", status=429))
    assert isinstance(mapped, SlowDownError)
    assert isinstance(mapped, lc.ModelRateLimitError)
    assert mapped.is_retryable is True


def test_mapping_keeps_every_attribute() -> None:
    error = kimi_core.RateLimitError(
        "slow down", status=429, error_type="rate_limit_reached_error", retry_after=2.5
    )
    mapped = to_langchain_error(error)
    assert isinstance(mapped, lc.ModelRateLimitError)
    assert isinstance(mapped, kimi_core.RateLimitError)
    assert (mapped.message, mapped.status, mapped.error_type, mapped.retry_after) == (
        "slow down",
        429,
        "rate_limit_reached_error",
        2.5,
    )
    assert to_langchain_error(mapped) is mapped
