"""Split a server-sent-events byte stream into ``data:`` payloads, without decoding to text."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator

from kimi_core.errors import ResponseTooLargeError

__all__ = ["DEFAULT_MAX_LINE", "DONE", "aiter_sse_batches", "iter_sse_batches"]

DONE = b"[DONE]"
DEFAULT_MAX_LINE = 16 * 1024 * 1024
"""Bytes one SSE line may take. A chunk carries one delta (bytes to a few KiB; the largest recorded
is a tool call's arguments in one piece); 16 MiB is thousands of times that, and still bounds what a
server that never sends a newline can make the client hold."""


class _Splitter:
    """Cuts reads into lines.

    An unfinished line is kept as a list of reads and joined once, when its newline arrives, so
    assembling a line costs its size (re-joining it on every read cost the square of it); its size
    is checked on every read that extends it.
    """

    __slots__ = ("limit", "pieces", "size")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.pieces: list[bytes] = []
        self.size = 0

    def payloads(self, chunk: bytes) -> list[bytes]:
        lines = chunk.split(b"\n")
        pieces = self.pieces
        if len(lines) == 1:  # no newline: the line goes on
            pieces.append(chunk)
            self.size += len(chunk)
            if self.size > self.limit:
                raise self.too_long()
            return []
        if pieces:
            if len(pieces) == 1:  # the common case: the previous read ended mid-line
                lines[0] = pieces[0] + lines[0]
            else:
                pieces.append(lines[0])
                lines[0] = b"".join(pieces)
            if len(lines[0]) > self.limit:
                raise self.too_long()
        rest = lines.pop()
        self.pieces = [rest] if rest else []
        self.size = len(rest)
        if self.size > self.limit:
            raise self.too_long()
        return [line[5:].strip() for line in lines if line.startswith(b"data:")]

    def tail(self) -> list[bytes]:
        """The payload of a last line the stream did not end with a newline."""
        line = b"".join(self.pieces)
        return [line[5:].strip()] if line.startswith(b"data:") else []

    def too_long(self) -> ResponseTooLargeError:
        return ResponseTooLargeError(
            f"a server-sent-events line exceeded {self.limit} bytes without ending; the "
            "stream was closed. Raise KimiClient(max_sse_line_bytes=...) if the server "
            "really sends lines this long."
        )


def iter_sse_batches(
    chunks: Iterable[bytes], max_line: int = DEFAULT_MAX_LINE
) -> Iterator[list[bytes]]:
    """The payload of every ``data:`` line, one list per network read (other fields are skipped).

    Each list holds the payloads that read completed. Reads are split as they arrive, so nothing
    waits for more bytes than one line needs, and a consumer can handle what arrived as one unit.

    Raises:
        ResponseTooLargeError: A line grew past ``max_line`` bytes.
    """
    splitter = _Splitter(max_line)
    for chunk in chunks:
        payloads = splitter.payloads(chunk)
        if payloads:
            yield payloads
    if last := splitter.tail():
        yield last


async def aiter_sse_batches(
    chunks: AsyncIterable[bytes], max_line: int = DEFAULT_MAX_LINE
) -> AsyncIterator[list[bytes]]:
    """Async :func:`iter_sse_batches`."""
    splitter = _Splitter(max_line)
    async for chunk in chunks:
        payloads = splitter.payloads(chunk)
        if payloads:
            yield payloads
    if last := splitter.tail():
        yield last
