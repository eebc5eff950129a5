"""One tool-call wire rule: ``ToolCall.to_wire`` / ``from_wire`` and ``is_builtin_name``."""

from __future__ import annotations

import pytest
from kimi_core import ToolCall, is_builtin_name


def test_round_trip() -> None:
    call = ToolCall(id="call_1", name="add", arguments='{"a": 1}')
    wire = call.to_wire()
    assert wire == {
        "id": "call_1",
        "type": "function",
        "function": {"name": "add", "arguments": '{"a": 1}'},
    }
    assert ToolCall.from_wire(wire) == call


def test_a_dollar_name_is_a_builtin_call_whatever_its_type() -> None:
    assert is_builtin_name("$web_search")
    assert not is_builtin_name("web_search")
    call = ToolCall(id="c", name="$web_search", arguments="{}")
    assert call.is_builtin
    assert call.to_wire()["type"] == "builtin_function"
    assert ToolCall.from_wire(call.to_wire()).type == "builtin_function"
    assert ToolCall.from_wire({"id": "c", "function": {"name": "x"}}, builtin=True).is_builtin


def test_lenient_fields_and_refused_shapes() -> None:
    call = ToolCall.from_wire({"function": {"name": "add", "arguments": {"a": 1}}})
    assert (call.id, call.arguments) == ("", '{"a": 1}')
    for bad in [None, {"id": "c"}, {"function": {"arguments": "{}"}}, {"function": "add"}]:
        with pytest.raises(ValueError, match="no function name"):
            ToolCall.from_wire(bad)
    with pytest.raises(ValueError, match="id is a int, not text"):
        ToolCall.from_wire({"id": 7, "function": {"name": "add"}})
    with pytest.raises(ValueError, match="arguments is a list, not text"):
        ToolCall.from_wire({"id": "c", "function": {"name": "add", "arguments": [1]}})
