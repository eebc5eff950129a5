"""LangChain tools -> Kimi tool declarations: one converter for bind_tools and dynamic tools."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from langchain_core.utils.function_calling import convert_to_openai_tool

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

__all__ = ["WEB_SEARCH_WIRE", "tool_to_wire"]

# Shorthand accepted for Kimi's builtin web search (LangChain's own spelling).
_WEB_SEARCH_SHORTHAND = {"type": "web_search"}
WEB_SEARCH_WIRE = {"type": "builtin_function", "function": {"name": "$web_search"}}


def tool_to_wire(
    tool: Mapping[str, Any] | type | Callable[..., Any] | BaseTool, strict: bool | None
) -> dict[str, Any]:
    """One tool as an OpenAI-style declaration (builtin web search as Kimi's wire dict).

    Args:
        tool: A pydantic model, function, `BaseTool`, OpenAI-style dict, `{"type": "web_search"}`
            or the `builtin_function` wire dict.
        strict: Ask the server to validate arguments against the schema (None: Kimi's default).

    Returns:
        The declaration; kimi-core normalizes its schema and checks its name when sending.
    """
    if isinstance(tool, Mapping):
        if dict(tool) == _WEB_SEARCH_SHORTHAND:
            return dict(WEB_SEARCH_WIRE)
        if tool.get("type") == "builtin_function":
            return dict(tool)
    return dict(convert_to_openai_tool(tool, strict=strict))
