"""Every file in the vendored recordings: build the matching request and compare shapes.

"Same shape" means the same keys and JSON value types at every level (values may differ). For SSE
files the event sequence is compared as a pattern of event kinds (consecutive repeats collapsed),
and every recorded event is compared by shape with the emulator's first event of the same kind.
``allowed`` lists differences that are legitimate, with the reason; files the emulator does not
reproduce are strict xfails whose reason says why (mostly hand-made files that contradict the
reference or the live recordings).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kimi_emulator import EmulatorConfig, Fault, KimiEmulator, Reply, ScriptedToolCall
from moonshot_recordings import RECORDINGS, recording_files

AUGUST = datetime(2026, 8, 25, 12, 0, tzinfo=UTC)

PING = {
    "type": "function",
    "function": {"name": "ping", "parameters": {"type": "object", "properties": {}}},
}
GET_WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    },
}
TUPLE_SCHEMA = {
    "type": "object",
    "properties": {
        "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}]}
    },
    "required": ["pair"],
}


def alt(commit: str, name: str) -> str:
    """The key of an alternate version kept under alt-versions/<commit>/."""
    return f"alt-versions/{commit}/{name}"


def ask(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


@dataclass
class Case:
    body: dict[str, Any]
    august: bool = False
    repeat: int = 1
    script: Reply | Fault | None = None
    config: dict[str, Any] = field(default_factory=dict)
    allowed: frozenset[str] = frozenset()
    why_allowed: str = ""
    not_matched: str | None = None


def k3(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "kimi-k3", "messages": ask(text), **extra}


STREAM_USAGE = {"stream": True, "stream_options": {"include_usage": True}}
NO_THINKING = {"thinking": {"type": "disabled"}}
# The hand-made k2.5 files put usage at the finish chunk's top level and "usage": null elsewhere
# (the /docs/api/chat example's placement); the switches reproduce them.
NO_FINGERPRINT = frozenset(f"{k}.system_fingerprint: extra" for k in ("role", "content", "finish"))
HAND_MADE_K25_USAGE = {"finish_usage": "top_level", "null_usage_on_chunks": "always"}
HAND_MADE_STREAM = "hand-made stream that contradicts the live recordings and kimi-api.md 8"

CASES: dict[str, Case] = {
    # ---- non-streaming bodies -----------------------------------------------------------------
    "issue-19311-kimi-k3-live-2026-08-24.json": Case(
        k3("17*19, answer with the number only"), repeat=2
    ),
    "issue-19311-kimi-k3-negative-usage.json": Case(
        k3("Write a long essay", max_tokens=3),
        repeat=2,
        allowed=frozenset({"usage.cached_tokens: extra"}),
        why_allowed="hand-made: live bodies carry the flat cached_tokens beside the nested one",
    ),
    "moonshotai-file-reference-live.json": Case(
        {
            "model": "kimi-k2.6",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Reply IMAGE_OK if you see an image"},
                        {"type": "image_url", "image_url": {"url": "ms://{IMAGE_FILE}"}},
                    ],
                }
            ],
        },
        repeat=2,
    ),
    "moonshotai-issue-19544-accepted.json": Case(
        k3(
            'Return the pair "age" and 42',
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "tuple_response", "strict": True, "schema": TUPLE_SCHEMA},
            },
        )
    ),
    alt("de5a633abe01ec9e1731fa28784532bd4c1d83c3", "moonshotai-issue-19544-accepted.json"): Case(
        k3(
            "Return exactly the empty JSON object {}.",
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "tuple_response", "strict": True, "schema": TUPLE_SCHEMA},
            },
        ),
        repeat=2,
    ),
    "moonshotai-issue-19544-json-object.json": Case(
        k3("Return exactly the empty JSON object {}.", response_format={"type": "json_object"}),
        repeat=2,
    ),
    "moonshotai-k2.6-tool-choice-omitted.json": Case(
        {
            "model": "kimi-k2.6",
            "messages": ask("Call the ping tool."),
            "tools": [PING],
            "max_tokens": 5,
        }
    ),
    "moonshotai-k2.7-tool-choice-omitted.json": Case(
        {"model": "kimi-k2.7-code", "messages": ask("Call the ping tool."), "tools": [PING]}
    ),
    "moonshotai-k3-required-tool-choice.json": Case(
        k3("Call the ping tool.", tools=[PING], tool_choice="required")
    ),
    "moonshotai-kimi-k3-default-sampling.json": Case(k3("Reply with exactly OK"), repeat=2),
    "moonshotai-logprobs.json": Case(
        {
            "model": "moonshot-v1-8k",
            "messages": ask("Reply with exactly OK!"),
            "logprobs": True,
            "top_logprobs": 1,
        },
        august=True,
    ),
    "moonshotai-max-completion-tokens.json": Case(
        {
            "model": "moonshot-v1-8k",
            "messages": ask("Reply with exactly OK"),
            "max_completion_tokens": 17,
        },
        august=True,
    ),
    alt("9fbc30bf438e0255b7a0d8d08681cf6f5e7e743b", "moonshotai-max-completion-tokens.json"): Case(
        k3("Reply with exactly OK", max_completion_tokens=8), repeat=2
    ),
    "moonshotai-metadata-live.json": Case(k3("Use get_weather for Paris.", tools=[GET_WEATHER])),
    alt("6c50766cdfc8e374b6f3de4154b986dde1131a19", "moonshotai-metadata-live.json"): Case(
        k3("Use get_weather for Paris.", tools=[GET_WEATHER])
    ),
    alt("828548096f3d338006f2c00419d0fbcc7b95c8fc", "moonshotai-metadata-live.json"): Case(
        k3("Use get_weather for Paris.", tools=[GET_WEATHER]),
        script=Reply(
            tool_calls=[ScriptedToolCall("get_weather", {"city": "Paris"})],
            finish_reason="stop",
            no_reasoning=True,
        ),
    ),
    "moonshotai-reasoning.json": Case(
        {"model": "kimi-k2.6", "messages": ask("How many r in strawberry?")},
        repeat=2,
        allowed=frozenset({"usage.prompt_tokens_details: extra"}),
        why_allowed="hand-made: it has only the flat cached_tokens; live bodies have both "
        "placements",
    ),
    "moonshotai-text.json": Case(
        k3("Say hello"),
        # Hand-made K3 body without reasoning; reproducible since one live K3 run had none either.
        script=Reply(content="Hello, world!", no_reasoning=True),
    ),
    "moonshotai-tool-call.json": Case(
        k3("Use get_weather for Paris", tools=[GET_WEATHER], tool_choice="required"),
        not_matched="hand-made: content null and tool calls without index or reasoning; live "
        "K3 tool "
        "calls have content '', an index and reasoning_content",
    ),
    "moonshotai-v1-structured-output.json": Case(
        {
            "model": "moonshot-v1-8k",
            "messages": ask("Answer ok"),
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "a",
                    "strict": True,
                    "schema": {"type": "object", "properties": {"answer": {"type": "string"}}},
                },
            },
        },
        august=True,
    ),
    alt("fb04932247e51aef82a9afcf9d203dfc160ff181", "moonshotai-v1-structured-output.json"): Case(
        {
            "model": "moonshot-v1-8k",
            "messages": ask("Greet"),
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "g",
                    "strict": True,
                    "schema": {"type": "object", "properties": {"greeting": {"type": "string"}}},
                },
            },
        },
        august=True,
    ),
    # ---- error bodies ---------------------------------------------------------------------------
    "moonshotai-error-live-message-only.json": Case(
        k3("hi") | {"model": "issue-19552-invalid-model"}
    ),
    "moonshotai-error-without-code-live.json": Case(
        k3("hi") | {"model": "definitely-not-a-real-moonshot-model"}
    ),
    "moonshotai-error-message-only.json": Case(
        k3("hi"), script=Fault.status(400, None, "Message-only error")
    ),
    "moonshotai-error-with-code.json": Case(
        k3("hi"),
        script=Fault.status(
            400, "invalid_request_error", "Coded HTTP error", code="invalid_parameter"
        ),
    ),
    alt("e4d6716bca3acebb8c9e9ede6c094a93c1a82c4d", "moonshotai-error-with-code.json"): Case(
        k3("hi"),
        script=Fault.status(
            400,
            "invalid_request_error",
            "Invalid request: documented error metadata",
            code="invalid_parameter",
        ),
    ),
    "moonshotai-error-null-code.json": Case(
        k3("hi"),
        script=Fault.status(400, "invalid_request_error", "Request failed with a nullable code"),
        not_matched="hand-made `code: null`; the live service sends no code (kimi-api.md 11) "
        "and the "
        "emulator leaves the key out unless a code is given",
    ),
    "moonshotai-error-with-null-code.json": Case(
        k3("hi"),
        script=Fault.status(400, "invalid_request_error", "Invalid request with nullable code"),
        not_matched="hand-made `code: null` (see moonshotai-error-null-code.json)",
    ),
    "moonshotai-error.json": Case(
        {
            "model": "kimi-k3",
            "messages": [{"role": "user", "content": [{"type": "file", "file": {"file_id": "x"}}]}],
        },
        allowed=frozenset({"error.code: missing"}),
        why_allowed="the wording is the live rejection; the code was added by hand (no live "
        "error has one)",
    ),
    "moonshotai-issue-19544-rejected.json": Case(
        k3(
            "Return the pair",
            response_format={
                "type": "json_schema",
                "json_schema": {
                    "name": "t",
                    "schema": {
                        "type": "object",
                        "properties": {
                            "pair": {
                                "type": "array",
                                "items": [{"type": "string"}, {"type": "number"}],
                            }
                        },
                    },
                },
            },
        )
    ),
    "moonshotai-k2.7-disabled-thinking-error.json": Case(
        {"model": "kimi-k2.7-code", "messages": ask("hi"), "thinking": {"type": "disabled"}}
    ),
    "moonshotai-kimi-k3-temperature-rejection.json": Case(k3("hi", temperature=0.5)),
    "moonshotai-required-tool-choice-error.json": Case(
        {
            "model": "kimi-k2.6",
            "messages": ask("Call ping"),
            "tools": [PING],
            "tool_choice": "required",
        }
    ),
    "moonshotai-unsupported-sampling-error.json": Case(
        {
            "model": "kimi-k2.6",
            "messages": ask("hi"),
            "temperature": 0.5,
            "top_p": 0.5,
            **NO_THINKING,
        }
    ),
    "moonshotai-unsupported-svg-error.json": Case(
        k3("hi")
        | {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image_url",
                            "image_url": {"url": "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="},
                        }
                    ],
                }
            ]
        }
    ),
    # ---- streams ---------------------------------------------------------------------------------
    "moonshot-cached-tokens.chunks.txt": Case(
        {"model": "kimi-k2.5", "messages": ask("Say hello"), "stream": True, **NO_THINKING},
        august=True,
        repeat=2,
        config=HAND_MADE_K25_USAGE,
        allowed=NO_FINGERPRINT | {"finish.usage.prompt_tokens_details: extra"},
        why_allowed="hand-made: only the flat cached_tokens (live usage objects have both "
        "placements) and no system_fingerprint (live k2.5 streams carry it)",
    ),
    "moonshot-text.chunks.txt": Case(
        {"model": "kimi-k2.5", "messages": ask("Say hello"), "stream": True, **NO_THINKING},
        august=True,
        config=HAND_MADE_K25_USAGE,
        allowed=NO_FINGERPRINT,
        why_allowed="hand-made without system_fingerprint; live k2.5 streams carry it",
    ),
    "moonshotai-error-metadata.chunks.txt": Case(
        k3("hi", stream=True),
        script=Fault.stream_error(0, message="Coded stream failure", code="stream_code"),
        not_matched="hand-made: three error events in one stream; an injected stream error "
        "ends the stream",
    ),
    "moonshotai-error.chunks.txt": Case(
        k3("hi", stream=True),
        script=Fault.stream_error(0, message="Internal server error", code="upstream_failure"),
    ),
    "moonshotai-issue-19546-malformed.chunks.txt": Case(
        {"model": "kimi-k2.5", "messages": ask("weather"), "tools": [WEATHER], "stream": True},
        august=True,
        not_matched="hand-made invalid tool-call index 'not-a-number' for client negative "
        "tests; the "
        "emulator's own broken-stream fault is Fault.malformed_sse",
    ),
    "moonshotai-logprobs.chunks.txt": Case(
        {
            "model": "moonshot-v1-8k",
            "messages": ask("Reply with exactly OK!"),
            "logprobs": True,
            "top_logprobs": 1,
            **STREAM_USAGE,
        },
        august=True,
        allowed=frozenset(
            {
                "role.system_fingerprint: extra",
                "content.system_fingerprint: extra",
                "finish.system_fingerprint: extra",
                "content.choices.0.logprobs.content.0.bytes: type array != null",
                "content.choices.0.logprobs.content.0.top_logprobs.0.bytes: type array != null",
            }
        ),
        why_allowed="hand-made without system_fingerprint (live moonshot-v1 streams carry "
        "it); `bytes` "
        "may be null, the emulator always sends the byte list",
    ),
    "moonshotai-max-completion-tokens.chunks.txt": Case(
        {
            "model": "moonshot-v1-8k",
            "messages": ask("Reply with exactly OK"),
            "max_completion_tokens": 17,
            **STREAM_USAGE,
        },
        august=True,
    ),
    alt(
        "9fbc30bf438e0255b7a0d8d08681cf6f5e7e743b", "moonshotai-max-completion-tokens.chunks.txt"
    ): Case(
        k3("Reply with exactly OK", max_completion_tokens=8, **STREAM_USAGE),
        repeat=2,
        allowed=frozenset(
            {
                "role.system_fingerprint: missing",
                "reasoning.system_fingerprint: missing",
                "finish.system_fingerprint: missing",
            }
        ),
        why_allowed="this K3 run carried a system_fingerprint; the other live K3 streams do "
        "not, and the "
        "emulator follows the majority",
    ),
    "moonshotai-metadata-live.chunks.txt": Case(
        k3("Use get_weather for Paris.", tools=[GET_WEATHER], **STREAM_USAGE), repeat=2
    ),
    alt("828548096f3d338006f2c00419d0fbcc7b95c8fc", "moonshotai-metadata-live.chunks.txt"): Case(
        k3("Use get_weather for Paris.", tools=[GET_WEATHER], **STREAM_USAGE),
        script=Reply(
            tool_calls=[ScriptedToolCall("get_weather", {"city": "Paris"})],
            finish_reason="stop",
            no_reasoning=True,
            usage={
                "prompt_tokens": 99,
                "completion_tokens": 44,
                "total_tokens": 143,
                "cached_tokens": 99,
                "completion_tokens_details": {},
                "prompt_tokens_details": {"cached_tokens": 99},
            },
        ),
    ),
    "moonshotai-stream-choice-usage.chunks.txt": Case(
        {"model": "kimi-k2.5", "messages": ask("Reply with OK."), "stream": True},
        august=True,
        script=Reply(content="OK.", reasoning=""),
    ),
    "moonshotai-stream-error-message-only.chunks.txt": Case(
        k3("hi", stream=True),
        script=Fault.stream_error(0, message="Stream failed without details", error_type=None),
    ),
    "moonshotai-stream-error-null-code.chunks.txt": Case(
        k3("hi", stream=True),
        script=Fault.stream_error(0, message="Stream failed with a nullable code"),
        not_matched="hand-made `code: null` (the emulator sends a code only when one is given)",
    ),
    "moonshotai-stream-error.chunks.txt": Case(
        k3("hi", stream=True),
        script=Fault.stream_error(1, message="Stream failed", code="stream_failure"),
    ),
    "moonshotai-stream-explicit-tool-call-index.chunks.txt": Case(
        {
            "model": "kimi-k2.5",
            "messages": ask("Weather in San Francisco?"),
            "tools": [WEATHER],
            **STREAM_USAGE,
        },
        august=True,
        script=Reply(
            reasoning="", tool_calls=[ScriptedToolCall("weather", {"location": "San Francisco"})]
        ),
    ),
    "moonshotai-stream-indexless-tool-calls.chunks.txt": Case(
        {
            "model": "kimi-k2.5",
            "messages": ask("Use weather and time"),
            "tools": [WEATHER],
            **STREAM_USAGE,
        },
        august=True,
        not_matched=f"{HAND_MADE_STREAM}: tool-call fragments without index (the emulator "
        f"always sends it)",
    ),
    "moonshotai-stream-malformed-tool-call.chunks.txt": Case(
        k3("Use get_weather", tools=[GET_WEATHER], stream=True),
        not_matched="hand-made invalid chunk (index 'zero', no object, no type) for client "
        "negative tests",
    ),
    "moonshotai-stream-tool-calls.chunks.txt": Case(
        k3("Use get_weather and get_time", tools=[GET_WEATHER], stream=True),
        not_matched=f"{HAND_MADE_STREAM}: role and two index-less tool calls in one chunk, "
        f"continued out of order",
    ),
    alt(
        "a5812944207bcb98f5e5bb71b3c45d1d74402995", "moonshotai-stream-tool-calls.chunks.txt"
    ): Case(
        k3("Use get_weather and get_time", tools=[GET_WEATHER], stream=True),
        not_matched=f"{HAND_MADE_STREAM}: as above, also without object and type",
    ),
    "moonshotai-stream-usage-precedence.chunks.txt": Case(
        {"model": "kimi-k2.5", "messages": ask("OK"), **STREAM_USAGE, **NO_THINKING},
        august=True,
        not_matched=f"{HAND_MADE_STREAM}: no role chunk and a top-level usage that differs "
        f"from choices[0].usage",
    ),
    "moonshotai-stream.chunks.txt": Case(
        k3("Hello", **STREAM_USAGE),
        not_matched=f"{HAND_MADE_STREAM}: role inside the first reasoning chunk and the "
        f"finish chunk "
        "carrying content plus two different usages",
    ),
    alt("a5812944207bcb98f5e5bb71b3c45d1d74402995", "moonshotai-stream.chunks.txt"): Case(
        k3("Hello", **STREAM_USAGE),
        not_matched=f"{HAND_MADE_STREAM} (as moonshotai-stream.chunks.txt, no object)",
    ),
    alt("d7e3880f4afad1850ec9a1c948baf0221caa22b2", "moonshotai-stream.chunks.txt"): Case(
        k3("Hello", **STREAM_USAGE),
        not_matched=f"{HAND_MADE_STREAM} (as moonshotai-stream.chunks.txt, no object)",
    ),
    "moonshotai-tool-call.chunks.txt": Case(
        k3("Use get_weather for Paris", tools=[GET_WEATHER], **STREAM_USAGE),
        not_matched=f"{HAND_MADE_STREAM}: role with the tool-call start, arguments on the "
        f"finish chunk",
    ),
    "moonshotai-usage-live.chunks.txt": Case(k3("Reply with exactly OK", **STREAM_USAGE), repeat=2),
    "moonshotai-usage-live.json": Case(k3("Reply with exactly OK"), repeat=2),
}


# ---- shape comparison ----------------------------------------------------------------------------
def _type(value: Any) -> str:
    return {
        dict: "object",
        list: "array",
        str: "string",
        bool: "boolean",
        int: "integer",
        float: "number",
    }.get(type(value), "null")


def shape_diff(recorded: Any, emitted: Any, path: str = "") -> list[str]:
    if _type(recorded) != _type(emitted):
        return [f"{path}: type {_type(emitted)} != {_type(recorded)}"]
    if isinstance(recorded, dict):
        diffs = [f"{path}.{k}".lstrip(".") + ": missing" for k in recorded if k not in emitted]
        diffs += [f"{path}.{k}".lstrip(".") + ": extra" for k in emitted if k not in recorded]
        for key in recorded.keys() & emitted.keys():
            diffs += shape_diff(recorded[key], emitted[key], f"{path}.{key}".lstrip("."))
        return diffs
    if isinstance(recorded, list):
        if bool(recorded) != bool(emitted):
            return [f"{path}: {'empty' if not emitted else 'non-empty'} array"]
        if recorded:
            return shape_diff(recorded[0], emitted[0], f"{path}.0")
    return []


def kind(event: dict[str, Any]) -> str:
    if "error" in event:
        return "error"
    if not event.get("choices"):
        return "usage"
    choice = event["choices"][0]
    delta = choice.get("delta", {})
    if choice.get("finish_reason"):
        return "finish"
    if "role" in delta:
        return "role"
    if "tool_calls" in delta:
        return "tool_start" if "id" in delta["tool_calls"][0] else "tool_args"
    if "reasoning_content" in delta:
        return "reasoning" if delta["reasoning_content"] else "reasoning_end"
    return "content"


def stream_diff(recorded: list[dict[str, Any]], emitted: list[dict[str, Any]]) -> list[str]:
    def pattern(events: list[dict[str, Any]]) -> list[str]:
        kinds = [kind(e) for e in events]
        return [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k]

    diffs = []
    if pattern(recorded) != pattern(emitted):
        diffs.append(f"pattern: {pattern(emitted)} != {pattern(recorded)}")
    firsts = {}
    for event in emitted:
        firsts.setdefault(kind(event), event)
    for event in recorded:
        k = kind(event)
        if k in firsts:
            diffs += [f"{k}.{d}" for d in shape_diff(event, firsts[k]) if f"{k}.{d}" not in diffs]
    return diffs


# ---- running a case ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def servers() -> Iterator[dict[tuple[bool, str], KimiEmulator]]:
    started: dict[tuple[bool, str], KimiEmulator] = {}
    for case in CASES.values():
        key = (case.august, json.dumps(case.config, sort_keys=True))
        if key not in started:
            config = EmulatorConfig(clock=AUGUST if case.august else None, **case.config)
            started[key] = KimiEmulator(config=config)
            started[key].start()
    yield started
    for emulator in started.values():
        emulator.stop()


def run(case: Case, emulator: KimiEmulator, raw_for: Any) -> tuple[int, Any]:
    emulator.reset()
    raw = raw_for(emulator)
    body = json.loads(json.dumps(case.body))
    if "{IMAGE_FILE}" in json.dumps(body):
        uploaded = emulator.files.add("cat.png", "image", b"\x89PNG fake", 0)
        body = json.loads(json.dumps(body).replace("{IMAGE_FILE}", uploaded.id))
    response = None
    for _ in range(case.repeat):
        if case.script is not None:
            emulator.script(case.script)
        response = raw.chat(body)
    assert response is not None
    assert emulator.chat_requests[-1] == body
    if body.get("stream") and response.status == 200:
        events = response.events()
        if events and events[-1] == "[DONE]":
            events = events[:-1]
        return response.status, events
    return response.status, response.json()


def load(path: Path) -> Any:
    if path.name.endswith(".chunks.txt"):
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return json.loads(path.read_text())


def test_every_recording_has_a_case() -> None:
    assert recording_files() == sorted(CASES)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=c.not_matched))
        if c.not_matched
        else n
        for n, c in sorted(CASES.items())
    ],
)
def test_recording_shape(
    name: str, servers: dict[tuple[bool, str], KimiEmulator], raw_for: Any
) -> None:
    case = CASES[name]
    emulator = servers[(case.august, json.dumps(case.config, sort_keys=True))]
    recorded = load(RECORDINGS / name)
    status, emitted = run(case, emulator, raw_for)
    if isinstance(recorded, list):
        diffs = stream_diff(recorded, emitted)
    else:
        is_error = "error" in recorded
        assert (status >= 400) == is_error, emitted
        diffs = shape_diff(recorded, emitted)
        if is_error and recorded["error"].get("type") == emitted["error"].get("type"):
            assert (
                emitted["error"]["message"] == recorded["error"]["message"] or case.script is None
            )
    assert set(diffs) <= case.allowed, diffs
