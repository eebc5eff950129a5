"""Guards for the streaming hot path (issue 6), by behaviour, never by timing.

The accumulator folds text pieces into blocks as they arrive (memory of long reasoning streams)
and takes plain dicts through a fast type test; SSE payloads are decoded through a UTF-8 fast
path. None of these may change what comes out.
"""

from __future__ import annotations

import json
import tracemalloc
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kimi_core import IncompleteStreamError, MalformedResponseError, StreamAccumulator
from kimi_core.chat_stream import decode_payload as _decode


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


# -- SSE payload decoding: a fast path for plain UTF-8, json.loads' verdict for everything else --

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(json_values, st.booleans())
def test_decoding_matches_json_loads(value: object, ascii_only: bool) -> None:
    payload = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    assert _decode(payload) == json.loads(payload)


@pytest.mark.parametrize(
    "payload",
    [
        b'\xef\xbb\xbf{"a": 1}',  # UTF-8 byte-order mark
        '{"a": "\u00e9"}'.encode("utf-16"),
        '{"a": "\u00e9"}'.encode("utf-32"),
        b'{"a": "\\ud800"}',  # an escaped lone surrogate
        b'{"a": "\xf0\x9f\x98\x80"}',  # a character outside the BMP
    ],
)
def test_unusual_but_valid_payloads_decode_like_json_loads(payload: bytes) -> None:
    assert _decode(payload) == json.loads(payload)


@pytest.mark.parametrize(
    "payload", [b'{"a": 1} {"b": 2}', b'{"a": 1}x', b'{"a": ', b"\xff\xfe{", b"", b"nul"]
)
def test_malformed_payloads_still_raise(payload: bytes) -> None:
    with pytest.raises(MalformedResponseError, match="malformed SSE data line"):
        _decode(payload)
