"""Split a server-sent-events byte stream into ``data:`` payloads, without decoding to text."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator

__all__ = ["DONE", "aiter_sse_batches", "aiter_sse_data", "iter_sse_batches", "iter_sse_data"]

DONE = b"[DONE]"


def _payloads(buffer: bytes) -> tuple[list[bytes], bytes]:
    lines = buffer.split(b"\n")
    rest = lines.pop()
    out = []
    for line in lines:
        if line.startswith(b"data:"):
            out.append(line[5:].strip())
    return out, rest


def iter_sse_data(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Yield the payload of every ``data:`` line (other SSE fields and comments are skipped).

    Each network read is split as it arrives, so nothing waits for more bytes than one line needs.
    """
    rest = b""
    for chunk in chunks:
        payloads, rest = _payloads(rest + chunk if rest else chunk)
        yield from payloads
    if rest.startswith(b"data:"):
        yield rest[5:].strip()


async def aiter_sse_data(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """Async :func:`iter_sse_data`."""
    rest = b""
    async for chunk in chunks:
        payloads, rest = _payloads(rest + chunk if rest else chunk)
        for payload in payloads:
            yield payload
    if rest.startswith(b"data:"):
        yield rest[5:].strip()


def iter_sse_batches(chunks: Iterable[bytes]) -> Iterator[list[bytes]]:
    """Like :func:`iter_sse_data`, but the payloads completed by one network read come together.

    A consumer can handle what already arrived as one unit without waiting for anything more.
    """
    rest = b""
    for chunk in chunks:
        payloads, rest = _payloads(rest + chunk if rest else chunk)
        if payloads:
            yield payloads
    if rest.startswith(b"data:"):
        yield [rest[5:].strip()]


async def aiter_sse_batches(chunks: AsyncIterable[bytes]) -> AsyncIterator[list[bytes]]:
    """Async :func:`iter_sse_batches`."""
    rest = b""
    async for chunk in chunks:
        payloads, rest = _payloads(rest + chunk if rest else chunk)
        if payloads:
            yield payloads
    if rest.startswith(b"data:"):
        yield [rest[5:].strip()]
