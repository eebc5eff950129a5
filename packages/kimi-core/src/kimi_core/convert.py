"""Neutral messages and tools → Kimi wire dicts, with every Kimi history rule applied once.

Used by the chat request builder and by the token estimate, so both see the same conversion.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from kimi_core.media import media_part_to_wire
from kimi_core.messages import (
    BuiltinTool,
    ContentPart,
    FunctionTool,
    ImagePart,
    Message,
    TextPart,
    Tool,
    ToolCall,
    VideoPart,
    is_builtin_name,
)
from kimi_core.profiles import ModelProfile
from kimi_core.schema import normalize_schema
from kimi_core.thinking import ThinkingState

__all__ = [
    "FUNCTION_NAME_PATTERN",
    "REASONING_PLACEHOLDER",
    "messages_to_wire",
    "tools_to_wire",
    "unique_tool_names",
]

REASONING_PLACEHOLDER = "(reasoning not available)"
"""Sent as ``reasoning_content`` when the API requires reasoning but the history has none.

A history written by hand or by another model has no reasoning for its assistant turns. With
thinking on, the API rejects assistant tool-call turns without it (and ``""`` counts as missing on
k2.5/k2.6), and with preserved thinking every assistant turn needs it. A short, non-whitespace,
self-describing text is accepted everywhere and tells the model honestly that nothing was kept.
"""

# The Aug-2026 OpenAPI pattern; the older 3..64 character rule is not enforced client-side.
FUNCTION_NAME_PATTERN = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_-]{0,255}$")
_ROLES = ("system", "user", "assistant", "tool")


def _text_of(parts: Sequence[ContentPart], where: str) -> str:
    texts = []
    for j, part in enumerate(parts):
        if not isinstance(part, TextPart):
            raise ValueError(
                f"{where}.content[{j}]: only text parts are allowed here, got "
                f"{type(part).__name__}; media belongs in user (or tool) messages."
            )
        texts.append(_check_text(part.text, f"{where}.content[{j}]"))
    return "".join(texts)


def _check_text(text: object, where: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"{where}: text must be a str, got {type(text).__name__}")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"{where}: text contains a lone surrogate at position {exc.start} (invalid "
                "Unicode, it cannot be sent as UTF-8); fix the decoding that produced it."
            ) from None
    return text


def _parts_to_wire(
    parts: Sequence[ContentPart], profile: ModelProfile, where: str
) -> list[dict[str, Any]]:
    if not parts:
        raise ValueError(f"{where}.content is an empty list; give it text or media parts.")
    out: list[dict[str, Any]] = []
    for j, part in enumerate(parts):
        at = f"{where}.content[{j}]"
        if isinstance(part, TextPart):
            out.append({"type": "text", "text": _check_text(part.text, at)})
        elif isinstance(part, ImagePart):
            if not profile.image_input:
                raise ValueError(f"{at}: {profile.id} does not accept image input.")
            out.append(media_part_to_wire(part, where=at))
        elif isinstance(part, VideoPart):
            if not profile.video_input:
                raise ValueError(f"{at}: {profile.id} does not accept video input.")
            out.append(media_part_to_wire(part, where=at))
        else:
            raise TypeError(
                f"{at}: unsupported content part {type(part).__name__}; use TextPart, ImagePart "
                "or VideoPart."
            )
    return out


def _tool_call_to_wire(call: ToolCall, where: str) -> dict[str, Any]:
    if not isinstance(call, ToolCall):
        raise TypeError(f"{where}: expected ToolCall, got {type(call).__name__}")
    if not isinstance(call.id, str) or not call.id:
        raise ValueError(f"{where}: a tool call needs a non-empty id.")
    if not isinstance(call.name, str) or not call.name:
        raise ValueError(f"{where}: a tool call needs a non-empty name.")
    if not isinstance(call.arguments, str):
        raise TypeError(
            f"{where}: tool call arguments must be the JSON text the model emitted (str), got "
            f"{type(call.arguments).__name__}; use json.dumps(...)."
        )
    _check_text(call.arguments, f"{where}.arguments")
    return call.to_wire()


def messages_to_wire(
    messages: Sequence[Message], profile: ModelProfile, thinking: ThinkingState
) -> list[dict[str, Any]]:
    """Convert a neutral history to wire messages.

    Applies: ``reasoning_content`` on assistant tool-call turns while thinking is on and on every
    assistant turn with preserved thinking (:data:`REASONING_PLACEHOLDER` when missing); ``content``
    omitted on tool-call turns with empty text; ``builtin_function`` calls kept with their echo
    (inserted when the history lacks it) and the tool message ``name``; partial mode only on the
    last assistant message; media checked against the profile.

    Args:
        messages: The history, oldest first.
        profile: The model's profile.
        thinking: The resolved thinking state of this request.

    Returns:
        Wire message dicts.

    Raises:
        ValueError: The history breaks a rule the API enforces (the message says which and where).
        TypeError: A field has the wrong type.
    """
    if isinstance(messages, str | bytes | Mapping) or not isinstance(messages, Sequence):
        raise TypeError("messages must be a sequence of Message objects")
    if not messages:
        raise ValueError("messages is empty; send at least one message.")
    # Pairing is per turn: K3-family serving restarts ids like "functions.get_weather:0" in
    # every assistant message (kimi-api.md 13.2), so an id alone names no call across turns.
    answered = _answered_per_turn(messages)
    calls: dict[str, ToolCall] = {}
    turn = -1
    out: list[dict[str, Any]] = []
    last = len(messages) - 1
    for i, msg in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(msg, Message):
            raise TypeError(f"{where}: expected Message, got {type(msg).__name__}")
        if msg.role not in _ROLES:
            raise ValueError(f"{where}: unknown role {msg.role!r}; use one of {', '.join(_ROLES)}.")
        if msg.tools and msg.role != "system":
            raise ValueError(
                f"{where}: the {msg.role} message carries tools, but only system messages can load "
                "tools (the API answers 400); use Message.system_tools(...) before this message."
            )
        if msg.partial and (msg.role != "assistant" or i != last):
            raise ValueError(
                f"{where}: partial=True is only allowed on the last message, which must be an "
                "assistant message."
            )
        if msg.role == "assistant":
            wire = _assistant(msg, where, profile, thinking)
            out.append(wire)
            calls = {call.id: call for call in msg.tool_calls}
            turn = i
            for call in msg.tool_calls:
                if call.is_builtin and call.id not in answered.get(i, ()):
                    # A builtin call's result is its own arguments; echo it if the history lacks it.
                    out.append(_builtin_echo(call))
        elif msg.role == "tool":
            out.append(_tool(msg, where, profile, calls, turn))
        else:
            out.append(_user_or_system(msg, where, profile))
    return out


def _answered_per_turn(messages: Sequence[Message]) -> dict[int, set[str]]:
    """For each assistant message's index, the call ids the tool messages of its turn answer."""
    answered: dict[int, set[str]] = {}
    turn: set[str] | None = None
    for i, msg in enumerate(messages):
        # Read defensively: the conversion loop reports a non-Message item with its position.
        role, call_id = getattr(msg, "role", None), getattr(msg, "tool_call_id", None)
        if role == "assistant":
            turn = answered.setdefault(i, set())
        elif role == "tool" and turn is not None and isinstance(call_id, str):
            turn.add(call_id)
    return answered


def _dynamic_tools(msg: Message, where: str, profile: ModelProfile) -> dict[str, Any]:
    if msg.role != "system":
        raise ValueError(f"{where}: only system messages can carry tools (dynamic tool loading).")
    if not profile.dynamic_tools:
        raise ValueError(
            f"{where}: {profile.id} does not support tools declared on a system message; pass "
            "them as request tools instead."
        )
    if msg.content:
        raise ValueError(
            f"{where}: a system message that loads tools carries no content; put the text in a "
            "separate system message."
        )
    if isinstance(msg.tools, str | bytes | Mapping) or not isinstance(msg.tools, Sequence):
        raise TypeError(
            f"{where}.tools must be a list of tools (FunctionTool or OpenAI-style dicts), got "
            f"{type(msg.tools).__name__}."
        )
    wire_tools, _ = tools_to_wire(msg.tools, where=f"{where}.tools")
    # Raw JSON on the wire: the openai SDK's types have no tools on a message (13.2).
    return {"role": "system", "tools": wire_tools}


def _user_or_system(msg: Message, where: str, profile: ModelProfile) -> dict[str, Any]:
    if msg.tools:
        return _dynamic_tools(msg, where, profile)
    wire: dict[str, Any] = {"role": msg.role}
    if isinstance(msg.content, str):
        wire["content"] = _check_text(msg.content, where)
    elif isinstance(msg.content, list):
        if msg.role == "user":
            wire["content"] = _parts_to_wire(msg.content, profile, where)
        else:
            wire["content"] = _text_of(msg.content, where)
    else:
        raise TypeError(
            f"{where}: a {msg.role} message needs content (str or list of parts), got "
            f"{type(msg.content).__name__}"
        )
    if msg.name is not None:
        wire["name"] = _check_text(msg.name, f"{where}.name")
    return wire


def _assistant(
    msg: Message, where: str, profile: ModelProfile, thinking: ThinkingState
) -> dict[str, Any]:
    if msg.content is None:
        text = ""
    elif isinstance(msg.content, str):
        text = _check_text(msg.content, where)
    elif isinstance(msg.content, list):
        text = _text_of(msg.content, where)
    else:
        raise TypeError(f"{where}: content must be str, list or None")
    wire: dict[str, Any] = {"role": "assistant"}
    if msg.tool_calls:
        if msg.partial:
            raise ValueError(f"{where}: a partial (prefix) message cannot carry tool calls.")
        # The API rejects blank text next to tool calls ("text content is empty").
        if text.strip():
            wire["content"] = text
        wire["tool_calls"] = [
            _tool_call_to_wire(call, f"{where}.tool_calls[{k}]")
            for k, call in enumerate(msg.tool_calls)
        ]
    elif text.strip() or msg.partial:
        wire["content"] = text
    else:
        raise ValueError(
            f"{where}: assistant message is empty (no text and no tool calls); the API rejects it "
            "with 400. Remove it or give it content."
        )
    reasoning = msg.reasoning
    if reasoning is not None:
        _check_text(reasoning, f"{where}.reasoning")
    needed = thinking.enabled and (bool(msg.tool_calls) or thinking.keep)
    if needed and not msg.partial:
        wire["reasoning_content"] = reasoning or REASONING_PLACEHOLDER
    elif reasoning and (msg.partial or not profile.known):
        # A partial message's reasoning is a prefix the model continues, so it is never invented;
        # and a model we know nothing about may think, so returning what we have cannot hurt.
        wire["reasoning_content"] = reasoning
    if msg.partial:
        wire["partial"] = True
    if msg.name is not None:
        wire["name"] = _check_text(msg.name, f"{where}.name")
    return wire


def _tool(
    msg: Message, where: str, profile: ModelProfile, calls: Mapping[str, ToolCall], turn: int
) -> dict[str, Any]:
    call_id = msg.tool_call_id
    if not isinstance(call_id, str) or not call_id:
        raise ValueError(f"{where}: a tool message needs tool_call_id.")
    call = calls.get(call_id)
    if call is None:
        before = (
            f"the assistant message before it (messages[{turn}]) made no call with that id"
            if turn >= 0
            else "no earlier assistant message made that call"
        )
        raise ValueError(
            f"{where}: tool message answers tool_call_id {call_id!r}, but {before}; a tool "
            "result must follow the assistant turn that made the call. Drop the tool message or "
            "move it after its call."
        )
    wire: dict[str, Any] = {"role": "tool", "tool_call_id": call_id}
    if isinstance(msg.content, str):
        wire["content"] = _check_text(msg.content, where)
    elif isinstance(msg.content, list):
        if all(isinstance(p, TextPart) for p in msg.content):
            wire["content"] = _text_of(msg.content, where)
        else:
            wire["content"] = _parts_to_wire(msg.content, profile, where)
    else:
        raise TypeError(f"{where}: a tool message needs content (str or list of parts)")
    if call.is_builtin and not _same_json(wire["content"], call.arguments):
        raise ValueError(
            f"{where}: the result of builtin call {call.name} ({call_id!r}) must echo the call's "
            "arguments verbatim; drop this tool message and kimi-core inserts the echo."
        )
    name = msg.name if msg.name is not None else (call.name if call.is_builtin else None)
    if name is not None:
        wire["name"] = _check_text(name, f"{where}.name")
    return wire


def _same_json(content: object, arguments: str) -> bool:
    if content == arguments:
        return True
    # The official example re-serialises the arguments: equal JSON counts as verbatim.
    try:
        return isinstance(content, str) and json.loads(content) == json.loads(arguments)
    except ValueError:
        return False


def _builtin_echo(call: ToolCall) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call.id, "name": call.name, "content": call.arguments}


def _tool_from_dict(tool: Mapping[str, Any], where: str) -> Tool:
    kind = tool.get("type")
    fn = tool.get("function")
    if not isinstance(fn, Mapping) or not isinstance(fn.get("name"), str):
        raise ValueError(f"{where}: a tool dict needs function.name")
    if kind == "builtin_function":
        return BuiltinTool(fn["name"])
    if kind != "function":
        raise ValueError(f"{where}: unsupported tool type {kind!r}; use 'function'.")
    return FunctionTool(
        name=fn["name"],
        description=fn.get("description"),
        parameters=fn.get("parameters"),
        strict=fn.get("strict"),
    )


def tools_to_wire(
    tools: Sequence[Tool | Mapping[str, Any]], *, where: str = "tools"
) -> tuple[list[dict[str, Any]], bool]:
    """Convert tools to wire form, normalizing schemas to MFJS and checking names.

    Args:
        tools: :class:`FunctionTool` / :class:`BuiltinTool` objects or OpenAI-style tool dicts.
        where: How errors name the list (e.g. ``messages[2].tools`` for dynamic tools).

    Returns:
        The wire tools and whether ``$web_search`` is among them.

    Raises:
        ValueError: Invalid or duplicate function name, or an invalid schema.
    """
    out: list[dict[str, Any]] = []
    names: set[str] = set()
    web_search = False
    prefix = where
    for i, raw in enumerate(tools):
        where = f"{prefix}[{i}]"
        tool = _tool_from_dict(raw, where) if isinstance(raw, Mapping) else raw
        if isinstance(tool, BuiltinTool):
            if not is_builtin_name(tool.name):
                raise ValueError(f"{where}: builtin tool names start with '$', got {tool.name!r}")
            web_search = web_search or tool.name == "$web_search"
            wire: dict[str, Any] = {"type": "builtin_function", "function": {"name": tool.name}}
        elif isinstance(tool, FunctionTool):
            if not isinstance(tool.name, str) or not FUNCTION_NAME_PATTERN.match(tool.name):
                raise ValueError(
                    f"{where}: invalid function name {tool.name!r}; it must start with a letter or "
                    "underscore and contain only letters, digits, '_' and '-' (max 256)."
                )
            params = tool.parameters if tool.parameters is not None else {"type": "object"}
            try:
                schema = normalize_schema(params, require_object=True)
            except ValueError as exc:
                raise ValueError(f"{where} ({tool.name}): {exc}") from None
            schema.setdefault("properties", {})
            function: dict[str, Any] = {"name": tool.name, "parameters": schema}
            if tool.description:
                function["description"] = _check_text(tool.description, f"{where}.description")
            if tool.strict is not None:
                function["strict"] = tool.strict
            wire = {"type": "function", "function": function}
        else:
            raise TypeError(f"{where}: expected FunctionTool, BuiltinTool or dict, got {tool!r}")
        name = wire["function"]["name"]
        if name in names:
            raise ValueError(
                f"{where}: function name {name!r} is duplicated; names must be unique."
            )
        names.add(name)
        out.append(wire)
    return out, web_search


def unique_tool_names(body: Mapping[str, Any]) -> dict[str, str]:
    """Every tool declared in a wire body, top-level and on system messages, by name.

    Names share one namespace across both places (kimi-api.md 13.2: the same name twice is a 400).

    Args:
        body: A wire body whose ``tools`` and message ``tools`` are already converted.

    Returns:
        Tool name -> wire type (``function`` or ``builtin_function``).

    Raises:
        ValueError: A name is declared twice; the message says where both are.
    """
    places: list[tuple[str, list[dict[str, Any]]]] = [("tools", body.get("tools") or [])]
    for i, message in enumerate(body.get("messages") or ()):
        if message.get("tools"):
            places.append((f"messages[{i}].tools", message["tools"]))
    found: dict[str, str] = {}
    where_found: dict[str, str] = {}
    for place, tools in places:
        for tool in tools:
            name = tool["function"]["name"]
            if name in found:
                raise ValueError(
                    f"function name {name!r} is duplicated ({where_found[name]} and {place}); "
                    "names must be unique across request tools and tools loaded on system "
                    "messages. Rename one or drop the repeat."
                )
            found[name] = tool["type"]
            where_found[name] = place
    return found
