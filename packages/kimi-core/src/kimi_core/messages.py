"""Neutral message and tool types: what the framework adapters translate their types into.

Slotted dataclasses rather than pydantic models: they are built per message and per chunk on the
hot path, and carry no validation of their own (the request builder validates, with clear errors).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "WEB_SEARCH",
    "BuiltinTool",
    "ContentPart",
    "FunctionTool",
    "ImagePart",
    "Message",
    "Role",
    "TextPart",
    "Tool",
    "ToolCall",
    "VideoPart",
    "is_builtin_name",
]

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(slots=True)
class TextPart:
    """A piece of text in a message's content list."""

    text: str


@dataclass(slots=True)
class ImagePart:
    """An image: exactly one of ``url``, ``data`` (with ``mime_type``) or ``file_id``.

    ``url`` may be a ``data:`` URL, an ``ms://`` reference or an http(s) URL (downloaded and
    inlined by the client's media policy); ``file_id`` is sent as ``ms://<file_id>``.
    """

    url: str | None = None
    data: bytes | None = None
    mime_type: str | None = None
    file_id: str | None = None


@dataclass(slots=True)
class VideoPart:
    """A video, given like :class:`ImagePart`."""

    url: str | None = None
    data: bytes | None = None
    mime_type: str | None = None
    file_id: str | None = None


ContentPart = TextPart | ImagePart | VideoPart


@dataclass(slots=True)
class ToolCall:
    """A call the model made. ``arguments`` is the JSON text exactly as the model emitted it.

    ``type`` is ``"builtin_function"`` for server-side tools such as ``$web_search``.
    """

    id: str
    name: str
    arguments: str
    type: Literal["function", "builtin_function"] = "function"

    @property
    def is_builtin(self) -> bool:
        """True for server-side builtin tools (``$web_search``), which are echoed, not executed."""
        return self.type == "builtin_function" or is_builtin_name(self.name)

    def to_wire(self) -> dict[str, Any]:
        """The call as an assistant message's ``tool_calls`` entry (OpenAI's shape).

        Returns:
            ``{"id", "type", "function": {"name", "arguments"}}``; ``type`` is
            ``"builtin_function"`` for a builtin call, whatever ``type`` says.
        """
        return {
            "id": self.id,
            "type": "builtin_function" if self.is_builtin else "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }

    @classmethod
    def from_wire(cls, record: Any, *, builtin: bool = False) -> ToolCall:
        """A call from a ``tool_calls`` entry, the inverse of :meth:`to_wire`.

        Args:
            record: ``{"id", "type"?, "function": {"name", "arguments"}}``; ``arguments`` may
                also be a JSON object (dumped to text) or missing (``""``).
            builtin: Mark the call as a builtin one whatever its ``type`` says.

        Returns:
            The call; a missing id is ``""`` (the request builder refuses it with the fix).

        Raises:
            ValueError: ``record`` does not have that shape.
        """
        function = record.get("function") if isinstance(record, Mapping) else None
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            raise ValueError(f"a tool call has no function name: {record!r}")
        name: str = function["name"]
        arguments = function.get("arguments")
        if isinstance(arguments, Mapping):
            arguments = json.dumps(arguments, ensure_ascii=False)
        call_id = record.get("id")
        for what, value in (("id", call_id), ("arguments", arguments)):
            if not isinstance(value, str | None):
                raise ValueError(f"a tool call's {what} is a {type(value).__name__}, not text")
        kind: Literal["function", "builtin_function"] = (
            "builtin_function"
            if builtin or record.get("type") == "builtin_function"
            else "function"
        )
        return cls(id=call_id or "", name=name, arguments=arguments or "", type=kind)


def is_builtin_name(name: str) -> bool:
    """Whether a tool name is a server-side builtin's (Moonshot's names start with ``$``)."""
    return name.startswith("$")


@dataclass(slots=True)
class Message:
    """One message of a conversation, independent of any framework.

    Attributes:
        role: ``system``, ``user``, ``assistant`` or ``tool``.
        content: Text, a list of parts, or None (an assistant turn with only tool calls).
        reasoning: The assistant's ``reasoning_content`` for this turn, when known.
        tool_calls: Calls made by an assistant turn.
        tool_call_id: For a tool message: the call it answers.
        name: Speaker name (partial mode role-play) or, on a tool message, the tool's name.
        partial: Marks the last assistant message as a prefix the model continues (partial mode).
        tools: On a system message without content: tools that apply from this point on (K3
            dynamic tool loading): :class:`FunctionTool` objects or OpenAI-style tool dicts.
    """

    role: Role
    content: str | list[ContentPart] | None = None
    reasoning: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None
    partial: bool = False
    tools: list[Tool | Mapping[str, Any]] = field(default_factory=list)

    @classmethod
    def system(cls, content: str | list[ContentPart]) -> Message:
        """A system message."""
        return cls("system", content)

    @classmethod
    def system_tools(cls, tools: Sequence[Tool | Mapping[str, Any]]) -> Message:
        """A system message that loads tools mid-conversation (K3 dynamic tools).

        The tools apply from this message on and are declared like request tools (same checks;
        names unique across both). Keep the message in later history.
        """
        return cls("system", None, tools=list(tools))

    @classmethod
    def user(cls, content: str | list[ContentPart]) -> Message:
        """A user message."""
        return cls("user", content)

    @classmethod
    def assistant(
        cls,
        content: str | list[ContentPart] | None = None,
        *,
        reasoning: str | None = None,
        tool_calls: Sequence[ToolCall] = (),
        partial: bool = False,
        name: str | None = None,
    ) -> Message:
        """An assistant message (a past answer, or with ``partial=True`` a prefix to continue)."""
        return cls(
            "assistant",
            content,
            reasoning=reasoning,
            tool_calls=list(tool_calls),
            partial=partial,
            name=name,
        )

    @classmethod
    def tool(
        cls, tool_call_id: str, content: str | list[ContentPart], *, name: str | None = None
    ) -> Message:
        """The result of a tool call."""
        return cls("tool", content, tool_call_id=tool_call_id, name=name)


@dataclass(slots=True)
class FunctionTool:
    """A client-side function the model may call. ``parameters`` is a JSON Schema object."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


@dataclass(frozen=True, slots=True)
class BuiltinTool:
    """A server-side Kimi tool, declared as ``{"type": "builtin_function"}``."""

    name: str = "$web_search"


Tool = FunctionTool | BuiltinTool

WEB_SEARCH = BuiltinTool("$web_search")
"""The builtin web search tool; kimi-core's client runs its echo loop for you."""
