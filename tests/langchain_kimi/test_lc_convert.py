"""LangChain messages -> kimi-core neutral messages (shapes only; kimi-core applies the rules)."""

from __future__ import annotations

import pytest
from kimi_core import ImagePart, Message, TextPart, ToolCall, VideoPart
from langchain_core.messages import (
    AIMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_kimi._convert import to_kimi_message, to_kimi_messages


def test_roles_and_names() -> None:
    converted = to_kimi_messages(
        [
            SystemMessage("sys"),
            HumanMessage("hi", name="alice"),
            ChatMessage(role="developer", content="dev"),
            ChatMessage(role="user", content="u"),
        ]
    )
    assert [(m.role, m.content, m.name) for m in converted] == [
        ("system", "sys", None),
        ("user", "hi", "alice"),
        ("system", "dev", None),
        ("user", "u", None),
    ]


def test_assistant_turn_with_calls_reasoning_and_invalid_calls() -> None:
    message = AIMessage(
        "Let me check.",
        additional_kwargs={"reasoning_content": "think"},
        tool_calls=[{"id": "a:0", "name": "a", "args": {"x": "é"}}],
        invalid_tool_calls=[{"id": "b:1", "name": "b", "args": "{bad", "error": "json"}],
    )
    assert to_kimi_message(message) == Message.assistant(
        "Let me check.",
        reasoning="think",
        tool_calls=[ToolCall("a:0", "a", '{"x": "é"}'), ToolCall("b:1", "b", "{bad")],
    )


def test_additional_kwargs_reasoning_wins_over_blocks() -> None:
    message = AIMessage(
        [{"type": "reasoning", "reasoning": "from blocks"}, {"type": "text", "text": "hi"}],
        additional_kwargs={"reasoning_content": "from kwargs"},
    )
    converted = to_kimi_message(message)
    assert (converted.content, converted.reasoning) == ("hi", "from kwargs")


def test_empty_assistant_text_is_none() -> None:
    converted = to_kimi_message(AIMessage("", tool_calls=[{"id": "c", "name": "f", "args": {}}]))
    assert converted.content is None


def test_tool_messages_keep_text_or_parts() -> None:
    text = to_kimi_message(
        ToolMessage([{"type": "text", "text": "a"}, "b"], tool_call_id="c", name="f")
    )
    assert (text.role, text.content, text.tool_call_id, text.name) == ("tool", "ab", "c", "f")
    media = to_kimi_message(
        ToolMessage(
            [{"type": "video", "url": "ms://file_1"}, {"type": "text", "text": "clip"}],
            tool_call_id="c",
        )
    )
    assert media.content == [VideoPart(url="ms://file_1"), TextPart("clip")]


def test_image_forms() -> None:
    message = HumanMessage(
        [
            {"type": "image", "file_id": "file_9"},
            {"type": "image", "base64": "AAAA", "mime_type": "image/png"},
            {"type": "image_url", "image_url": "data:image/png;base64,AAAA"},
        ]
    )
    assert to_kimi_message(message).content == [
        ImagePart(file_id="file_9"),
        ImagePart(url="data:image/png;base64,AAAA"),
        ImagePart(url="data:image/png;base64,AAAA"),
    ]


@pytest.mark.parametrize(
    ("message", "match"),
    [
        (FunctionMessage("x", name="f"), "Cannot send a FunctionMessage"),
        (ChatMessage(role="critic", content="x"), "role 'critic'"),
        (AIMessage("", tool_calls=[{"id": None, "name": "f", "args": {}}]), "has no id"),
        (AIMessage([{"type": "image", "url": "ms://x"}]), "Unsupported content block type 'image'"),
        (HumanMessage([{"type": "image"}]), "needs one of"),
        (HumanMessage([{"type": "image_url", "image_url": {}}]), "needs"),
    ],
)
def test_unsupported_input_is_explained(message: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        to_kimi_message(message)  # type: ignore[arg-type]
