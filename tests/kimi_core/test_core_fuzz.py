"""Fuzz the parsers with arbitrary JSON: they return, or raise a KimiError; nothing else escapes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from kimi_core import KimiError, StreamAccumulator, parse_completion

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False), st.text(max_size=5)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=12,
)
KEYS = [
    "id", "choices", "delta", "message", "content", "reasoning_content", "tool_calls", "index",
    "function", "name", "arguments", "type", "finish_reason", "usage", "prompt_tokens",
    "completion_tokens", "cached_tokens", "prompt_tokens_details", "completion_tokens_details",
    "reasoning_tokens", "error", "logprobs",
]  # fmt: skip
# Protocol-shaped objects: the keys the parsers look at, with arbitrary values.
shaped = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)
    ),
    max_leaves=20,
)


def _maybe(fields: dict) -> st.SearchStrategy:
    # Each field present or absent; present ones take any JSON value or a plausible one.
    return st.fixed_dictionaries({}, optional=fields)


anything = json_values
usage = st.one_of(
    anything,
    _maybe(
        {
            "prompt_tokens": anything,
            "completion_tokens": anything,
            "cached_tokens": anything,
            "prompt_tokens_details": st.one_of(anything, _maybe({"cached_tokens": anything})),
            "completion_tokens_details": st.one_of(
                anything, _maybe({"reasoning_tokens": anything})
            ),
        }
    ),
)
fragment = _maybe(
    {
        "index": st.one_of(anything, st.integers(0, 2)),
        "id": st.one_of(anything, st.sampled_from(["a", "b"])),
        "type": anything,
        "function": st.one_of(anything, _maybe({"name": anything, "arguments": anything})),
    }
)
delta = _maybe(
    {
        "content": anything,
        "reasoning_content": anything,
        "tool_calls": st.one_of(anything, st.lists(fragment, max_size=3)),
    }
)
choice = _maybe(
    {
        "delta": st.one_of(anything, delta),
        "message": st.one_of(anything, delta),
        "finish_reason": st.one_of(anything, st.just("stop")),
        "usage": usage,
        "logprobs": st.one_of(anything, _maybe({"content": anything})),
    }
)
plausible = _maybe(
    {"id": anything, "choices": st.one_of(anything, st.lists(choice, max_size=2)), "usage": usage}
)
chunks = st.one_of(json_values, shaped, plausible)


@settings(max_examples=400, deadline=None)
@given(stream=st.lists(chunks, max_size=6), done=st.booleans())
def test_accumulator_only_raises_kimi_errors(stream, done):
    acc = StreamAccumulator()
    try:
        for chunk in stream:
            acc.feed(chunk)
        if done:
            acc.mark_done()
        result = acc.result()
    except KimiError:
        return
    assert isinstance(result.text, str)
    assert result.reasoning is None or isinstance(result.reasoning, str)
    assert all(isinstance(c.arguments, str) for c in result.tool_calls)


@settings(max_examples=400, deadline=None)
@given(body=chunks)
def test_parse_completion_only_raises_kimi_errors(body):
    try:
        result = parse_completion(body)
    except KimiError:
        return
    assert isinstance(result.text, str)
    assert all(isinstance(c.name, str) for c in result.tool_calls)
