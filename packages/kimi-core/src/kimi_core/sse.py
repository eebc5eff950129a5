"""Split a server-sent-events byte stream into ``data:`` payloads, without decoding to text."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator

__all__ = ["DONE", "aiter_sse_batches", "iter_sse_batches"]

DONE = b"[DONE]"


def _payloads(buffer: bytes) -> tuple[list[bytes], bytes]:
    lines = buffer.split(b"\n")
    rest = lines.pop()
    out = []
    for line in lines:
        if line.startswith(b"data:"):
            out.append(line[5:].strip())
    return out, rest


def iter_sse_batches(chunks: Iterable[bytes]) -> Iterator[list[bytes]]:
    """The payload of every ``data:`` line, one list per network read (other fields are skipped).

    Each list holds the payloads that read completed. Reads are split as they arrive, so nothing
    waits for more bytes than one line needs, and a consumer can handle what arrived as one unit.
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
