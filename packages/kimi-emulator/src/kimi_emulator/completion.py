"""Turn a reply (scripted or the brain's) into a completion: ids, pieces, finish, usage."""

from __future__ import annotations

import hashlib
import json
import secrets
import sys
import uuid
from dataclasses import dataclass
from typing import Any

from kimi_emulator.script import Reply
from kimi_emulator.stops import cut_at_stop, stop_sequences
from kimi_emulator.tokens import count_text, split_tokens
from kimi_emulator.validate import ChatRequest

__all__ = [
    "Completion",
    "WireToolCall",
    "compose",
    "dumps",
    "logprobs_of",
    "split_evenly",
    "to_json",
]

# One token each (see tokens.py), so N requested chunks cost N completion tokens.
_FILLER_REASONING = " hm"
_FILLER_CONTENT = " ok"


@dataclass
class WireToolCall:
    """A tool call as it goes on the wire, with its stream pieces."""

    index: int
    id: str
    type: str
    name: str
    arguments: str
    pieces: list[str]


@dataclass
class Completion:
    """One assistant answer, ready to render as JSON or as SSE."""

    id: str
    created: int
    model: str
    fingerprint: str | None
    reasoning_pieces: list[str] | None
    content_pieces: list[str]
    tool_calls: list[WireToolCall]
    finish_reason: str
    usage: dict[str, Any]
    thinking: bool = False
    n: int = 1
    logprobs: bool = False
    top_logprobs: int = 0

    @property
    def reasoning(self) -> str | None:
        """The whole reasoning text (None for models without a reasoning field)."""
        return None if self.reasoning_pieces is None else "".join(self.reasoning_pieces)

    @property
    def content(self) -> str:
        """The whole content text."""
        return "".join(self.content_pieces)


def split_evenly(text: str, count: int) -> list[str]:
    """``text`` cut into ``count`` consecutive pieces (some may be empty when the text is short)."""
    if count <= 1:
        return [text]
    size, rest = divmod(len(text), count)
    pieces, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < rest else 0)
        pieces.append(text[start:end])
        start = end
    return pieces


def _pieces(text: str, spec: int | list[str] | None, chunk_size: int | None) -> list[str]:
    if isinstance(spec, list):
        return list(spec)
    if isinstance(spec, int):
        return split_evenly(text, spec)
    if chunk_size:
        return [text[i : i + chunk_size] for i in range(0, len(text), chunk_size)] or [""]
    return split_tokens(text)


def _truncate(pieces: list[str], budget: int) -> tuple[list[str], int, bool]:
    """Keep pieces while their tokens fit ``budget``: (kept, tokens used, truncated?)."""
    kept: list[str] = []
    used = 0
    for piece in pieces:
        cost = count_text(piece)
        if used + cost > budget:
            return kept, used, True
        kept.append(piece)
        used += cost
    return kept, used, False


def _completion_id(uuid_style: bool) -> str:
    if uuid_style:
        return f"chatcmpl-{uuid.uuid4()}"
    return f"chatcmpl-{secrets.token_hex(12)}"


def _usage(prompt: int, completion: int, cached: int, reasoning: int | None) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if cached:
        usage["cached_tokens"] = cached
    if reasoning is not None:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    if cached:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    return usage


def compose(
    request: ChatRequest,
    reply: Reply,
    *,
    created: int,
    cached_tokens: int,
    size: tuple[int | None, int | None] = (None, None),
) -> Completion:
    """Build the completion for ``request`` answered by ``reply``, within ``max_tokens``."""
    reasoning_chunks, content_chunks = size
    thinking_model = request.spec.supports_reasoning
    reasoning_text = (
        (reply.reasoning or "") if request.thinking and not reply.no_reasoning else None
    )
    reasoning_spec = reply.reasoning_chunks
    content_text = reply.content or ""
    content_spec = reply.content_chunks
    if reasoning_chunks is not None and request.thinking:
        reasoning_spec = [_FILLER_REASONING] * reasoning_chunks
    if content_chunks is not None:
        content_spec = [_FILLER_CONTENT] * content_chunks
    reasoning_pieces = (
        None
        if reasoning_text is None
        else _pieces(reasoning_text, reasoning_spec, reply.chunk_size)
    )
    content_pieces = (
        _pieces(content_text, content_spec, reply.chunk_size)
        if (content_text or content_spec)
        else []
    )
    content_pieces, stopped = cut_at_stop(content_pieces, stop_sequences(request.body))
    # Generation ends at a stop sequence: the tool calls that would have followed never come.
    calls = (
        []
        if stopped
        else [
            WireToolCall(
                index=i,
                id=call.id or f"{call.name.lstrip('$')}_{i}",
                type=call.type,
                name=call.name,
                arguments=call.arguments_json(),
                pieces=_pieces(call.arguments_json(), None, reply.chunk_size) or [""],
            )
            for i, call in enumerate(reply.tool_calls or [])
        ]
    )
    budget = (
        request.max_tokens if request.max_tokens is not None else request.spec.default_max_tokens
    )
    if request.max_tokens is None and size != (None, None):
        budget = sys.maxsize  # an explicit size request is not cut by the default max_tokens
    truncated = False
    reasoning_tokens: int | None = None
    if reasoning_pieces is not None:
        reasoning_pieces, reasoning_tokens, truncated = _truncate(reasoning_pieces, budget)
        budget -= reasoning_tokens
    if truncated:
        content_pieces, calls = [], []
        content_tokens = 0
    else:
        content_pieces, content_tokens, truncated = _truncate(content_pieces, budget)
        budget -= content_tokens
        call_tokens = sum(count_text(call.arguments) for call in calls)
        if truncated or call_tokens > budget:
            truncated, calls = True, []
        else:
            content_tokens += call_tokens
    finish = reply.finish_reason or ("length" if truncated else "tool_calls" if calls else "stop")
    completion_tokens = (reasoning_tokens or 0) + content_tokens
    usage = reply.usage or _usage(
        request.prompt_tokens,
        completion_tokens,
        min(cached_tokens, request.prompt_tokens),
        reasoning_tokens if request.thinking else None,
    )
    fingerprint = None
    if not request.spec.uuid_ids:
        fingerprint = (
            "fpv0_" + hashlib.sha1(request.model.encode(), usedforsecurity=False).hexdigest()[:8]
        )
    if reasoning_pieces is None and thinking_model and not reply.no_reasoning:
        # A thinking-capable model with thinking off still sends reasoning_content "" (probe).
        reasoning_pieces = []
    return Completion(
        id=_completion_id(request.spec.uuid_ids),
        created=created,
        model=request.model,
        fingerprint=fingerprint,
        reasoning_pieces=reasoning_pieces,
        content_pieces=content_pieces,
        tool_calls=calls,
        finish_reason=finish,
        usage=usage,
        thinking=request.thinking,
        n=request.n,
        logprobs=request.logprobs,
        top_logprobs=request.top_logprobs,
    )


def _logprob_entry(token: str, top: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"token": token, "logprob": -0.01, "bytes": list(token.encode())}
    entry["top_logprobs"] = [dict(entry) for _ in range(max(top, 1))]
    return entry


def logprobs_of(pieces: list[str], top: int) -> dict[str, Any]:
    """The ``logprobs`` object for content pieces (deterministic fake values)."""
    return {"content": [_logprob_entry(piece, top) for piece in pieces]}


def to_json(completion: Completion) -> dict[str, Any]:
    """The non-streaming ``chat.completion`` body."""
    message: dict[str, Any] = {"role": "assistant", "content": completion.content}
    if completion.reasoning_pieces is not None:
        message["reasoning_content"] = completion.reasoning
    if completion.tool_calls:
        message["tool_calls"] = [
            {
                "index": call.index,
                "id": call.id,
                "type": call.type,
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in completion.tool_calls
        ]
    choices = []
    for index in range(completion.n):
        choice: dict[str, Any] = {
            "index": index,
            "message": message,
            "finish_reason": completion.finish_reason,
        }
        if completion.logprobs:
            choice["logprobs"] = logprobs_of(completion.content_pieces, completion.top_logprobs)
        choices.append(choice)
    return {
        "id": completion.id,
        "object": "chat.completion",
        "created": completion.created,
        "model": completion.model,
        "choices": choices,
        "usage": completion.usage,
    }


def dumps(value: Any) -> bytes:
    """Compact JSON bytes."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
