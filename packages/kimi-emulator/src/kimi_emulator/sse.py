"""Render a completion as SSE frames, fast: the constant parts of every chunk are encoded once.

Order (kimi-api.md 8): role chunk, ``reasoning_content`` deltas (then an empty one, as live K3
and k2.5 streams show, unless the answer was cut off while still thinking), ``content`` deltas,
tool-call fragments (the first with id, type and name, later ones only index and argument
pieces), the finish chunk with ``choices[0].usage``, the top-level usage chunk with
``choices: []`` when ``include_usage`` is set, then ``data: [DONE]``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal

from kimi_emulator.completion import Completion, dumps, logprobs_of

__all__ = ["DONE", "StreamOptions", "frames"]

DONE = b"data: [DONE]\n\n"


class StreamOptions:
    """Rendering switches for one stream."""

    def __init__(
        self,
        *,
        include_usage: bool,
        null_usage: Literal["never", "with_include_usage", "always"],
        finish_usage: Literal["choice", "top_level", "both"],
    ) -> None:
        self.include_usage = include_usage
        self.null_usage = null_usage == "always" or (
            null_usage == "with_include_usage" and include_usage
        )
        self.choice_usage = finish_usage in ("choice", "both")
        self.top_level_usage = finish_usage in ("top_level", "both")


def _string(value: str, cache: dict[str, bytes]) -> bytes:
    encoded = cache.get(value)
    if encoded is None:
        encoded = json.dumps(value, ensure_ascii=False).encode()
        if len(cache) < 4096:
            cache[value] = encoded
    return encoded


def frames(completion: Completion, options: StreamOptions) -> Iterator[bytes]:
    """Every SSE event of the stream, ``data: [DONE]`` included."""
    head = dumps(
        {
            "id": completion.id,
            "object": "chat.completion.chunk",
            "created": completion.created,
            "model": completion.model,
        }
    )[:-1]
    prefix = head + b',"choices":[{"index":0,"delta":'
    tail = b"]"
    if completion.fingerprint:
        tail += b',"system_fingerprint":"' + completion.fingerprint.encode() + b'"'
    if options.null_usage:
        tail += b',"usage":null'
    tail += b"}\n\n"
    open_tail = b',"finish_reason":null}' + tail
    cache: dict[str, bytes] = {}

    def event(delta: bytes, choice_extra: bytes = b"") -> bytes:
        return b"data: " + prefix + delta + choice_extra + open_tail

    yield event(b'{"role":"assistant","content":""}')
    if completion.thinking and completion.reasoning_pieces is not None:
        for piece in completion.reasoning_pieces:
            yield event(b'{"reasoning_content":' + _string(piece, cache) + b"}")
        cut_while_thinking = completion.finish_reason == "length" and not (
            completion.content_pieces or completion.tool_calls
        )
        if not cut_while_thinking:
            yield event(b'{"reasoning_content":""}')
    for piece in completion.content_pieces:
        extra = b""
        if completion.logprobs:
            extra = b',"logprobs":' + dumps(logprobs_of([piece], completion.top_logprobs))
        yield event(b'{"content":' + _string(piece, cache) + b"}", extra)
    for call in completion.tool_calls:
        start: dict[str, Any] = {
            "index": call.index,
            "id": call.id,
            "type": call.type,
            "function": {"name": call.name, "arguments": ""},
        }
        yield event(b'{"tool_calls":[' + dumps(start) + b"]}")
        index = str(call.index).encode()
        for piece in call.pieces:
            yield event(
                b'{"tool_calls":[{"index":'
                + index
                + b',"function":{"arguments":'
                + _string(piece, cache)
                + b"}}]}"
            )
    usage = dumps(completion.usage)
    yield _finish(completion, options, prefix, usage)
    if options.include_usage:
        yield b"data: " + head + b',"choices":[],"usage":' + usage + b"}\n\n"
    yield DONE


def _finish(completion: Completion, options: StreamOptions, prefix: bytes, usage: bytes) -> bytes:
    """The chunk with ``finish_reason``, usage where the options put it."""
    finish = b"data: " + prefix + b'{},"finish_reason":"' + completion.finish_reason.encode() + b'"'
    if options.choice_usage:
        finish += b',"usage":' + usage
    finish += b"}]"
    if completion.fingerprint:
        finish += b',"system_fingerprint":"' + completion.fingerprint.encode() + b'"'
    if options.top_level_usage:
        finish += b',"usage":' + usage
    elif options.null_usage:
        finish += b',"usage":null'
    return finish + b"}\n\n"
