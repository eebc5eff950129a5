"""Neutral results: usage, web searches and the parsed chat completion."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kimi_core.endpoints import MOONSHOT, EndpointProfile
from kimi_core.errors import MalformedResponseError, error_from_body
from kimi_core.messages import Message, ToolCall

__all__ = [
    "ChatResult",
    "Usage",
    "WebSearch",
    "logprob_entries",
    "parse_completion",
    "usage_from_wire",
]


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage of one call (or, summed with ``+``, of several).

    Attributes:
        input_tokens: Prompt tokens (cached ones included).
        output_tokens: Completion tokens (reasoning included).
        total_tokens: As reported by the server.
        cached_tokens: Prompt tokens served from the cache (flat or nested on the wire).
        reasoning_tokens: Completion tokens spent thinking, when reported.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.total_tokens + other.total_tokens,
            self.cached_tokens + other.cached_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
        )

    @property
    def text_tokens(self) -> int:
        """Completion tokens that were not reasoning (never negative, even on odd server counts)."""
        return max(0, self.output_tokens - self.reasoning_tokens)


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def usage_from_wire(raw: object) -> Usage | None:
    """Read a wire ``usage`` object; ``cached_tokens`` from the flat field or the nested one."""
    if not isinstance(raw, Mapping):
        return None
    cached = raw.get("cached_tokens")
    if not isinstance(cached, int):
        details = raw.get("prompt_tokens_details")
        cached = details.get("cached_tokens") if isinstance(details, Mapping) else 0
    out_details = raw.get("completion_tokens_details")
    reasoning = out_details.get("reasoning_tokens") if isinstance(out_details, Mapping) else 0
    prompt = _int(raw.get("prompt_tokens"))
    completion = _int(raw.get("completion_tokens"))
    total = _int(raw.get("total_tokens")) or prompt + completion
    return Usage(prompt, completion, total, _int(cached), _int(reasoning))


@dataclass(frozen=True, slots=True)
class WebSearch:
    """One ``$web_search`` call the loop echoed back.

    Attributes:
        call_id: The builtin tool call's id.
        arguments: The arguments JSON text exactly as received (and echoed).
        search_tokens: Tokens the search results add to the next prompt, when reported.
        round: 1-based round of the loop in which the model searched.
    """

    call_id: str
    arguments: str
    search_tokens: int | None = None
    round: int = 1

    @classmethod
    def from_call(cls, call: ToolCall, round_: int) -> WebSearch:
        """Describe a builtin call; the token count comes from ``arguments.usage.total_tokens``."""
        tokens = None
        try:
            parsed = json.loads(call.arguments)
        except ValueError:
            parsed = None
        if isinstance(parsed, Mapping) and isinstance(parsed.get("usage"), Mapping):
            value = parsed["usage"].get("total_tokens")
            tokens = value if isinstance(value, int) else None
        return cls(call.id, call.arguments, tokens, round_)


@dataclass(slots=True)
class ChatResult:
    """One complete answer.

    Attributes:
        id: Completion id.
        model: Model that answered.
        text: The answer text (``""`` when there is none).
        reasoning: The reasoning text, or None when the model gave none (``""`` counts as none);
            after ``$web_search`` rounds, every round's reasoning in order (as streamed).
        tool_calls: Client-side function calls to execute.
        finish_reason: ``stop``, ``length``, ``tool_calls`` ...
        usage: Token usage (summed over every ``$web_search`` round).
        request_id: The server's request id (``Msh-Request-Id``), when known.
        web_searches: Each ``$web_search`` the loop echoed.
        builtin_calls: Builtin calls in this final answer the loop did not resolve (only when the
            model called a builtin and a client function at once; kept for the history).
        raw: The final response body (non-stream) or None (stream).
        system_fingerprint: The server's ``system_fingerprint``, when sent.
        logprobs: ``choices[0].logprobs.content`` entries, when asked for.
    """

    id: str | None = None
    model: str | None = None
    text: str = ""
    reasoning: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    request_id: str | None = None
    web_searches: list[WebSearch] = field(default_factory=list)
    builtin_calls: list[ToolCall] = field(default_factory=list)
    raw: dict[str, Any] | None = None
    system_fingerprint: str | None = None
    logprobs: list[dict[str, Any]] | None = None

    def to_message(self) -> Message:
        """This answer as an assistant :class:`Message`, ready to append to the history.

        Keeps the reasoning (sent back by the thinking rules) and every tool call, builtin ones
        included (their echo is inserted by the request builder).
        """
        return Message.assistant(
            self.text or None,
            reasoning=self.reasoning,
            tool_calls=[*self.builtin_calls, *self.tool_calls],
        )


def _tool_calls_from_wire(
    raw: object, endpoint: EndpointProfile = MOONSHOT
) -> tuple[list[ToolCall], list[ToolCall]]:
    functions: list[ToolCall] = []
    builtins: list[ToolCall] = []
    if raw is None:
        return functions, builtins
    if not isinstance(raw, list):
        raise MalformedResponseError("message.tool_calls is not a list", body=raw)
    for i, item in enumerate(raw):
        try:
            call = ToolCall.from_wire(item)
        except ValueError as exc:
            raise MalformedResponseError(f"tool_calls[{i}]: {exc}", body=raw) from exc
        if not call.id:
            call.id = endpoint.default_tool_call_id(call.name, i)
        (builtins if call.is_builtin else functions).append(call)
    return functions, builtins


def _optional_text(value: object, what: str, body: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise MalformedResponseError(f"{what} is a {type(value).__name__}, not text", body=body)


def logprob_entries(choice: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The ``logprobs.content`` list of a choice (or stream choice), or None."""
    found = choice.get("logprobs")
    content = found.get("content") if isinstance(found, Mapping) else None
    return content if isinstance(content, list) else None


def parse_completion(
    body: Mapping[str, Any],
    *,
    request_id: str | None = None,
    endpoint: EndpointProfile = MOONSHOT,
) -> ChatResult:
    """Parse a non-stream ``chat.completion`` body.

    Args:
        body: The decoded JSON body.
        request_id: The ``Msh-Request-Id`` header, when known.
        endpoint: The server's profile: where reasoning and usage are.

    Returns:
        The neutral result (builtin tool calls in ``builtin_calls``, client calls in
        ``tool_calls``).

    Raises:
        KimiError: The body is an error envelope (typed by its ``type``).
        MalformedResponseError: The body has no choices or malformed tool calls.
    """
    if not isinstance(body, Mapping):
        raise MalformedResponseError("response body is not a JSON object", body=body)
    if "error" in body and not body.get("choices"):
        raise error_from_body(None, body)
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        raise MalformedResponseError("response has no choices", body=dict(body))
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, Mapping):
        raise MalformedResponseError("choices[0] has no message", body=dict(body))
    functions, builtins = _tool_calls_from_wire(message.get("tool_calls"), endpoint)
    content = _optional_text(message.get("content"), "message.content", body)
    name, raw_reasoning = endpoint.reasoning_of(message)
    reasoning = _optional_text(raw_reasoning, name or "reasoning_content", body)
    usage = usage_from_wire(body.get("usage"))
    if usage is None and endpoint.usage_in_choice:
        usage = usage_from_wire(choice.get("usage"))
    return ChatResult(
        id=body.get("id"),
        model=body.get("model"),
        text=content or "",
        reasoning=reasoning or None,
        tool_calls=functions,
        builtin_calls=builtins,
        finish_reason=_optional_text(choice.get("finish_reason"), "finish_reason", body),
        usage=usage,
        request_id=request_id,
        raw=dict(body),
        system_fingerprint=body.get("system_fingerprint"),
        logprobs=logprob_entries(choice),
    )
