"""Fault matrix: ChatKimi and Kimi in invoke/ainvoke/stream/astream against every emulator fault.

The emulator's request log is the witness for how many attempts went out; kimi-core's retry log
records (``retrying in <s>s``) show which wait was chosen. No wall-clock assertion anywhere.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import kimi_core
import pytest
from kimi_emulator import Fault, KimiEmulator, Reply
from langchain_core import exceptions as lc
from rel_helpers import (
    ANSWER,
    FRAMEWORKS,
    INVOKE_MODES,
    MODES,
    PROMPT,
    REASONING,
    STREAM_MODES,
    Outcome,
    drive,
    reply,
    retry_delays,
)

pytestmark = pytest.mark.usefixtures("fast_backoff")

REQUEST_ID = re.compile(r"\[request_id=[0-9a-f]{32}\]")


@dataclass(frozen=True)
class Case:
    """One retryable fault, what it becomes once retries run out, and the LangChain class."""

    fault: Fault
    error: type[kimi_core.KimiError]
    lc_error: type[lc.ModelError]
    retry_after: float | None = None
    has_request_id: bool = True
    timeout: float | None = None


RETRYABLE = {
    "429-overloaded": Case(
        Fault.overloaded(), kimi_core.EngineOverloadedError, lc.ModelRateLimitError
    ),
    "429-overloaded-retry-after": Case(
        Fault.overloaded(retry_after=0.05),
        kimi_core.EngineOverloadedError,
        lc.ModelRateLimitError,
        retry_after=0.05,
    ),
    "429-rate-limit": Case(
        Fault.rate_limit("tpm"), kimi_core.RateLimitError, lc.ModelRateLimitError
    ),
    "429-rate-limit-retry-after": Case(
        Fault.rate_limit("rpm", retry_after=0.05),
        kimi_core.RateLimitError,
        lc.ModelRateLimitError,
        retry_after=0.05,
    ),
    "500": Case(Fault.server_error(500), kimi_core.ServerError, lc.ModelAPIError),
    "503": Case(Fault.server_error(503), kimi_core.ServerError, lc.ModelAPIError),
    "504-html": Case(Fault.gateway_timeout_html(), kimi_core.ServerError, lc.ModelAPIError),
    "connection-reset": Case(
        Fault.reset(), kimi_core.APIConnectionError, lc.ModelConnectionError, has_request_id=False
    ),
    "slow-first-byte": Case(
        Fault.delay_first_byte(1.0),
        kimi_core.APITimeoutError,
        lc.ModelTimeoutError,
        has_request_id=False,
        timeout=0.3,
    ),
}


def _settings(case: Case, max_retries: int = 2) -> dict[str, float]:
    settings: dict[str, float] = {"max_retries": max_retries}
    if case.timeout is not None:
        settings["timeout"] = case.timeout
    return settings


def _emulator(request: pytest.FixtureRequest, slow: bool) -> KimiEmulator:
    name = "private_emulator" if slow else "kimi_emulator"
    emulator: KimiEmulator = request.getfixturevalue(name)
    return emulator


def _assert_complete(out: Outcome) -> None:
    assert out.error is None, f"{type(out.error).__name__}: {out.error}"
    assert out.text == ANSWER
    assert out.reasoning == REASONING


def _assert_typed(error: BaseException | None, framework: str, kimi_class: type) -> None:
    assert isinstance(error, kimi_class), f"{type(error).__name__}: {error}"
    if framework == "langchain":
        assert isinstance(error, lc.ModelError)
        assert error.is_retryable is error.retryable  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", list(RETRYABLE))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_retryable_fault_is_retried_once_then_succeeds(request, retry_log, framework, mode, name):
    case = RETRYABLE[name]
    kimi_emulator = _emulator(request, case.timeout is not None)
    kimi_emulator.script(case.fault)
    kimi_emulator.script(reply())
    out = drive(framework, mode, kimi_emulator, **_settings(case))
    _assert_complete(out)
    sent = kimi_emulator.chat_requests
    assert len(sent) == 2  # the failed attempt and exactly one retry
    assert sent[0] == sent[1]  # the same request again
    delays = retry_delays(retry_log.records)
    assert len(delays) == 1
    if case.retry_after is not None:
        assert delays == [case.retry_after]  # the server's Retry-After, not our backoff


@pytest.mark.parametrize("name", list(RETRYABLE))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_retryable_fault_gives_up_after_max_retries_with_a_typed_error(
    request, retry_log, framework, mode, name
):
    case = RETRYABLE[name]
    kimi_emulator = _emulator(request, case.timeout is not None)
    for _ in range(3):
        kimi_emulator.script(case.fault)
    out = drive(framework, mode, kimi_emulator, **_settings(case))
    assert len(kimi_emulator.chat_requests) == 3  # 1 + max_retries, no layer on top
    delays = retry_delays(retry_log.records)
    if case.retry_after is not None:
        assert delays == [case.retry_after] * 2
    else:
        # Exponential with full jitter, on fast_backoff's scale (0.01 s doubling, 0.02 s cap).
        assert 0.005 <= delays[0] <= 0.01
        assert 0.01 <= delays[1] <= 0.02
    assert out.pieces == []
    _assert_typed(out.error, framework, case.error)
    error = out.error
    assert isinstance(error, case.error)
    assert error.retryable
    if framework == "langchain":
        assert isinstance(error, case.lc_error)
    if case.has_request_id:
        assert error.status is not None
        assert f"status={error.status}" in str(error)
        assert REQUEST_ID.search(str(error)), str(error)
    if case.fault.error_type:
        assert case.fault.error_type in str(error)
        assert error.message == case.fault.message


@pytest.mark.parametrize("max_retries", [0, 1, 4])
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_attempts_follow_max_retries(kimi_emulator: KimiEmulator, framework, max_retries):
    for _ in range(max_retries + 1):
        kimi_emulator.script(Fault.server_error(503))
    out = drive(framework, "invoke", kimi_emulator, max_retries=max_retries)
    assert isinstance(out.error, kimi_core.ServerError)
    assert len(kimi_emulator.chat_requests) == max_retries + 1


@pytest.mark.parametrize("reason", ["tokens", "suspended"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_quota_exhausted_is_sent_exactly_once(
    kimi_emulator: KimiEmulator, retry_log, framework, mode, reason
):
    kimi_emulator.script(Fault.quota(reason))
    kimi_emulator.script(reply())  # would be the answer if anything retried
    out = drive(framework, mode, kimi_emulator, max_retries=5)
    assert len(kimi_emulator.chat_requests) == 1
    assert retry_delays(retry_log.records) == []
    _assert_typed(out.error, framework, kimi_core.QuotaExhaustedError)
    assert isinstance(out.error, kimi_core.QuotaExhaustedError)
    assert not out.error.retryable
    assert "exceeded_current_quota_error" in str(out.error)
    assert REQUEST_ID.search(str(out.error))
    if framework == "langchain":
        assert isinstance(out.error, lc.ModelRateLimitError)
        assert out.error.is_retryable is False


@dataclass(frozen=True)
class Break:
    """A stream that breaks after some events: the typed error the caller must see."""

    fault: Fault
    error: type[kimi_core.KimiError]
    timeout: float | None = None


BREAKS = {
    "disconnect-mid-stream": Break(Fault.disconnect_after(6), kimi_core.APIConnectionError),
    "malformed-sse-line": Break(Fault.malformed_sse(after=6), kimi_core.MalformedResponseError),
    "error-event-mid-stream": Break(Fault.stream_error(after=6), kimi_core.ServerError),
    "stall-mid-stream-beyond-timeout": Break(
        Fault.stall_after(6, 1.0), kimi_core.APITimeoutError, timeout=0.3
    ),
}


@pytest.mark.parametrize("name", list(BREAKS))
@pytest.mark.parametrize("mode", STREAM_MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_stream_broken_after_chunks_raises_after_them_and_is_not_retried(
    request, retry_log, framework, mode, name
):
    case = BREAKS[name]
    kimi_emulator = _emulator(request, case.timeout is not None)
    kimi_emulator.script(case.fault)
    kimi_emulator.script(reply())
    kimi_emulator.script(reply())  # would be the answer if anything retried
    settings = {"max_retries": 2} | ({"timeout": case.timeout} if case.timeout else {})
    out = drive(framework, mode, kimi_emulator, **settings)
    assert len(kimi_emulator.chat_requests) == 1
    assert retry_delays(retry_log.records) == []
    _assert_typed(out.error, framework, case.error)
    assert not out.error.retryable  # type: ignore[union-attr]  # chunks are in the caller's hands
    # What arrived was delivered, in order, and the answer never looks complete.
    assert out.reasoning or out.text, "the break was meant to come after some chunks"
    assert REASONING.startswith(out.reasoning)
    assert ANSWER.startswith(out.text)
    assert out.text != ANSWER


@pytest.mark.parametrize("mode", STREAM_MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize(
    ("fault", "timeout"),
    [(Fault.disconnect_after(0), None), (Fault.slow_chunks(1.0), 0.3)],
    ids=["disconnect-before-first-chunk", "slow-chunks-beyond-timeout"],
)
def test_stream_broken_before_any_chunk_is_retried(
    private_emulator: KimiEmulator, framework, mode, fault, timeout
):
    # Nothing reached the caller yet (the role-only first event has no text), so asking again
    # cannot duplicate output.
    kimi_emulator = private_emulator
    kimi_emulator.script(fault)
    kimi_emulator.script(reply())
    kimi_emulator.script(reply())
    settings = {"max_retries": 2} | ({"timeout": timeout} if timeout else {})
    out = drive(framework, mode, kimi_emulator, **settings)
    _assert_complete(out)
    assert len(kimi_emulator.chat_requests) == 2


@pytest.mark.parametrize("mode", INVOKE_MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_body_cut_mid_way_is_retried_for_invoke(kimi_emulator: KimiEmulator, framework, mode):
    # A non-stream body cut in half: the caller saw nothing, so the request is simply repeated.
    kimi_emulator.script(Fault.disconnect_after(1))
    kimi_emulator.script(reply())
    kimi_emulator.script(reply())
    out = drive(framework, mode, kimi_emulator, max_retries=2)
    _assert_complete(out)
    assert len(kimi_emulator.chat_requests) == 2


@pytest.mark.parametrize("mode", STREAM_MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_slow_chunks_within_the_timeout_complete(kimi_emulator: KimiEmulator, framework, mode):
    # The timeout bounds each wait for bytes, not the whole stream: a steady stream completes.
    kimi_emulator.script(Fault.slow_chunks(0.05))
    kimi_emulator.script(reply())
    out = drive(framework, mode, kimi_emulator, timeout=1.0, max_retries=0)
    _assert_complete(out)
    assert len(out.pieces) == 8
    assert len(kimi_emulator.chat_requests) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_timeout_ends_the_call(private_emulator: KimiEmulator, framework, mode):
    # A hang guard, not a stopwatch: the call must end (with the typed error) on its own.
    kimi_emulator = private_emulator
    kimi_emulator.script(Fault.delay_first_byte(5))
    result: list[Outcome] = []
    worker = threading.Thread(
        target=lambda: result.append(
            drive(framework, mode, kimi_emulator, timeout=0.3, max_retries=0)
        ),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=20)
    assert result, "the call did not end although its timeout had long passed"
    _assert_typed(result[0].error, framework, kimi_core.APITimeoutError)
    assert len(kimi_emulator.chat_requests) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_fault_in_a_later_web_search_round_is_retried_inside_the_call(
    kimi_emulator: KimiEmulator, framework, mode
):
    question = "Please search the web for the Kimi K2.6 release notes"
    kimi_emulator.script(Reply.web_search(question))
    kimi_emulator.script(Fault.overloaded(retry_after=0.01))
    if framework == "langchain":
        out = _lc_web_search(kimi_emulator, mode, question)
    else:
        out = drive(framework, mode, kimi_emulator, question, max_retries=2, web_search=True)
    assert out.error is None, out.error
    assert out.text.startswith("According to the search results")
    sent = kimi_emulator.chat_requests
    assert len(sent) == 3  # round 1, round 2 refused, round 2 again
    assert sent[1] == sent[2]
    assert [m["role"] for m in sent[1]["messages"]][-2:] == ["assistant", "tool"]


def _lc_web_search(emu: KimiEmulator, mode: str, question: str) -> Outcome:
    import asyncio

    from rel_helpers import model

    llm = model("langchain", emu, max_retries=2).bind_tools([{"type": "web_search"}])
    out = Outcome()
    try:
        if mode == "invoke":
            out.text = llm.invoke(question).text
        elif mode == "ainvoke":
            out.text = asyncio.run(llm.ainvoke(question)).text
        elif mode == "stream":
            out.text = "".join(chunk.text for chunk in llm.stream(question))
        else:

            async def consume() -> str:
                return "".join([chunk.text async for chunk in llm.astream(question)])

            out.text = asyncio.run(consume())
    except Exception as exc:
        out.error = exc
    return out


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_default_backoff_honours_retry_after(
    kimi_emulator: KimiEmulator, monkeypatch, retry_log, framework
):
    # The real policy (undoing fast_backoff): the server's Retry-After is the wait.
    import kimi_core.client

    monkeypatch.setattr(kimi_core.client, "RetryPolicy", kimi_core.RetryPolicy)
    kimi_emulator.script(Fault.rate_limit("concurrency", retry_after=0.3))
    kimi_emulator.script(reply())
    out = drive(framework, "invoke", kimi_emulator, PROMPT)
    _assert_complete(out)
    assert retry_delays(retry_log.records) == [0.3]
    assert len(kimi_emulator.chat_requests) == 2
