"""Malformed server output in a stream: a typed error naming the problem, never a deep crash."""

from __future__ import annotations

import pytest
from kimi_core import MalformedResponseError, StreamAccumulator


def _choice(**fields) -> dict:
    return {"choices": [{"index": 0, **fields}]}


@pytest.mark.parametrize(
    ("chunk", "message"),
    [
        ("not an object", "not a JSON object"),
        ({"choices": "nope"}, "choices is not a list"),
        ({"choices": [None]}, "choices is not a list of objects"),
        (_choice(delta=["x"]), "delta is not an object"),
        (_choice(delta={"content": 5}), "delta.content is a int"),
        (_choice(delta={"reasoning_content": {"a": 1}}), "delta.reasoning_content is a dict"),
        (_choice(delta={}, finish_reason=["stop"]), "finish_reason is a list"),
        (_choice(delta={"tool_calls": {"id": "x"}}), "tool_calls is not a list"),
        (_choice(delta={"tool_calls": ["x"]}), "fragment is not an object"),
        (_choice(delta={"tool_calls": [{"index": 0, "function": "f"}]}), "function is not"),
        (_choice(delta={"tool_calls": [{"index": -1}]}), "invalid index -1"),
        (_choice(delta={"tool_calls": [{"index": True}]}), "invalid index True"),
        (
            _choice(delta={"tool_calls": [{"index": 0, "function": {"name": 7}}]}),
            "function.name is a int",
        ),
        (
            _choice(delta={"tool_calls": [{"index": 0, "function": {"arguments": {"a": 1}}}]}),
            "arguments is a dict",
        ),
        (_choice(delta={"tool_calls": [{"index": 0, "id": 3}]}), "tool-call id is a int"),
    ],
)
def test_malformed_chunks_raise_typed_errors(chunk, message):
    with pytest.raises(MalformedResponseError, match=message) as info:
        StreamAccumulator().feed(chunk)
    assert not info.value.retryable


def test_tool_call_without_a_name_is_malformed():
    acc = StreamAccumulator()
    acc.feed(_choice(delta={"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}))
    acc.feed(_choice(delta={}, finish_reason="tool_calls"))
    acc.mark_done()
    with pytest.raises(MalformedResponseError, match="never got a name"):
        acc.result()


def test_unknown_finish_reason_and_empty_events_pass_through():
    acc = StreamAccumulator()
    assert acc.feed({"id": "x", "choices": []}) is None
    assert acc.feed(_choice(delta={"reasoning_content": ""})) is None
    delta = acc.feed(_choice(delta={"content": "hi"}, finish_reason="weird_new_reason"))
    assert delta is not None
    assert delta.finish_reason == "weird_new_reason"
    acc.mark_done()
    assert acc.result().finish_reason == "weird_new_reason"


def test_new_indexless_call_does_not_clobber_a_finished_one():
    acc = StreamAccumulator()
    start = {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    acc.feed(_choice(delta={"tool_calls": [start]}))
    second = {"id": "b", "type": "function", "function": {"name": "g", "arguments": ""}}
    acc.feed(_choice(delta={"tool_calls": [second]}))
    acc.feed(_choice(delta={"tool_calls": [{"function": {"arguments": '{"x":1}'}}]}))
    acc.feed(_choice(delta={}, finish_reason="tool_calls"))
    acc.mark_done()
    calls = acc.result().tool_calls
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("a", "f", "{}"),
        ("b", "g", '{"x":1}'),
    ]


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"role": "assistant", "content": ["x"]}, "message.content is a list"),
        ({"role": "assistant", "content": "x", "reasoning_content": 1}, "reasoning_content is a"),
        (
            {"role": "assistant", "tool_calls": [{"id": "c", "function": {"arguments": "{}"}}]},
            "has no function name",
        ),
        (
            {
                "role": "assistant",
                "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": 3}}],
            },
            "arguments is a int",
        ),
    ],
)
def test_malformed_completions_raise_typed_errors(message, error):
    from kimi_core import parse_completion

    body = {"id": "x", "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
    with pytest.raises(MalformedResponseError, match=error):
        parse_completion(body)
    with pytest.raises(MalformedResponseError, match="no choices"):
        parse_completion({"id": "x", "choices": []})
