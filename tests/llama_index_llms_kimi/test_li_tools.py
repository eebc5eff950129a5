"""Function calling: tool declaration, tool_choice, streamed/partial/parallel tool calls."""

from __future__ import annotations

import pytest
from kimi_emulator import Reply, ScriptedToolCall
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, ToolCallBlock
from llama_index.core.tools import FunctionTool
from llama_index.llms.kimi import Kimi


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


TOOLS = [FunctionTool.from_defaults(fn=add), FunctionTool.from_defaults(fn=multiply)]


def test_prepare_chat_with_tools_never_mutates_the_callers_history(llm) -> None:
    history = [ChatMessage(role="user", content="earlier")]
    kwargs = llm._prepare_chat_with_tools(TOOLS, user_msg="now", chat_history=history)
    assert len(history) == 1
    assert [m.content for m in kwargs["messages"]] == ["earlier", "now"]
    assert kwargs["messages"] is not history


def test_tools_are_declared_with_their_own_names_and_mfjs_schemas(llm, kimi_emulator) -> None:
    llm.chat_with_tools(TOOLS, user_msg="What is 2 plus 3? use add")
    tools = kimi_emulator.chat_requests[0]["tools"]
    assert [t["function"]["name"] for t in tools] == ["add", "multiply"]
    params = tools[0]["function"]["parameters"]
    assert params["type"] == "object"
    assert params["properties"]["a"]["type"] == "integer"
    assert params["required"] == ["a", "b"]
    assert tools[0]["function"]["description"].endswith("Add two integers.")
    assert "tool_choice" not in kimi_emulator.chat_requests[0]


def test_invalid_tool_name_is_a_clear_error_before_sending(llm, kimi_emulator) -> None:
    bad = FunctionTool.from_defaults(fn=add, name="add numbers")
    with pytest.raises(ValueError, match="invalid function name 'add numbers'"):
        llm.chat_with_tools([bad], user_msg="hi")
    assert kimi_emulator.chat_requests == []


def test_tool_required_follows_kimi_cores_thinking_rules(make_llm, kimi_emulator) -> None:
    make_llm(thinking=False).chat_with_tools(TOOLS, user_msg="add 1 and 2", tool_required=True)
    make_llm().chat_with_tools(TOOLS, user_msg="add 1 and 2", tool_required=True)
    plain, thinking = kimi_emulator.chat_requests
    assert plain["tool_choice"] == "required"
    # kimi-k2.6 rejects a forced choice while thinking: kimi-core downgrades it to auto.
    assert thinking["tool_choice"] == "auto"


def test_named_tool_choice(make_llm, kimi_emulator) -> None:
    response = make_llm(thinking=False).chat_with_tools(
        TOOLS, user_msg="numbers 4 and 5", tool_choice="multiply"
    )
    assert kimi_emulator.chat_requests[0]["tool_choice"] == {
        "type": "function",
        "function": {"name": "multiply"},
    }
    (call,) = make_llm().get_tool_calls_from_response(response)
    assert call.tool_name == "multiply"
    assert call.tool_kwargs == {"a": 4, "b": 5}


def test_parallel_calls_and_single_call_when_not_allowed(llm, kimi_emulator) -> None:
    two_calls = Reply(
        reasoning="Both at once.",
        tool_calls=[
            ScriptedToolCall(name="add", arguments={"a": 1, "b": 2}, id="call_add"),
            ScriptedToolCall(name="multiply", arguments={"a": 3, "b": 4}, id="call_mul"),
        ],
    )
    kimi_emulator.script(two_calls)
    both = llm.chat_with_tools(TOOLS, user_msg="go", allow_parallel_tool_calls=True)
    calls = llm.get_tool_calls_from_response(both)
    assert [(c.tool_id, c.tool_name, c.tool_kwargs) for c in calls] == [
        ("call_add", "add", {"a": 1, "b": 2}),
        ("call_mul", "multiply", {"a": 3, "b": 4}),
    ]
    kimi_emulator.script(two_calls)
    one = llm.chat_with_tools(TOOLS, user_msg="go", allow_parallel_tool_calls=False)
    assert [c.tool_name for c in llm.get_tool_calls_from_response(one)] == ["add"]


def test_predict_and_call_runs_the_tool(llm, kimi_emulator) -> None:
    kimi_emulator.script(
        Reply(tool_calls=[ScriptedToolCall(name="add", arguments={"a": 20, "b": 22})])
    )
    output = llm.predict_and_call(TOOLS, user_msg="add 20 and 22")
    assert output.response == "42"


def test_every_streamed_chunk_yields_parseable_tool_calls(llm, kimi_emulator) -> None:
    kimi_emulator.script(
        Reply(
            reasoning="Adding.",
            tool_calls=[ScriptedToolCall(name="add", arguments={"a": 123, "b": 456}, id="call_9")],
            chunk_size=3,
        )
    )
    responses = list(llm.stream_chat_with_tools(TOOLS, user_msg="add"))
    partial = []
    for response in responses:
        for call in llm.get_tool_calls_from_response(response, error_on_no_tool_call=False):
            assert isinstance(call.tool_kwargs, dict)
            partial.append(call.tool_kwargs)
    assert len(partial) > 3  # arguments arrived in several pieces
    (final,) = llm.get_tool_calls_from_response(responses[-1])
    assert (final.tool_id, final.tool_name, final.tool_kwargs) == (
        "call_9",
        "add",
        {"a": 123, "b": 456},
    )
    assert responses[-1].message.blocks[0].content == "Adding."


@pytest.mark.parametrize(
    ("recording", "expected"),
    [
        (
            "moonshotai-stream-tool-calls.chunks.txt",
            [
                ("call-weather", "get_weather", {"city": "Paris"}),
                ("call-time", "get_time", {"zone": "UTC"}),
            ],
        ),
        (
            "moonshotai-stream-indexless-tool-calls.chunks.txt",
            [
                ("weather_0", "weather", {"location": "San Francisco"}),
                ("time_1", "time", {"zone": "UTC"}),
            ],
        ),
    ],
)
def test_recorded_streams_with_several_calls_per_chunk(replay, recording, expected) -> None:
    replay.serve_recording(recording)
    llm = Kimi(api_key="sk-replay", base_url=replay.base_url, model="kimi-k3", max_retries=0)
    tools = [
        FunctionTool.from_defaults(fn=lambda city: city, name="get_weather"),
        FunctionTool.from_defaults(fn=lambda zone: zone, name="get_time"),
    ]
    responses = list(llm.stream_chat_with_tools(tools, user_msg="weather and time"))
    for response in responses:
        llm.get_tool_calls_from_response(response, error_on_no_tool_call=False)
    calls = llm.get_tool_calls_from_response(responses[-1])
    assert [(c.tool_id, c.tool_name, c.tool_kwargs) for c in calls] == expected
    assert responses[-1].additional_kwargs["total_tokens"] > 0


def test_partial_and_invalid_json_arguments_are_tolerated(llm) -> None:
    response = ChatResponse(
        message=ChatMessage(
            role="assistant",
            blocks=[
                ToolCallBlock(tool_call_id="1", tool_name="add", tool_kwargs='{"a": 1, "b'),
                ToolCallBlock(tool_call_id="2", tool_name="add", tool_kwargs=""),
                ToolCallBlock(tool_call_id="3", tool_name="add", tool_kwargs="[1, 2]"),
            ],
        )
    )
    calls = llm.get_tool_calls_from_response(response)
    assert [c.tool_kwargs for c in calls] == [{"a": 1}, {}, {}]


def test_no_tool_call_raises_only_when_asked(llm) -> None:
    response = ChatResponse(message=ChatMessage(role="assistant", content="hi"))
    assert llm.get_tool_calls_from_response(response, error_on_no_tool_call=False) == []
    with pytest.raises(ValueError, match="tool call"):
        llm.get_tool_calls_from_response(response)


@pytest.mark.parametrize("stream", [False, True])
def test_invalid_json_in_a_finished_answer_is_not_guessed(llm, kimi_emulator, stream) -> None:
    truncated = '{"a": 12, "b": 3'
    kimi_emulator.script(
        Reply(tool_calls=[ScriptedToolCall(name="add", arguments=truncated, id="c1")], chunk_size=4)
    )
    if stream:
        responses = list(llm.stream_chat_with_tools(TOOLS, user_msg="add"))
        # While it streams, partial arguments are read leniently...
        partial = [
            llm.get_tool_calls_from_response(r, error_on_no_tool_call=False) for r in responses[:-1]
        ]
        assert {"a": 12} in [calls[0].tool_kwargs for calls in partial if calls]
        final = responses[-1]
    else:
        final = llm.chat_with_tools(TOOLS, user_msg="add")
    # ...but the finished answer's invalid JSON is kept raw, not completed by guessing.
    (block,) = [b for b in final.message.blocks if isinstance(b, ToolCallBlock)]
    assert block.tool_kwargs == truncated
    (call,) = llm.get_tool_calls_from_response(final)
    assert call.tool_kwargs == {}
