"""Every live/hand-made recording parsed, fed to the parser and served verbatim over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import kimi_core
import pytest
from core_helpers import sse_body
from kimi_core import (
    ChatSettings,
    KimiClient,
    Message,
    StreamAccumulator,
    build_chat_request,
    parse_completion,
)
from kimi_core.errors import error_from_body
from moonshot_recordings import RECORDINGS, recording_files
from replay_http import Canned, ReplayServer

_ALT_9FB = "alt-versions/9fbc30bf438e0255b7a0d8d08681cf6f5e7e743b/"
_ALT_A58 = "alt-versions/a5812944207bcb98f5e5bb71b3c45d1d74402995/"

# file: (text, reasoning prefix or None, [(id, name, arguments)], finish, (in, out, total, cached,
# reasoning)). Values read off the recordings by hand (see INDEX.md for what each one shows).
RESULTS = {
    "issue-19311-kimi-k3-live-2026-08-24.json": (
        "323",
        "17*19=323.",
        [],
        "stop",
        (101, 32, 133, 101, 16),
    ),
    "issue-19311-kimi-k3-negative-usage.json": (
        "",
        None,
        [],
        "length",
        (951, 6000, 6952, 60, 6001),
    ),
    "moonshot-cached-tokens.chunks.txt": ("Hello, world!", None, [], "stop", (100, 10, 110, 80, 0)),
    "moonshot-text.chunks.txt": ("Hello", None, [], "stop", (50, 5, 55, 0, 0)),
    "moonshotai-file-reference-live.json": ("IMAGE_OK", None, [], "stop", (18, 5, 23, 6, 1)),
    "moonshotai-issue-19544-accepted.json": (
        '{"pair":["age",42]}',
        "The user wants a JSON",
        [],
        "stop",
        (194, 48, 242, 0, 31),
    ),
    "moonshotai-issue-19544-json-object.json": (
        "{}",
        "The user requested exactly",
        [],
        "stop",
        (140, 31, 171, 140, 20),
    ),
    "moonshotai-k2.6-tool-choice-omitted.json": (
        "",
        "The user wants me to call",
        [],
        "length",
        (41, 32, 73, 0, 31),
    ),
    "moonshotai-k2.7-tool-choice-omitted.json": (
        "",
        "The user wants me to call",
        [("ping_0", "ping", "{}")],
        "tool_calls",
        (41, 28, 69, 0, 16),
    ),
    "moonshotai-k3-required-tool-choice.json": (
        "",
        "The user asked me to call",
        [("ping_0", "ping", "{}")],
        "tool_calls",
        (189, 51, 240, 0, 15),
    ),
    "moonshotai-kimi-k3-default-sampling.json": (
        "OK",
        "The user wants me to reply",
        [],
        "length",
        (89, 34, 123, 89, 24),
    ),
    "moonshotai-logprobs.chunks.txt": ("OK!", None, [], "stop", (11, 3, 14, 0, 0)),
    "moonshotai-logprobs.json": ("OK!", None, [], "stop", (11, 3, 14, 0, 0)),
    "moonshotai-max-completion-tokens.chunks.txt": ("OK", None, [], "stop", (11, 2, 13, 0, 0)),
    "moonshotai-max-completion-tokens.json": ("OK", None, [], "stop", (11, 2, 13, 0, 0)),
    "moonshotai-metadata-live.chunks.txt": (
        "",
        "User explicitly asks",
        [("get_weather_0", "get_weather", '{"city": "Paris"}')],
        "tool_calls",
        (213, 99, 312, 213, 46),
    ),
    "moonshotai-metadata-live.json": (
        "",
        "The user is asking about",
        [("get_weather_0", "get_weather", '{"city": "Paris"}')],
        "tool_calls",
        (191, 97, 288, 0, 44),
    ),
    "moonshotai-reasoning.json": (
        "There are three.",
        "Let me count",
        [],
        "stop",
        (20, 30, 50, 10, 22),
    ),
    "moonshotai-stream-choice-usage.chunks.txt": ("OK.", None, [], "stop", (12, 5, 17, 0, 1)),
    "moonshotai-stream-explicit-tool-call-index.chunks.txt": (
        "",
        None,
        [("weather_0", "weather", '{"location": "San Francisco"}')],
        "tool_calls",
        (61, 19, 80, 0, 1),
    ),
    "moonshotai-stream-indexless-tool-calls.chunks.txt": (
        "",
        None,
        [
            ("weather_0", "weather", '{"location":"San Francisco"}'),
            ("time_1", "time", '{"zone":"UTC"}'),
        ],
        "tool_calls",
        (61, 25, 86, 0, 0),
    ),
    "moonshotai-stream-tool-calls.chunks.txt": (
        "",
        None,
        [
            ("call-weather", "get_weather", '{"city":"Paris"}'),
            ("call-time", "get_time", '{"zone":"UTC"}'),
        ],
        "tool_calls",
        (11, 6, 17, 0, 0),
    ),
    # The trailing top-level usage chunk wins over the finish chunk's choices[0].usage.
    "moonshotai-stream-usage-precedence.chunks.txt": ("OK", None, [], "stop", (99, 33, 132, 0, 0)),
    "moonshotai-stream.chunks.txt": ("Hello!", "Thinking aloud.", [], "stop", (9, 12, 21, 0, 7)),
    "moonshotai-text.json": ("Hello, world!", None, [], "stop", (9, 5, 14, 0, 0)),
    "moonshotai-tool-call.chunks.txt": (
        "",
        None,
        [("call_abc123", "get_weather", '{"city":"Paris"}')],
        "tool_calls",
        (30, 12, 42, 0, 0),
    ),
    "moonshotai-tool-call.json": (
        "",
        None,
        [("call_abc123", "get_weather", '{"city":"Paris"}')],
        "tool_calls",
        (30, 12, 42, 0, 0),
    ),
    "moonshotai-usage-live.chunks.txt": (
        "OK",
        "The user is asking me",
        [],
        "stop",
        (90, 50, 140, 90, 33),
    ),
    "moonshotai-usage-live.json": (
        "OK",
        "We need answer exactly OK",
        [],
        "stop",
        (90, 34, 124, 90, 17),
    ),
    "moonshotai-v1-structured-output.json": (
        '{\n  "answer": "ok"\n}',
        None,
        [],
        "stop",
        (17, 11, 28, 0, 0),
    ),
    "alt-versions/6c50766cdfc8e374b6f3de4154b986dde1131a19/moonshotai-metadata-live.json": (
        "",
        "Must call get_weather",
        [("get_weather_0", "get_weather", '{"city": "Paris"}')],
        "tool_calls",
        (213, 73, 286, 0, 20),
    ),
    # finish_reason "stop" after a tool call: the call is still returned, not dropped.
    "alt-versions/828548096f3d338006f2c00419d0fbcc7b95c8fc/moonshotai-metadata-live.chunks.txt": (
        "",
        None,
        [("get_weather_0", "get_weather", '{"city": "Paris"}')],
        "stop",
        (99, 44, 143, 99, 0),
    ),
    "alt-versions/828548096f3d338006f2c00419d0fbcc7b95c8fc/moonshotai-metadata-live.json": (
        "",
        None,
        [("get_weather_0", "get_weather", '{"city": "Paris"}')],
        "stop",
        (99, 44, 143, 0, 0),
    ),
    _ALT_9FB + "moonshotai-max-completion-tokens.chunks.txt": (
        "",
        "The user is asking me",
        [],
        "length",
        (89, 8, 97, 89, 5),
    ),
    "alt-versions/9fbc30bf438e0255b7a0d8d08681cf6f5e7e743b/moonshotai-max-completion-tokens.json": (
        "",
        "The user is asking me",
        [],
        "length",
        (89, 8, 97, 89, 5),
    ),
    _ALT_A58 + "moonshotai-stream-tool-calls.chunks.txt": (
        "",
        None,
        [
            ("call-weather", "get_weather", '{"city":"Paris"}'),
            ("call-time", "get_time", '{"zone":"UTC"}'),
        ],
        "tool_calls",
        (11, 6, 17, 0, 0),
    ),
    "alt-versions/a5812944207bcb98f5e5bb71b3c45d1d74402995/moonshotai-stream.chunks.txt": (
        "Hello!",
        "Thinking aloud.",
        [],
        "stop",
        (9, 12, 21, 0, 7),
    ),
    "alt-versions/d7e3880f4afad1850ec9a1c948baf0221caa22b2/moonshotai-stream.chunks.txt": (
        "Hello!",
        "Thinking aloud.",
        [],
        "stop",
        (9, 12, 21, 0, 7),
    ),
    "alt-versions/de5a633abe01ec9e1731fa28784532bd4c1d83c3/moonshotai-issue-19544-accepted.json": (
        '{"pair":["{}",0]}',
        "The response schema",
        [],
        "stop",
        (198, 196, 394, 198, 180),
    ),
    "alt-versions/fb04932247e51aef82a9afcf9d203dfc160ff181/moonshotai-v1-structured-output.json": (
        '{\n  "greeting": "hello"\n}',
        None,
        [],
        "stop",
        (16, 12, 28, 0, 0),
    ),
}

# HTTP error bodies: (typed error, error type, message start).
ERRORS = {
    "moonshotai-error-live-message-only.json": (
        kimi_core.NotFoundError,
        "resource_not_found_error",
        "Not found the model issue-19552",
    ),
    "moonshotai-error-message-only.json": (
        kimi_core.InvalidRequestError,
        None,
        "Message-only error",
    ),
    "moonshotai-error-null-code.json": (
        kimi_core.InvalidRequestError,
        "invalid_request_error",
        "Request failed with a nullable",
    ),
    "moonshotai-error-with-code.json": (
        kimi_core.InvalidRequestError,
        "invalid_request_error",
        "Coded HTTP error",
    ),
    "alt-versions/e4d6716bca3acebb8c9e9ede6c094a93c1a82c4d/moonshotai-error-with-code.json": (
        kimi_core.InvalidRequestError,
        "invalid_request_error",
        "Invalid request: documented",
    ),
    "moonshotai-error-with-null-code.json": (
        kimi_core.InvalidRequestError,
        "invalid_request_error",
        "Invalid request with nullable",
    ),
    "moonshotai-error-without-code-live.json": (
        kimi_core.NotFoundError,
        "resource_not_found_error",
        "Not found the model definitely",
    ),
    "moonshotai-error.json": (
        kimi_core.InvalidRequestError,
        "invalid_request_error",
        "Invalid request: invalid part",
    ),
    "moonshotai-issue-19544-rejected.json": (
        kimi_core.InvalidRequestError,
        "invalid_request_error",
        "Invalid request: response_format",
    ),
    "moonshotai-k2.7-disabled-thinking-error.json": (
        kimi_core.InvalidRequestError,
        "invalid_request_error",
        "invalid thinking: only type",
    ),
    "moonshotai-kimi-k3-temperature-rejection.json": (
        kimi_core.InvalidRequestError,
        "invalid_request_error",
        "invalid temperature: only 1",
    ),
    "moonshotai-required-tool-choice-error.json": (
        kimi_core.InvalidRequestError,
        "invalid_request_error",
        "tool_choice 'required' is",
    ),
    "moonshotai-unsupported-sampling-error.json": (
        kimi_core.InvalidRequestError,
        "invalid_request_error",
        "invalid temperature: only 0.6",
    ),
    "moonshotai-unsupported-svg-error.json": (
        kimi_core.InvalidRequestError,
        "invalid_request_error",
        "Invalid request: unsupported image",
    ),
}

# Streams that fail: (typed error, message start). Error events become typed errors; a malformed
# tool-call index becomes MalformedResponseError (never an uncaught KeyError/TypeError).
STREAM_ERRORS = {
    "moonshotai-error-metadata.chunks.txt": (kimi_core.ServerError, "Coded stream failure"),
    "moonshotai-error.chunks.txt": (kimi_core.ServerError, "Internal server error"),
    "moonshotai-stream-error-message-only.chunks.txt": (kimi_core.ServerError, "Stream failed"),
    "moonshotai-stream-error-null-code.chunks.txt": (kimi_core.ServerError, "Stream failed with"),
    "moonshotai-stream-error.chunks.txt": (kimi_core.ServerError, "Stream failed"),
    "moonshotai-issue-19546-malformed.chunks.txt": (
        kimi_core.MalformedResponseError,
        "tool-call fragment has an invalid index",
    ),
    "moonshotai-stream-malformed-tool-call.chunks.txt": (
        kimi_core.MalformedResponseError,
        "tool-call fragment has an invalid index",
    ),
}


def test_every_recording_is_covered():
    assert set(recording_files()) == set(RESULTS) | set(ERRORS) | set(STREAM_ERRORS)


def _check(result: kimi_core.ChatResult, expected: tuple) -> None:
    text, reasoning, calls, finish, usage = expected
    assert result.text == text
    if reasoning is None:
        assert result.reasoning is None
    else:
        assert result.reasoning is not None
        assert result.reasoning.startswith(reasoning)
    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == calls
    assert result.finish_reason == finish
    assert result.usage is not None
    u = result.usage
    assert (
        u.input_tokens,
        u.output_tokens,
        u.total_tokens,
        u.cached_tokens,
        u.reasoning_tokens,
    ) == (usage)
    assert u.text_tokens >= 0


def _feed(path: Path) -> kimi_core.ChatResult:
    acc = StreamAccumulator()
    for line in path.read_text().splitlines():
        if line.strip():
            acc.feed(json.loads(line))
    acc.mark_done()
    return acc.result()


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_recording_parsed(name):
    path = RECORDINGS / name
    if name.endswith(".chunks.txt"):
        result = _feed(path)
    else:
        result = parse_completion(json.loads(path.read_text()))
    _check(result, RESULTS[name])


def _drain(stream: kimi_core.ChatStream, texts: list[str | None]) -> None:
    for delta in stream:
        texts.append(delta.text)


def _request(stream: bool) -> kimi_core.ChatRequest:
    return build_chat_request([Message.user("hi")], ChatSettings(model="kimi-k3"), stream=stream)


@pytest.mark.parametrize("name", sorted(n for n in RESULTS if n.endswith(".chunks.txt")))
def test_recording_streamed_coalesced(name, replay_server: ReplayServer):
    """Merging the events of one network read changes how many deltas come, never what they say."""
    body = sse_body(RECORDINGS / name)
    client = KimiClient(api_key="sk-test", base_url=replay_server.base_url)
    replay_server.serve(Canned(body=body, content_type="text/event-stream"))
    plain = list(client.stream(_request(stream=True)))
    merged = list(client.stream(_request(stream=True), coalesce=True))
    for deltas in (plain, merged):
        assert deltas[-1].result is not None
        _check(deltas[-1].result, RESULTS[name])
    for part in ("text", "reasoning"):
        assert "".join(getattr(d, part) or "" for d in merged) == "".join(
            getattr(d, part) or "" for d in plain
        )
    calls = [c for d in plain for c in d.tool_call_chunks]
    assert [c for d in merged for c in d.tool_call_chunks] == calls
    assert len(merged) <= len(plain)


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_recording_served_verbatim(name, replay_server: ReplayServer):
    path = RECORDINGS / name
    client = KimiClient(api_key="sk-test", base_url=replay_server.base_url)
    if name.endswith(".chunks.txt"):
        replay_server.serve(Canned(body=sse_body(path), content_type="text/event-stream"))
        deltas = list(client.stream(_request(stream=True)))
        result = deltas[-1].result
        assert result is not None
        # The deltas carry exactly the text the result holds (nothing dropped or doubled).
        assert "".join(d.text or "" for d in deltas) == result.text
    else:
        replay_server.serve(Canned(body=path.read_bytes(), headers={"msh-request-id": "rid-1"}))
        result = client.complete(_request(stream=False))
        assert result.request_id == "rid-1"
    _check(result, RESULTS[name])


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error_recording_typed_over_http(name, replay_server: ReplayServer):
    cls, etype, start = ERRORS[name]
    body = (RECORDINGS / name).read_bytes()
    status = 404 if cls is kimi_core.NotFoundError else 400
    replay_server.serve(Canned(status=status, body=body, headers={"msh-request-id": "rid-err"}))
    client = KimiClient(api_key="sk-test", base_url=replay_server.base_url, max_retries=0)
    with pytest.raises(cls) as info:
        client.complete(_request(stream=False))
    assert info.value.status == status
    assert info.value.error_type == etype
    assert info.value.message.startswith(start)
    assert info.value.request_id == "rid-err"
    assert not info.value.retryable
    assert info.type is error_from_body(status, json.loads(body)).__class__


@pytest.mark.parametrize("coalesce", [False, True], ids=["per-event", "coalesced"])
@pytest.mark.parametrize("name", sorted(STREAM_ERRORS))
def test_stream_error_recording(name, coalesce, replay_server: ReplayServer):
    cls, start = STREAM_ERRORS[name]
    path = RECORDINGS / name
    with pytest.raises(cls) as fed:
        _feed(path)
    assert fed.value.message.startswith(start)
    replay_server.serve(Canned(body=sse_body(path), content_type="text/event-stream"))
    client = KimiClient(api_key="sk-test", base_url=replay_server.base_url, max_retries=0)
    received: list[str | None] = []
    with pytest.raises(cls):
        _drain(client.stream(_request(stream=True), coalesce=coalesce), received)
    # Text that arrived before the error was delivered, and no final result was produced.
    if name == "moonshotai-stream-error.chunks.txt":
        assert received == ["Partial"]


def test_stream_without_done_is_incomplete(replay_server: ReplayServer):
    path = RECORDINGS / "moonshotai-usage-live.chunks.txt"
    replay_server.serve(Canned(body=sse_body(path, done=False), content_type="text/event-stream"))
    client = KimiClient(api_key="sk-test", base_url=replay_server.base_url)
    stream = client.stream(_request(stream=True))
    texts: list[str | None] = []
    with pytest.raises(kimi_core.IncompleteStreamError, match=r"\[DONE\]"):
        _drain(stream, texts)
    assert "".join(t or "" for t in texts) == "OK"
    assert stream.result is None


def test_stream_cut_before_finish_is_incomplete():
    path = RECORDINGS / "moonshotai-usage-live.chunks.txt"
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    acc = StreamAccumulator()
    for chunk in lines[:5]:
        acc.feed(chunk)
    acc.mark_done()
    with pytest.raises(kimi_core.IncompleteStreamError, match="finish_reason"):
        acc.result()


@pytest.mark.parametrize("name", ["moonshotai-logprobs.json", "moonshotai-logprobs.chunks.txt"])
def test_logprobs_recordings(name):
    path = RECORDINGS / name
    if name.endswith(".chunks.txt"):
        result = _feed(path)
    else:
        result = parse_completion(json.loads(path.read_text()))
    assert result.logprobs is not None
    assert "".join(entry["token"] for entry in result.logprobs) == result.text == "OK!"
