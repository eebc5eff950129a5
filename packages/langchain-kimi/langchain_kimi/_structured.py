"""Structured output by function calling: no tool call is an error, never a silent `None`."""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, BaseMessage

__all__ = ["require_tool_call"]


def require_tool_call(name: str) -> Callable[[BaseMessage], BaseMessage]:
    """A step that passes a message on only if it calls a tool.

    Args:
        name: The schema's tool name, for the message.

    Returns:
        The step; it raises `OutputParserException` naming the cause and the fix when the
        model answered without calling the tool (with `include_raw=True` the exception is
        returned as `parsing_error`).
    """

    def check(message: BaseMessage) -> BaseMessage:
        if not isinstance(message, AIMessage) or message.tool_calls or message.invalid_tool_calls:
            # Invalid calls reach the tools parser, which explains what did not parse.
            return message
        model = message.response_metadata.get("model_name", "the model")
        downgrade = [
            note
            for note in message.response_metadata.get("adjustments") or ()
            if "tool_choice" in note
        ]
        cause = f" It could not be forced to: {downgrade[0]}" if downgrade else ""
        msg = (
            f"with_structured_output(method='function_calling'): {model} answered in text "
            f"instead of calling the {name!r} tool, so there is nothing to parse.{cause} Use "
            "method='json_schema' (the default), which constrains the answer itself, or "
            "thinking=False so the tool call can be forced."
        )
        raise OutputParserException(msg, llm_output=message.text)

    return check
