"""K3 dynamic tool loading: a system ``ChatMessage`` that declares tools mid-conversation.

Kimi K3-family models accept tools on a system message, in any position; they apply from that
message on, and their names share one namespace with the request's tools. ``Kimi`` reads them
from a system message's ``additional_kwargs["tools"]``: LlamaIndex tools (converted as for tool
calling), kimi-core ``FunctionTool`` objects or OpenAI-style dicts. The message carries no text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kimi_core import tools_to_wire
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.llms.kimi._convert import DYNAMIC_TOOLS_KEY, dynamic_tools

__all__ = ["DYNAMIC_TOOLS_KEY", "system_tools_message"]


def system_tools_message(tools: Sequence[Any], *, strict: bool | None = None) -> ChatMessage:
    """A system ``ChatMessage`` that loads tools from this point of the conversation on (K3).

    The tools are stored as Kimi wire dicts (checked and normalized now, as for a request), so
    the message serializes with the chat history. Keep it in the history after it.

    Args:
        tools: LlamaIndex tools, kimi-core ``FunctionTool`` objects or OpenAI-style tool dicts.
        strict: For LlamaIndex tools: ask the server to validate arguments (Kimi's default).

    Returns:
        A system message with no text and the declarations in ``additional_kwargs["tools"]``.

    Raises:
        ValueError: An invalid tool name or schema, or a name given twice.
    """
    if isinstance(tools, str | bytes | dict) or not isinstance(tools, Sequence):
        raise TypeError(f"system_tools_message takes a list of tools, got {type(tools).__name__}.")
    wire, _ = tools_to_wire(dynamic_tools(tools, strict=strict))
    return ChatMessage(
        role=MessageRole.SYSTEM, content=None, additional_kwargs={DYNAMIC_TOOLS_KEY: wire}
    )
