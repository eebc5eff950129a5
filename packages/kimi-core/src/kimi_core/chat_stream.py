"""Reading a streamed chat call off the wire, and the iterators a caller holds.

A call is one or more rounds (the ``$web_search`` loop asks again); :class:`StreamRound` turns one
round's SSE payloads into the deltas the caller sees, :func:`read_round` drives it over a response
body, and :class:`ChatStream` / :class:`AsyncChatStream` carry the deltas and the final result.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from kimi_core.attempts import deadline_error
from kimi_core.endpoint_wire import check_answer
from kimi_core.endpoints import EndpointProfile
from kimi_core.errors import (
    APIConnectionError,
    APITimeoutError,
    IncompleteStreamError,
    KimiError,
    MalformedResponseError,
    request_id_of,
)
from kimi_core.messages import is_builtin_name
from kimi_core.sse import DONE, aiter_sse_batches, iter_sse_batches
from kimi_core.stream import StreamAccumulator, StreamDelta, ToolCallChunk, coalesce_deltas
from kimi_core.web_search import WebSearchLoop

if TYPE_CHECKING:
    import httpx2

    from kimi_core.response import ChatResult

__all__ = [
    "AsyncChatStream",
    "ChatStream",
    "StreamRound",
    "aread_round",
    "decode_payload",
    "read_round",
]

_raw_decode = json.JSONDecoder().raw_decode


def decode_payload(payload: bytes) -> Any:
    """One SSE ``data:`` payload as JSON.

    Raises:
        MalformedResponseError: The payload is not JSON (or nests past the parser's budget).
    """
    # Fast path for the common case: SSE is UTF-8 and payloads arrive stripped, so decoding the
    # text directly skips json.loads' encoding detection and trailing-whitespace scan. Anything
    # else (a BOM, trailing data, bad JSON) takes json.loads' own path and gets its own verdict.
    try:
        text = payload.decode("utf-8", "surrogatepass")
        value, end = _raw_decode(text)
        if end == len(text):
            return value
    except (ValueError, RecursionError):
        pass
    try:
        return json.loads(payload)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested past JSON's budget
        raise MalformedResponseError(
            f"malformed SSE data line: {payload[:200]!r}", retryable=False
        ) from exc


class StreamRound:
    """One streamed round: parse SSE payloads, hide builtin calls, report usage once at the end.

    Args:
        response: The round's HTTP response (for its request id).
        endpoint: The server kind, for its stream quirks.
    """

    __slots__ = ("acc", "builtin", "delivered", "yielded")

    def __init__(self, response: httpx2.Response, endpoint: EndpointProfile) -> None:
        self.acc = StreamAccumulator(request_id=request_id_of(response.headers), endpoint=endpoint)
        self.builtin: set[int] = set()
        self.delivered = 0
        self.yielded = 0

    @staticmethod
    def checked(tail: list[StreamDelta], endpoint: EndpointProfile) -> list[StreamDelta]:
        """The closing deltas, after the empty-answer check of the final result.

        Outside the retry loop on purpose: the reasoning was already delivered, so the client does
        not resend, but the caller may (the error stays retryable).
        """
        if tail and tail[-1].result is not None:
            check_answer(tail[-1].result, endpoint)
        return tail

    def take(self, payload: bytes) -> StreamDelta | None:
        """What the caller sees of one payload (None: nothing; check ``acc.done`` for the end)."""
        if payload == DONE:
            self.acc.mark_done()
            return None
        if not payload:
            return None
        delta = self.acc.feed(decode_payload(payload))
        self.delivered += 1
        if delta is None:
            return None
        calls = self._client_calls(delta.tool_call_chunks) if delta.tool_call_chunks else ()
        if delta.text is None and delta.reasoning is None and not calls:
            return None
        self.yielded += 1
        if delta.usage is None and delta.finish_reason is None and calls is delta.tool_call_chunks:
            return delta
        # Usage and finish_reason are reported once, summed over rounds, on the final delta.
        return StreamDelta(delta.text, delta.reasoning, calls)

    def take_first(self, payloads: list[bytes]) -> tuple[StreamDelta | None, list[bytes]]:
        """The round's first visible delta, taken from a read without parsing the rest of it.

        Merging a read waits until all of it is parsed (a few ms for a read of hundreds of
        events); the first token goes out at once instead.

        Returns:
            The delta (None if the read holds none) and the payloads not parsed yet.
        """
        for i, payload in enumerate(payloads):
            visible = self.take(payload)
            if visible is not None:
                return visible, payloads[i + 1 :]
            if self.acc.done:
                break
        return None, []

    def take_read(
        self, payloads: list[bytes], coalesce: bool
    ) -> tuple[list[StreamDelta], KimiError | None]:
        """The deltas of one network read (merged when ``coalesce``), and the error that cut it.

        The deltas before an error still reach the caller, as they would one by one.
        """
        deltas: list[StreamDelta] = []
        error = None
        try:
            for payload in payloads:
                visible = self.take(payload)
                if visible is not None:
                    deltas.append(visible)
                elif self.acc.done:
                    break
        except KimiError as exc:
            error = exc
        return (coalesce_deltas(deltas) if coalesce else deltas), error

    def _client_calls(self, chunks: Sequence[ToolCallChunk]) -> Sequence[ToolCallChunk]:
        kept = []
        for chunk in chunks:
            if chunk.type == "builtin_function" or is_builtin_name(chunk.name or ""):
                self.builtin.add(chunk.index)
            if chunk.index not in self.builtin:
                kept.append(chunk)
        return chunks if len(kept) == len(chunks) else kept

    def broken(self, exc: Exception) -> KimiError:
        """The typed error for a transport failure in the middle of this round."""
        import httpx2

        what = f"after {self.delivered} chunks" if self.delivered else "before any chunk"
        cls = APITimeoutError if isinstance(exc, httpx2.TimeoutException) else APIConnectionError
        return cls(
            f"the stream broke {what}: {type(exc).__name__}: {exc}",
            request_id=self.acc.request_id,
        )

    def end(self, loop: WebSearchLoop) -> tuple[list[StreamDelta], bool]:
        """Deltas that close the round, and whether the ``$web_search`` loop asks again."""
        try:
            result = self.acc.result()
        except IncompleteStreamError as error:
            # A round cut before anything reached the caller can safely be asked again.
            error.retryable = not self.yielded
            raise
        if loop.advance(result):
            return [StreamDelta(event=search) for search in loop.new_searches], True
        final = loop.finish(result)
        return [
            StreamDelta(finish_reason=final.finish_reason, usage=final.usage, result=final)
        ], False


def read_round(
    response: httpx2.Response,
    round_: StreamRound,
    coalesce: bool,
    max_line: int,
    until: float | None,
) -> Iterator[StreamDelta]:
    """The visible deltas of one streamed round, up to ``[DONE]`` or the end of the body."""
    chunks = response.iter_bytes() if until is None else _bounded(response.iter_bytes(), until)
    for read in iter_sse_batches(chunks, max_line):
        payloads = read
        if coalesce and not round_.yielded:
            first, payloads = round_.take_first(read)
            if first is not None:
                yield first
        deltas, error = round_.take_read(payloads, coalesce)
        yield from deltas
        if error is not None:
            raise error
        if round_.acc.done:
            return


async def aread_round(
    response: httpx2.Response,
    round_: StreamRound,
    coalesce: bool,
    max_line: int,
    until: float | None,
) -> AsyncGenerator[StreamDelta, None]:
    """Async :func:`read_round`."""
    chunks = response.aiter_bytes() if until is None else _abounded(response.aiter_bytes(), until)
    async for read in aiter_sse_batches(chunks, max_line):
        payloads = read
        if coalesce and not round_.yielded:
            first, payloads = round_.take_first(read)
            if first is not None:
                yield first
        deltas, error = round_.take_read(payloads, coalesce)
        for delta in deltas:
            yield delta
        if error is not None:
            raise error
        if round_.acc.done:
            return


def _bounded(chunks: Iterator[bytes], until: float) -> Iterator[bytes]:
    """``chunks`` up to the deadline, checked once per network read."""
    for chunk in chunks:
        if time.monotonic() > until:
            raise deadline_error("while the response was being read")
        yield chunk


async def _abounded(chunks: AsyncIterator[bytes], until: float) -> AsyncIterator[bytes]:
    """Async :func:`_bounded`; a read waiting past the deadline is cancelled."""
    import asyncio

    while True:
        try:
            async with asyncio.timeout(until - time.monotonic()):
                chunk = await anext(chunks)
        except StopAsyncIteration:
            return
        except TimeoutError as exc:
            raise deadline_error("while the response was being read") from exc
        yield chunk


class ChatStream(Iterator[StreamDelta]):
    """Iterator of :class:`StreamDelta` with the complete :class:`ChatResult` at the end.

    The last delta carries ``finish_reason``, the usage summed over all rounds and ``result``.
    Close it (or use ``with``) to release the connection when stopping early.
    """

    def __init__(self, gen: Iterator[StreamDelta]) -> None:
        self._gen = gen
        self.result: ChatResult | None = None

    def __next__(self) -> StreamDelta:
        delta = next(self._gen)
        if delta.result is not None:
            self.result = delta.result
        return delta

    def __iter__(self) -> ChatStream:
        return self

    def close(self) -> None:
        """Stop reading and release the connection."""
        close = getattr(self._gen, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncChatStream(AsyncIterator[StreamDelta]):
    """Async :class:`ChatStream`."""

    def __init__(self, gen: AsyncIterator[StreamDelta]) -> None:
        self._gen = gen
        self.result: ChatResult | None = None

    async def __anext__(self) -> StreamDelta:
        delta = await self._gen.__anext__()
        if delta.result is not None:
            self.result = delta.result
        return delta

    def __aiter__(self) -> AsyncChatStream:
        return self

    async def aclose(self) -> None:
        """Stop reading and release the connection."""
        aclose = getattr(self._gen, "aclose", None)
        if aclose is not None:
            await aclose()

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
