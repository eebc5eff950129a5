"""Guards for the stream accumulator's hot path (issue 6), by behaviour, never by timing.

The accumulator folds text pieces into blocks as they arrive (memory of long reasoning streams)
and takes plain dicts through a fast type test; neither may change what comes out.
"""

from __future__ import annotations

import tracemalloc
from types import MappingProxyType

import pytest
from kimi_core import IncompleteStreamError, MalformedResponseError, StreamAccumulator


def _chunk(**delta: object) -> dict[str, object]:
    return {
        "id": "chatcmpl-1",
        "model": "kimi-k2.6",
        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
    }


def _finish() -> dict[str, object]:
    return {
        "id": "chatcmpl-1",
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
    }


@pytest.mark.parametrize("count", [1, 255, 256, 257, 1000, 2049])
def test_pieces_across_fold_boundaries_come_back_in_order(count: int) -> None:
    acc = StreamAccumulator()
    thoughts = [f"r{i};" for i in range(count)]
    words = [f"w{i} " for i in range(count)]
    for thought in thoughts:
        acc.feed(_chunk(reasoning_content=thought))
    for word in words:
        assert acc.feed(_chunk(content=word)).text == word  # type: ignore[union-attr]
    acc.feed(_finish())
    acc.mark_done()
    result = acc.result()
    assert result.reasoning == "".join(thoughts)
    assert result.text == "".join(words)


def test_incomplete_stream_counts_every_character_received() -> None:
    acc = StreamAccumulator()
    for _ in range(700):  # spans two folds and a partial block
        acc.feed(_chunk(content="abc"))
    with pytest.raises(IncompleteStreamError, match="after 2100 characters"):
        acc.result()


def test_any_mapping_is_still_a_chunk_and_a_list_is_not() -> None:
    acc = StreamAccumulator()
    inner = MappingProxyType({"delta": MappingProxyType({"content": "x"})})
    delta = acc.feed(MappingProxyType({"id": "c", "choices": [inner]}))
    assert delta is not None
    assert delta.text == "x"
    with pytest.raises(MalformedResponseError, match="not a JSON object"):
        acc.feed(["not", "an", "object"])  # type: ignore[arg-type]
    with pytest.raises(MalformedResponseError, match="delta is not an object"):
        acc.feed({"id": "c", "choices": [{"delta": ["x"]}]})


def test_a_long_stream_does_not_keep_one_object_per_piece() -> None:
    acc = StreamAccumulator()
    pieces = 20_000
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for i in range(pieces):
            # Fresh 4-character strings, as json.loads makes them; the caller drops each delta.
            acc.feed(_chunk(reasoning_content=f"{i % 10}abc"))
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    text_bytes = 4 * pieces
    # One str object per piece would hold about 53 bytes each (over 1 MB here); folded blocks
    # hold little more than the text itself.
    assert held - before < 3 * text_bytes
