"""Standard v1 content blocks from Kimi messages (`content_blocks`, `output_version="v1"`).

Registered with langchain-core under `PROVIDER`, the name `ChatKimi` stamps on every message and
chunk as `response_metadata["model_provider"]`. Kimi's wire keeps provider-native shapes on the
message (string `content`, `additional_kwargs["reasoning_content"]`,
`response_metadata["web_searches"]`); this module derives the standard blocks from them in the
order the model produced them: reasoning, server-side searches, text, tool calls.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

from langchain_core.messages.block_translators import register_translator

if TYPE_CHECKING:
    from langchain_core.messages import AIMessage, AIMessageChunk
    from langchain_core.messages import content as types

__all__ = ["PROVIDER", "WEB_SEARCH_BLOCK_NAME", "BlockIndexer", "register"]

PROVIDER = "moonshot"
"""Provider name for `model_provider` and `ls_provider` (LangChain's existing Moonshot naming)."""

WEB_SEARCH_BLOCK_NAME = "web_search"
"""Standard name of a server-side search in `server_tool_call` blocks (as OpenAI and Groq use)."""


def _search_blocks(message: AIMessage) -> list[types.ContentBlock]:
    blocks: list[types.ContentBlock] = []
    for search in message.response_metadata.get("web_searches") or ():
        call_id = str(search.get("id", ""))
        call: types.ServerToolCall = {
            "type": "server_tool_call",
            "id": call_id,
            "name": WEB_SEARCH_BLOCK_NAME,
            "args": dict(search.get("arguments") or {}),
            "extras": {"kimi_name": search.get("name", "$web_search")},
        }
        result: types.ServerToolResult = {
            "type": "server_tool_result",
            "tool_call_id": call_id,
            "status": "success",
        }
        if (tokens := search.get("search_tokens")) is not None:
            result["output"] = {"search_tokens": tokens}
        blocks.extend((call, result))
    return blocks


def _pending_builtin_blocks(message: AIMessage) -> list[types.ContentBlock]:
    # Builtin calls the model made next to client calls: answered on the next request.
    blocks: list[types.ContentBlock] = []
    for call in message.additional_kwargs.get("builtin_tool_calls") or ():
        name = call["function"]["name"]
        try:
            args = json.loads(call["function"]["arguments"])
        except ValueError:
            args = None
        block: types.ServerToolCall = {
            "type": "server_tool_call",
            "id": call["id"],
            "name": name.removeprefix("$"),
            "args": args if isinstance(args, dict) else {},
            "extras": {"kimi_name": name},
        }
        blocks.append(block)
    return blocks


def _text_blocks(content: str | list[str | dict[str, Any]]) -> list[types.ContentBlock]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[types.ContentBlock] = []
    for item in content:
        if isinstance(item, str):
            if item:
                blocks.append({"type": "text", "text": item})
        elif item.get("type") not in {"tool_call", "tool_call_chunk", "reasoning"}:
            # Tool calls come from the message's own fields below; reasoning from
            # additional_kwargs first. Anything else is already a standard block.
            blocks.append(cast("types.ContentBlock", item))
    return blocks


def _reasoning_blocks(message: AIMessage) -> list[types.ContentBlock]:
    reasoning = message.additional_kwargs.get("reasoning_content")
    if isinstance(reasoning, str) and reasoning:
        return [{"type": "reasoning", "reasoning": reasoning}]
    if isinstance(message.content, list):
        return [
            cast("types.ContentBlock", item)
            for item in message.content
            if isinstance(item, dict) and item.get("type") == "reasoning"
        ]
    return []


def translate_content(message: AIMessage) -> list[types.ContentBlock]:
    """Derive standard content blocks from a complete Kimi `AIMessage`.

    Args:
        message: A message produced by `ChatKimi` (or rebuilt from one).

    Returns:
        Reasoning, `server_tool_call`/`server_tool_result` pairs, text and `tool_call` blocks.
    """
    blocks = _reasoning_blocks(message) + _search_blocks(message)
    blocks += _pending_builtin_blocks(message) + _text_blocks(message.content)
    blocks.extend(
        {"type": "tool_call", "id": call.get("id"), "name": call["name"], "args": call["args"]}
        for call in message.tool_calls
    )
    blocks.extend(
        {
            "type": "invalid_tool_call",
            "id": call.get("id"),
            "name": call.get("name"),
            "args": call.get("args"),
            "error": call.get("error"),
        }
        for call in message.invalid_tool_calls
    )
    return blocks


def translate_content_chunk(message: AIMessageChunk) -> list[types.ContentBlock]:
    """Derive standard content blocks from a Kimi `AIMessageChunk`.

    A chunk in flight carries `tool_call_chunk` blocks; the aggregated last chunk carries
    complete `tool_call` blocks, as langchain-core's own chunk parsing does.

    Args:
        message: A streamed chunk, or several chunks added together.

    Returns:
        The derived content blocks.
    """
    if message.chunk_position == "last" or not message.tool_call_chunks:
        return translate_content(message)
    blocks = _reasoning_blocks(message) + _search_blocks(message) + _text_blocks(message.content)
    for chunk in message.tool_call_chunks:
        block: types.ToolCallChunk = {
            "type": "tool_call_chunk",
            "id": chunk.get("id"),
            "name": chunk.get("name"),
            "args": chunk.get("args"),
        }
        if (index := chunk.get("index")) is not None:
            block["index"] = index
        blocks.append(block)
    return blocks


class BlockIndexer:
    """Number the v1 blocks of one stream so that adding chunks merges the right blocks.

    langchain-core merges streamed v1 content blocks that share an `index`. Kimi streams
    reasoning, then text, then tool calls (possibly several at once), round after round when
    `$web_search` runs, so each reasoning or text run gets its own index, each tool call its
    own (by its stream index), and each search block one of its own.
    """

    __slots__ = ("_next", "_run_index", "_run_type", "_tools")

    def __init__(self) -> None:
        self._next = 0
        self._run_type: str | None = None
        self._run_index = 0
        self._tools: dict[object, int] = {}

    def _take(self) -> int:
        self._next += 1
        return self._next - 1

    def assign(self, blocks: list[types.ContentBlock]) -> list[types.ContentBlock]:
        """Set `index` on each block of one chunk (in place) and return the blocks."""
        for block in blocks:
            kind = block["type"]
            if kind == "tool_call_chunk":
                call = block.get("index")
                if call not in self._tools:
                    self._tools[call] = self._take()
                block["index"] = self._tools[call]
                self._run_type = None
            elif kind in ("reasoning", "text"):
                if self._run_type != kind:
                    self._run_type = kind
                    self._run_index = self._take()
                block["index"] = self._run_index
            else:
                block["index"] = self._take()
                self._run_type = None
        return blocks


def register() -> None:
    """Register the translators with langchain-core (idempotent; done on import of ChatKimi)."""
    register_translator(PROVIDER, translate_content, translate_content_chunk)
