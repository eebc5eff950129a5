"""K3 dynamic tool loading: a `SystemMessage` that declares tools mid-conversation.

Kimi K3-family models accept tools on a system message, in any position; they apply from that
message on, and their names share one namespace with the tools bound with `bind_tools`. ChatKimi
reads them from `SystemMessage.additional_kwargs["tools"]` (the key :data:`DYNAMIC_TOOLS_KEY`),
converting each with the same converter as `bind_tools`; the message carries no text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.messages import SystemMessage

from langchain_kimi._tool_format import tool_to_wire

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

__all__ = ["DYNAMIC_TOOLS_KEY", "system_tools_message"]

DYNAMIC_TOOLS_KEY = "tools"
"""The `SystemMessage.additional_kwargs` key whose tools ChatKimi loads mid-conversation."""


def system_tools_message(
    tools: Sequence[Mapping[str, Any] | type | Callable[..., Any] | BaseTool],
    *,
    strict: bool | None = None,
) -> SystemMessage:
    """A `SystemMessage` that loads tools from this point of the conversation on (K3).

    The tools are stored as OpenAI-style dicts, so the message serializes (checkpoints, LangSmith)
    like any other. Keep it in the history after it: the model's later calls refer to its tools.

    Args:
        tools: Pydantic models, functions, `BaseTool`s or OpenAI-style tool dicts, as for
            `ChatKimi.bind_tools`.
        strict: Ask the server to validate arguments against the schemas (Kimi's default).

    Returns:
        A system message with empty content and the declarations in
        `additional_kwargs["tools"]`.

    Example:
        ```python
        history.append(system_tools_message([get_weather]))
        reply = ChatKimi(model="kimi-k3").invoke(history)
        ```
    """
    if isinstance(tools, str | bytes | Mapping) or not isinstance(tools, Sequence):
        msg = f"system_tools_message takes a list of tools, got {type(tools).__name__}."
        raise TypeError(msg)
    return SystemMessage(
        content="", additional_kwargs={DYNAMIC_TOOLS_KEY: [tool_to_wire(t, strict) for t in tools]}
    )
