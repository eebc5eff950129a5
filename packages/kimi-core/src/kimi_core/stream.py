"""Assemble a Kimi SSE stream into deltas and one final result, in linear time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from kimi_core.endpoints import MOONSHOT, EndpointProfile
from kimi_core.errors import IncompleteStreamError, MalformedResponseError, error_from_body
from kimi_core.messages import ToolCall
from kimi_core.response import ChatResult, Usage, WebSearch, logprob_entries, usage_from_wire

__all__ = ["StreamAccumulator", "StreamDelta", "ToolCallChunk", "coalesce_deltas"]


def _is_object(value: object) -> TypeGuard[Mapping[str, Any]]:
    # json.loads gives plain dicts: the exact type test skips the slow ABC check per event.
    return type(value) is dict or isinstance(value, Mapping)


_FOLD = 256


class _Pieces:
    """Text pieces in arrival order, joined once at the end (linear time).

    Every ``_FOLD`` pieces are folded into one string as they arrive, so a 50,000-event answer
    keeps a few hundred strings alive instead of 50,000 small ones (each ~50 bytes of object
    header); every character is still copied at most twice.
    """

    __slots__ = ("_blocks", "_pieces")

    def __init__(self) -> None:
        self._blocks: list[str] = []
        self._pieces: list[str] = []

    def append(self, piece: str) -> None:
        pieces = self._pieces
        pieces.append(piece)
        if len(pieces) == _FOLD:
            self._blocks.append("".join(pieces))
            pieces.clear()

    def join(self) -> str:
        return "".join(self._blocks + self._pieces)

    def __len__(self) -> int:
        """Characters so far."""
        return sum(map(len, self._blocks)) + sum(map(len, self._pieces))


def _text_field(value: object, what: str, chunk: object) -> str:
    # A non-string here would otherwise fail much later, deep inside a join or a framework type.
    if not isinstance(value, str):
        raise MalformedResponseError(f"{what} is a {type(value).__name__}, not text", body=chunk)
    return value


@dataclass(slots=True)
class ToolCallChunk:
    """A fragment of a streamed tool call. Fragments with the same ``index`` form one call.

    ``id`` and ``name`` come with the first fragment; ``arguments`` pieces concatenate in order.
    """

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""
    type: str | None = None


@dataclass(slots=True)
class StreamDelta:
    """What one stream event added.

    Attributes:
        text: New answer text.
        reasoning: New reasoning text (``""`` fragments are treated as absent).
        tool_call_chunks: New tool-call fragments (client functions only when coming from
            ``KimiClient.stream``; builtin calls are handled by the ``$web_search`` loop).
        finish_reason: Set once, when the answer is finished.
        usage: Token usage, when this event carried it.
        event: A :class:`WebSearch` the loop just echoed, when this delta reports one.
        result: The complete :class:`ChatResult`, on the last delta of ``KimiClient.stream``.
    """

    text: str | None = None
    reasoning: str | None = None
    tool_call_chunks: Sequence[ToolCallChunk] = ()
    finish_reason: str | None = None
    usage: Usage | None = None
    event: WebSearch | None = None
    result: ChatResult | None = None


def _piece(delta: StreamDelta) -> tuple[int, str]:
    """``(1, text)`` for a text-only delta, ``(2, reasoning)`` for reasoning-only, else ``(0, "")``.

    Only those two kinds are merged; anything else passes through unchanged.
    """
    if delta.tool_call_chunks or delta.finish_reason or delta.usage or delta.event or delta.result:
        return 0, ""
    if delta.reasoning is None:
        return (1, delta.text) if delta.text is not None else (0, "")
    return (2, delta.reasoning) if delta.text is None else (0, "")


def coalesce_deltas(deltas: list[StreamDelta]) -> list[StreamDelta]:
    """Merge runs of consecutive text-only (or reasoning-only) deltas into one delta each.

    Order is kept: a run ends where the kind changes, and deltas carrying anything else (tool-call
    fragments, finish reason, usage, events, both text and reasoning) pass through unchanged.
    """
    if len(deltas) < 2:
        return deltas
    out: list[StreamDelta] = []
    run: list[str] = []
    run_kind = 0
    for delta in deltas:
        kind, piece = _piece(delta)
        if kind and kind == run_kind:
            run.append(piece)
            continue
        if run_kind:
            out.append(_joined(run, run_kind))
        run, run_kind = [piece], kind
        if not kind:
            out.append(delta)
    if run_kind:
        out.append(_joined(run, run_kind))
    return out


def _joined(pieces: list[str], kind: int) -> StreamDelta:
    text = "".join(pieces)
    return StreamDelta(text=text) if kind == 1 else StreamDelta(reasoning=text)


@dataclass(slots=True)
class _CallBuffer:
    id: str | None = None
    name: str | None = None
    type: str | None = None
    arguments: list[str] = field(default_factory=list)


class StreamAccumulator:
    """Feed decoded ``chat.completion.chunk`` dicts; get deltas, then the complete result.

    Handles Kimi's quirks: tool-call fragments matched by ``index`` or, without one, by position
    (several calls per chunk), usage in ``choices[0].usage`` and/or a top-level usage chunk (the
    top-level value wins), ``reasoning_content: ""`` as absent, and ``{"error": ...}`` events.
    Every piece is appended to a list and joined once, so the work is linear in the chunk count.
    """

    __slots__ = (
        "_calls",
        "_choice_usage",
        "_logprobs",
        "_reasoning",
        "_reasoning_out",
        "_slots",
        "_text",
        "_top_usage",
        "created",
        "done",
        "endpoint",
        "finish_reason",
        "id",
        "model",
        "request_id",
        "system_fingerprint",
    )

    def __init__(
        self, *, request_id: str | None = None, endpoint: EndpointProfile = MOONSHOT
    ) -> None:
        self.endpoint = endpoint
        self._reasoning_out = endpoint.reasoning_out
        self._text = _Pieces()
        self._reasoning = _Pieces()
        self._calls: dict[int, _CallBuffer] = {}
        self._slots: list[int] = []
        self._logprobs: list[dict[str, Any]] | None = None
        self._choice_usage: Usage | None = None
        self._top_usage: Usage | None = None
        self.id: str | None = None
        self.model: str | None = None
        self.created: int | None = None
        self.system_fingerprint: str | None = None
        self.finish_reason: str | None = None
        self.done = False
        self.request_id = request_id

    def feed(self, chunk: Mapping[str, Any]) -> StreamDelta | None:
        """Take one decoded chunk.

        Args:
            chunk: One SSE ``data:`` payload, decoded.

        Returns:
            What the chunk added, or None when it added nothing.

        Raises:
            KimiError: The chunk is an ``{"error": ...}`` event (typed by its ``type``).
            MalformedResponseError: The chunk does not follow the protocol.
        """
        if not _is_object(chunk):
            raise MalformedResponseError("stream chunk is not a JSON object", body=chunk)
        if "error" in chunk:
            error = error_from_body(None, chunk)
            error.request_id = error.request_id or self.request_id
            raise error
        if self.id is None:
            self._first(chunk)
        fingerprint = chunk.get("system_fingerprint")
        if fingerprint:
            self.system_fingerprint = fingerprint
        usage = None
        raw_usage = chunk.get("usage")
        if raw_usage:
            usage = self._top_usage = usage_from_wire(raw_usage)
        choices = chunk.get("choices")
        if not choices:
            return None if usage is None else StreamDelta(usage=usage)
        if not isinstance(choices, list) or not _is_object(choices[0]):
            raise MalformedResponseError("choices is not a list of objects", body=chunk)
        choice = choices[0]
        text = reasoning = None
        calls: Sequence[ToolCallChunk] = ()
        delta = choice.get("delta")
        if delta:
            text, reasoning, calls = self._feed_delta(delta, chunk)
        if "logprobs" in choice:
            self._feed_logprobs(choice)
        finish = choice.get("finish_reason") or None
        if finish is not None:
            self.finish_reason = _text_field(finish, "finish_reason", chunk)
        choice_usage = choice.get("usage") if self.endpoint.usage_in_choice else None
        if choice_usage:
            self._choice_usage = usage_from_wire(choice_usage)
            usage = usage or self._choice_usage
        if text is None and reasoning is None and not calls and finish is None and usage is None:
            return None
        return StreamDelta(text, reasoning, calls, finish, usage)

    def _first(self, chunk: Mapping[str, Any]) -> None:
        self.id = chunk.get("id")
        self.model = chunk.get("model")
        self.created = chunk.get("created")

    def _feed_logprobs(self, choice: Mapping[str, Any]) -> None:
        entries = logprob_entries(choice)
        if entries:
            if self._logprobs is None:
                self._logprobs = []
            self._logprobs.extend(entries)

    def _feed_delta(
        self, delta: object, chunk: object
    ) -> tuple[str | None, str | None, Sequence[ToolCallChunk]]:
        if not _is_object(delta):
            raise MalformedResponseError("choices[0].delta is not an object", body=chunk)
        reasoning = None
        for name in self._reasoning_out:
            reasoning = delta.get(name) or None
            if reasoning is not None:
                if not isinstance(reasoning, str):
                    _text_field(reasoning, f"delta.{name}", chunk)  # raises, naming the field
                self._reasoning.append(reasoning)
                break
        text = delta.get("content") or None
        if text is not None:
            text = _text_field(text, "delta.content", chunk)
            self._text.append(text)
        fragments = delta.get("tool_calls")
        calls = self._feed_tool_calls(fragments, chunk) if fragments else ()
        return text, reasoning, calls

    def _feed_tool_calls(self, fragments: object, chunk: object) -> list[ToolCallChunk]:
        if not isinstance(fragments, list):
            raise MalformedResponseError("delta.tool_calls is not a list", body=chunk)
        out = []
        started: list[int] = []
        for position, frag in enumerate(fragments):
            piece = self._fragment(frag, position, chunk)
            if piece.id and not isinstance(frag.get("index"), int):
                started.append(piece.index)
            buffer = self._calls.get(piece.index)
            if buffer is None:
                buffer = self._calls[piece.index] = _CallBuffer()
            if piece.id:
                buffer.id = piece.id
            if piece.name:
                buffer.name = piece.name
            if piece.type:
                buffer.type = piece.type
            if piece.arguments:
                buffer.arguments.append(piece.arguments)
            out.append(piece)
        if started:
            self._slots = started
        return out

    def _fragment(self, frag: Any, position: int, chunk: object) -> ToolCallChunk:
        """Validate one tool-call fragment and find the call it belongs to."""
        if not isinstance(frag, Mapping):
            raise MalformedResponseError("a tool-call fragment is not an object", body=chunk)
        fn = frag.get("function") or {}
        if not isinstance(fn, Mapping):
            raise MalformedResponseError("tool-call function is not an object", body=chunk)
        call_id = frag.get("id") or None
        if call_id is not None:
            call_id = _text_field(call_id, "tool-call id", chunk)
        name = fn.get("name") or None
        if name is not None:
            name = _text_field(name, "tool-call function.name", chunk)
        arguments = _text_field(fn.get("arguments") or "", "tool-call arguments", chunk)
        index = frag.get("index")
        if index is None:
            index = self._index_for_indexless(position, call_id)
        elif isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise MalformedResponseError(
                f"tool-call fragment has an invalid index {index!r}", body=chunk
            )
        return ToolCallChunk(index, call_id, name, arguments, frag.get("type") or None)

    def _index_for_indexless(self, position: int, call_id: str | None) -> int:
        if call_id:
            # A new call without an index: the same slot unless a different call already holds it.
            held = self._calls.get(position)
            if held is None or held.id in (None, call_id):
                return position
            return max(self._calls) + 1
        # A continuation without an index: match by position among the calls started last.
        if position < len(self._slots):
            return self._slots[position]
        return max(self._calls, default=position)

    def mark_done(self) -> None:
        """Record the ``[DONE]`` sentinel."""
        self.done = True

    @property
    def usage(self) -> Usage | None:
        """The usage seen so far (a top-level usage chunk wins over ``choices[0].usage``)."""
        return self._top_usage or self._choice_usage

    def tool_calls(self) -> list[ToolCall]:
        """Every assembled tool call (builtin ones included), by index."""
        calls = []
        for index in sorted(self._calls):
            buffer = self._calls[index]
            if not buffer.name:
                raise MalformedResponseError(f"streamed tool call {index} never got a name")
            calls.append(
                ToolCall(
                    id=buffer.id or self.endpoint.default_tool_call_id(buffer.name, index),
                    name=buffer.name,
                    arguments="".join(buffer.arguments),
                    type="builtin_function" if buffer.type == "builtin_function" else "function",
                )
            )
        return calls

    def result(self, *, require_done: bool = True) -> ChatResult:
        """The complete answer.

        Args:
            require_done: Also require the ``[DONE]`` sentinel (disable only for transports
                that strip it).

        Raises:
            IncompleteStreamError: The stream ended without ``finish_reason`` (and ``[DONE]``): the
                answer is truncated and is never returned as if complete.
        """
        if self.finish_reason is None or (require_done and not self.done):
            missing = " and ".join(
                m
                for m, absent in (
                    ("finish_reason", self.finish_reason is None),
                    ("[DONE]", require_done and not self.done),
                )
                if absent
            )
            received = len(self._text)
            raise IncompleteStreamError(
                f"stream ended without {missing} after {received} characters of text; the "
                "answer is incomplete",
                request_id=self.request_id,
                retryable=False,
            )
        calls = self.tool_calls()
        return ChatResult(
            id=self.id,
            model=self.model,
            text=self._text.join(),
            reasoning=self._reasoning.join() or None,
            tool_calls=[c for c in calls if not c.is_builtin],
            builtin_calls=[c for c in calls if c.is_builtin],
            finish_reason=self.finish_reason,
            usage=self.usage,
            request_id=self.request_id,
            system_fingerprint=self.system_fingerprint,
            logprobs=self._logprobs,
        )
