"""Fault injection: by script, by request header and by rule."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx2
import openai
import pytest
from kimi_emulator import FAULT_HEADER, Fault, KimiEmulator

HI = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("fault", "status", "error_type", "message"),
    [
        (
            Fault.overloaded(),
            429,
            "engine_overloaded_error",
            "The engine is currently overloaded, please try again later",
        ),
        (
            Fault.rate_limit("concurrency"),
            429,
            "rate_limit_reached_error",
            "Your account org-emulator<ak-emulator> request reached organization max "
            "concurrency: 1, please try again after 1 seconds",
        ),
        (
            Fault.rate_limit("rpm", retry_after=3),
            429,
            "rate_limit_reached_error",
            "Your account org-emulator<ak-emulator> request reached organization max RPM: 3, "
            "please try again after 3 seconds",
        ),
        (
            Fault.rate_limit("tpm"),
            429,
            "rate_limit_reached_error",
            "request reached organization TPM rate limit, current:500123, limit:500000",
        ),
        (
            Fault.rate_limit("tpd"),
            429,
            "rate_limit_reached_error",
            "request reached organization TPD rate limit, current:1500123, limit:1500000",
        ),
        (
            Fault.quota(),
            429,
            "exceeded_current_quota_error",
            "You exceeded your current token quota: <org-emulator> 0, please check your account "
            "balance",
        ),
        (
            Fault.quota("suspended"),
            429,
            "exceeded_current_quota_error",
            "Your account org-emulator<ak-emulator> is suspended, please check your plan and "
            "billing details",
        ),
        (Fault.server_error(500), 500, "server_error", "Internal server error"),
        (
            Fault.server_error(503),
            503,
            "server_unavailable",
            "The server is temporarily unavailable, please try again later",
        ),
        (
            Fault.content_filter(),
            400,
            "content_filter",
            "The request was rejected because it was considered high risk",
        ),
        (
            Fault.status(429, "engine_overloaded_error", retry_after=1),
            429,
            "engine_overloaded_error",
            "The engine is currently overloaded, please try again later",
        ),
    ],
)
def test_status_faults(
    client: openai.OpenAI,
    kimi_emulator: KimiEmulator,
    fault: Fault,
    status: int,
    error_type: str,
    message: str,
) -> None:
    kimi_emulator.script(fault)
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="kimi-k2.6", messages=HI)  # type: ignore[arg-type]
    assert caught.value.status_code == status
    assert caught.value.body == {"message": message, "type": error_type}
    retry_after = caught.value.response.headers.get("Retry-After")
    assert retry_after == (None if fault.retry_after is None else f"{fault.retry_after:g}")
    assert client.chat.completions.create(model="kimi-k2.6", messages=HI).choices  # type: ignore[arg-type]


def test_status_fault_shapes_for_hand_made_fixtures(raw: Any, kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Fault.status(400, None, "Message-only error"))
    kimi_emulator.script(
        Fault.status(400, "invalid_request_error", "Coded", code="invalid_parameter")
    )
    assert raw.chat({"model": "kimi-k3", "messages": HI}).json() == {
        "error": {"message": "Message-only error"}
    }
    assert raw.chat({"model": "kimi-k3", "messages": HI}).json() == {
        "error": {"message": "Coded", "type": "invalid_request_error", "code": "invalid_parameter"}
    }


def test_gateway_timeout_is_html(raw: Any, kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Fault.gateway_timeout_html())
    response = raw.chat({"model": "kimi-k3", "messages": HI})
    assert response.status == 504
    assert response.headers["Content-Type"].startswith("text/html")
    assert b"504 Gateway Time-out" in response.body


def test_reset_before_response(client: openai.OpenAI, kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Fault.reset())
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="kimi-k3", messages=HI)  # type: ignore[arg-type]
    assert len(kimi_emulator.chat_requests) == 1


def test_disconnect_mid_stream(client: openai.OpenAI, kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Fault.disconnect_after(3))
    received = []
    stream = client.chat.completions.create(model="kimi-k3", messages=HI, stream=True)  # type: ignore[arg-type]
    # openai 3.0 lets the transport's own error out of a stream; later releases wrap it.
    with pytest.raises((openai.APIConnectionError, httpx2.RemoteProtocolError)):
        received.extend(stream)
    assert len(received) == 3


def test_disconnect_mid_body(client: openai.OpenAI, kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Fault.disconnect_after(1))
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="kimi-k3", messages=HI)  # type: ignore[arg-type]


def test_malformed_sse_line(raw: Any, kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Fault.malformed_sse(after=2))
    lines = [
        line
        for line in raw.chat({"model": "kimi-k3", "messages": HI, "stream": True})
        .body.decode()
        .split("\n\n")
        if line
    ]
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[2].removeprefix("data: "))
    assert all(json.loads(line.removeprefix("data: ")) for line in lines[:2])
    assert lines[-1] == "data: [DONE]"


def test_error_event_inside_a_stream(raw: Any, kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(
        Fault.stream_error(after=1, message="Stream failed", code="stream_failure")
    )
    events = raw.chat({"model": "kimi-k3", "messages": HI, "stream": True}).events()
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"
    assert events[1:] == [
        {"error": {"message": "Stream failed", "type": "server_error", "code": "stream_failure"}}
    ]


def test_delays_still_deliver_the_answer(
    client: openai.OpenAI, kimi_emulator: KimiEmulator
) -> None:
    kimi_emulator.script(Fault.delay_first_byte(0.05))
    kimi_emulator.script(Fault.slow_chunks(0.001))
    assert client.chat.completions.create(model="kimi-k3", messages=HI).choices[0].message.content  # type: ignore[arg-type]
    chunks = list(client.chat.completions.create(model="kimi-k3", messages=HI, stream=True))  # type: ignore[arg-type]
    assert chunks[-1].choices[0].finish_reason == "stop"


@pytest.mark.parametrize(
    ("header", "status", "error_type"),
    [
        ("status=429;type=engine_overloaded_error;retry_after=2", 429, "engine_overloaded_error"),
        ("overloaded", 429, "engine_overloaded_error"),
        ("rate_limit=tpm", 429, "rate_limit_reached_error"),
        ("quota=suspended", 429, "exceeded_current_quota_error"),
        ("server_error=503", 503, "server_unavailable"),
        ("content_filter", 400, "content_filter"),
        ("delay_first_byte=0.01, server_error", 500, "server_error"),
    ],
)
def test_fault_header(raw: Any, header: str, status: int, error_type: str) -> None:
    response = raw.chat({"model": "kimi-k3", "messages": HI}, headers={FAULT_HEADER: header})
    assert response.status == status
    assert response.json()["error"]["type"] == error_type


def test_fault_header_on_other_endpoints(raw: Any) -> None:
    response = raw.request("GET", "/v1/models", headers={FAULT_HEADER: "overloaded;retry_after=1"})
    assert response.status == 429
    assert response.headers["Retry-After"] == "1"


def test_fault_header_stream_faults(raw: Any) -> None:
    body = {"model": "kimi-k3", "messages": HI, "stream": True}
    events = raw.chat(body, headers={FAULT_HEADER: "stream_error=0"}).events()
    assert events == [{"error": {"message": "Stream failed", "type": "server_error"}}]


def test_bad_fault_header_is_a_clear_400(raw: Any) -> None:
    response = raw.chat({"model": "kimi-k3", "messages": HI}, headers={FAULT_HEADER: "explode"})
    assert response.status == 400
    assert "unknown fault 'explode'" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "fault",
    [
        Fault.overloaded(retry_after=2),
        Fault.status(500, "unexpected_output", "invalid state transition"),
        Fault.gateway_timeout_html(),
        Fault.reset(),
        Fault.disconnect_after(4),
        Fault.malformed_sse(2),
        Fault.delay_first_byte(0.5),
        Fault.slow_chunks(0.01),
        Fault.stream_error(3),
        Fault.stall_after(2, 0.5),
    ],
)
def test_header_round_trip(fault: Fault) -> None:
    assert Fault.parse_header(fault.to_header()) == [fault]


def test_every_nth_request_rule(client: openai.OpenAI, kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.faults.every(n=3, fault=Fault.overloaded())
    outcomes = []
    for _ in range(6):
        try:
            client.chat.completions.create(model="kimi-k3", messages=HI)  # type: ignore[arg-type]
            outcomes.append("ok")
        except openai.RateLimitError:
            outcomes.append("429")
    assert outcomes == ["ok", "ok", "429", "ok", "ok", "429"]


def test_probability_rule_is_reproducible(make_emulator: Any) -> None:
    runs = []
    for _ in range(2):
        emulator, sdk = make_emulator()
        emulator.faults.probability(0.5, Fault.server_error(), seed=7)
        outcome = []
        for _ in range(12):
            try:
                sdk.chat.completions.create(model="kimi-k3", messages=HI)
                outcome.append(True)
            except openai.InternalServerError:
                outcome.append(False)
        runs.append(outcome)
    assert runs[0] == runs[1]
    assert 0 < sum(runs[0]) < 12


def test_rule_arguments_are_checked(kimi_emulator: KimiEmulator) -> None:
    with pytest.raises(ValueError, match="n >= 1"):
        kimi_emulator.faults.every(n=0, fault=Fault.reset())
    with pytest.raises(ValueError, match="within"):
        kimi_emulator.faults.probability(1.5, Fault.reset())


def test_stall_after_then_the_rest_of_the_stream(
    client: openai.OpenAI, kimi_emulator: KimiEmulator
) -> None:
    kimi_emulator.script(Fault.stall_after(2, 0.01))
    chunks = list(client.chat.completions.create(model="kimi-k3", messages=HI, stream=True))  # type: ignore[arg-type]
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_fired_counts_rule_faults(client: openai.OpenAI, kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.faults.every(n=2, fault=Fault.overloaded())
    for _ in range(4):
        with contextlib.suppress(openai.RateLimitError):
            client.chat.completions.create(model="kimi-k3", messages=HI)  # type: ignore[arg-type]
    assert kimi_emulator.faults.fired() == {"status=429;type=engine_overloaded_error": 2}
    kimi_emulator.faults.clear()
    assert kimi_emulator.faults.fired() == {}
