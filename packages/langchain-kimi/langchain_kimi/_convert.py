"""LangChain messages <-> kimi-core: requests in, results and stream chunks out.

Only shapes are translated here. Every Kimi rule (the `reasoning_content` policy and its
placeholder, content omission on tool-call turns, media policy, `ms://` ids) is applied later
by kimi-core's request builder. Inputs reach this module after langchain-core normalised
legacy (v0) data blocks to v1, so v1 blocks plus OpenAI-style `image_url` / `video_url` dicts
are what user content holds.

Assistant turns are read through LangChain's standard view (`AIMessage.content_blocks`, which
runs the block translator of the provider that wrote the message), so a history written by
Claude, GPT (Chat Completions or Responses), Gemini, Groq, DeepSeek, xAI or OpenRouter
converts: its reasoning text goes back as `reasoning_content`, and what only that provider can
take back (signatures, redacted or encrypted reasoning, citations) is dropped on purpose.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from kimi_core import ChatResult as KimiResult
from kimi_core import ImagePart, Message, StreamDelta, TextPart, ToolCall, VideoPart, WebSearch
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.tool import invalid_tool_call, tool_call, tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk

from langchain_kimi import _translator
from langchain_kimi._tool_format import tool_to_wire
from langchain_kimi._translator import PROVIDER
from langchain_kimi.dynamic_tools import DYNAMIC_TOOLS_KEY

if TYPE_CHECKING:
    from langchain_core.messages import InvalidToolCall, UsageMetadata
    from langchain_core.messages import ToolCall as LCToolCall

__all__ = ["from_kimi_result", "to_chunk", "to_kimi_message", "to_kimi_messages"]

logger = logging.getLogger("langchain_kimi")

Part = TextPart | ImagePart | VideoPart

# Standard blocks an assistant turn may hold that are not sent as content: tool calls come from
# the message's own `tool_calls`, and server-side tool calls were answered inside the call that
# produced them (by Kimi's `$web_search` loop, or by another provider's servers).
_ASSISTANT_SKIPPED = frozenset(
    {
        "tool_call",
        "tool_call_chunk",
        "invalid_tool_call",
        "server_tool_call",
        "server_tool_call_chunk",
        "server_tool_result",
    }
)
_CHAT_ROLES = {"system": "system", "developer": "system", "user": "user", "human": "user"}


def _media_part(block: Mapping[str, Any], kind: str) -> ImagePart | VideoPart:
    cls = ImagePart if kind == "image" else VideoPart
    if file_id := block.get("file_id"):
        return cls(file_id=str(file_id))
    if data := block.get("base64"):
        mime_type = block.get("mime_type")
        if not mime_type:
            raise ValueError(
                f"A base64 {kind} block needs 'mime_type' (e.g. 'image/png' or 'video/mp4')."
            )
        # A data URL keeps the payload as the text it already is (no decode/re-encode).
        return cls(url=f"data:{mime_type};base64,{data}")
    if url := block.get("url"):
        return cls(url=str(url))
    raise ValueError(f"A {kind} block needs one of 'base64' (+ 'mime_type'), 'url' or 'file_id'.")


def _openai_media_part(block: Mapping[str, Any], key: str) -> ImagePart | VideoPart:
    cls = ImagePart if key == "image_url" else VideoPart
    value = block.get(key)
    url = value.get("url") if isinstance(value, Mapping) else value
    if not isinstance(url, str) or not url:
        raise ValueError(f"A {key!r} block needs {{'{key}': {{'url': ...}}}}.")
    return cls(url=url)


def _part(block: str | Mapping[str, Any], role: str) -> Part:
    if isinstance(block, str):
        return TextPart(block)
    kind = block.get("type")
    if kind == "text":
        return TextPart(_block_text(block, "text", role))
    if kind == "text-plain" and isinstance(block.get("text"), str):
        return TextPart(block["text"])
    if kind in ("image", "video"):
        return _media_part(block, kind)
    if kind in ("image_url", "video_url"):
        return _openai_media_part(block, kind)
    if kind in ("file", "audio", "text-plain"):
        raise ValueError(
            f"Kimi does not accept {kind!r} content blocks in a {role} message. For documents, "
            "upload them with purpose 'file-extract' (kimi_core Files API) and pass the "
            "extracted text; images and videos use 'image' / 'video' blocks."
        )
    raise ValueError(
        f"Unsupported content block type {kind!r} in a {role} message; Kimi accepts text, "
        "image, video (standard blocks or OpenAI-style image_url / video_url)."
    )


def _content(content: str | list[str | dict[str, Any]], role: str) -> str | list[Part]:
    if isinstance(content, str):
        return content
    parts = [_part(block, role) for block in content]
    if all(isinstance(part, TextPart) for part in parts):
        # Text-only lists go out as one string: every Kimi model accepts that form.
        return "".join(part.text for part in parts if isinstance(part, TextPart))
    return parts


def _assistant_text_and_reasoning(message: AIMessage) -> tuple[str | None, str | None]:
    extra = message.additional_kwargs
    reasoning = extra.get("reasoning_content")
    if reasoning is not None and not isinstance(reasoning, str):
        raise TypeError(
            "additional_kwargs['reasoning_content'] of an assistant message must be a string, got "
            f"{type(reasoning).__name__}."
        )
    content = message.content
    if isinstance(content, str) and not extra.get("refusal"):
        # Kimi's own turns and those of every Chat Completions provider (DeepSeek, xAI, Groq,
        # OpenRouter keep reasoning in `reasoning_content`): nothing to translate.
        return content or None, reasoning
    texts: list[str] = []
    pieces: list[str] = []
    for standard in message.content_blocks:
        # Read as plain data: the union of block TypedDicts does not narrow on "type".
        block = cast("Mapping[str, Any]", standard)
        kind = block["type"]
        if kind == "text":
            texts.append(_block_text(block, "text", "assistant"))
        elif kind == "refusal":
            texts.append(str(block.get("refusal") or ""))
        elif kind == "reasoning":
            # A block with a signature or encrypted content but no text (redacted or
            # summary-less reasoning) counts as missing: kimi-core's placeholder applies.
            if text := block.get("reasoning"):
                pieces.append(str(text))
        elif kind == "non_standard":
            if text := _unstamped_thinking(block["value"]):
                pieces.append(text)
            else:
                # Provider-only data (Anthropic redacted_thinking, citations, ...): Kimi has no
                # field for it, and the turn reads the same without it.
                logger.debug("dropped a provider-specific block from an assistant turn")
        elif kind not in _ASSISTANT_SKIPPED:
            raise ValueError(
                f"Unsupported content block type {kind!r} in an assistant message; Kimi "
                "takes back text, reasoning and tool calls."
            )
    if not reasoning and pieces:
        # Kimi's own v1 blocks are pieces of one stream; other providers' blocks are separate
        # thoughts (OpenAI summary parts, Claude's interleaved thinking), kept apart.
        own = message.response_metadata.get("model_provider") == PROVIDER
        reasoning = ("" if own else "\n\n").join(pieces)
    return "".join(texts) or None, reasoning


def _unstamped_thinking(value: Any) -> str | None:
    # Anthropic's `thinking` block in a message without `model_provider` (built by hand, or
    # restored from an older checkpoint), which langchain-core's generic view leaves as is.
    if isinstance(value, Mapping) and value.get("type") == "thinking":
        text = value.get("thinking")
        return text if isinstance(text, str) and text else None
    return None


def _tool_calls(message: AIMessage) -> list[ToolCall]:
    # Server-side calls the model made next to client calls (ChatKimi keeps them aside so agents
    # never try to run them); kimi-core echoes them back.
    calls = [_builtin_call(call) for call in _builtin_records(message)]
    for call in message.tool_calls:
        calls.append(
            ToolCall(
                id=_call_id(call.get("id"), call["name"]),
                name=call["name"],
                arguments=json.dumps(call["args"], ensure_ascii=False),
            )
        )
    # The model made these too (arguments that did not parse); agents answer them with an
    # error ToolMessage, which needs its call present in the assistant turn.
    for bad in message.invalid_tool_calls:
        name = bad.get("name") or ""
        calls.append(
            ToolCall(id=_call_id(bad.get("id"), name), name=name, arguments=bad.get("args") or "")
        )
    return calls


def _block_text(block: Mapping[str, Any], key: str, role: str) -> str:
    value = block.get(key, "")
    if not isinstance(value, str):
        # str(None) would send the word "None" as if the user had written it.
        raise ValueError(
            f"A {block.get('type')!r} block in a {role} message has {key}={value!r}; it must be "
            "a string (use '' for none)."
        )
    return value


_BUILTIN_SHAPE = (
    "additional_kwargs['builtin_tool_calls'] must be a list of "
    "{'id': ..., 'function': {'name': ..., 'arguments': ...}} as ChatKimi returned them"
)


def _builtin_records(message: AIMessage) -> list[Any]:
    records = message.additional_kwargs.get("builtin_tool_calls") or []
    if not isinstance(records, list):
        raise ValueError(f"{_BUILTIN_SHAPE}; got a {type(records).__name__}.")
    return records


def _builtin_call(record: Any) -> ToolCall:
    try:
        return ToolCall.from_wire(record, builtin=True)
    except ValueError:
        raise ValueError(f"{_BUILTIN_SHAPE}; got {record!r}.") from None


def _call_id(call_id: str | None, name: str) -> str:
    if not call_id:
        raise ValueError(
            f"Tool call {name!r} in an assistant message has no id; Kimi needs the id to pair "
            "it with its ToolMessage. Keep the ids the model returned."
        )
    return call_id


def _system_tools(message: BaseMessage) -> Message:
    tools = message.additional_kwargs[DYNAMIC_TOOLS_KEY]
    if isinstance(tools, str | bytes | Mapping) or not isinstance(tools, Sequence):
        raise ValueError(
            f"additional_kwargs[{DYNAMIC_TOOLS_KEY!r}] of a system message must be a list of "
            f"tools, got {type(tools).__name__}; use langchain_kimi.system_tools_message(...)."
        )
    if _content(message.content, "system"):
        raise ValueError(
            "A system message that loads tools (additional_kwargs['tools']) must have empty "
            "content (the API answers 400); put the instructions in a separate SystemMessage."
        )
    # The same converter as bind_tools, so a tool means the same thing in both places.
    return Message.system_tools([tool_to_wire(tool, None) for tool in tools])


def _no_dynamic_tools(message: BaseMessage) -> None:
    if DYNAMIC_TOOLS_KEY in message.additional_kwargs:
        raise ValueError(
            f"A {type(message).__name__} carries additional_kwargs[{DYNAMIC_TOOLS_KEY!r}], but "
            "only system messages can load tools (the API answers 400); move them to a "
            "SystemMessage (langchain_kimi.system_tools_message) or bind them with bind_tools."
        )


def to_kimi_message(message: BaseMessage) -> Message:
    """Translate one LangChain message.

    Args:
        message: A system, human, AI, tool or chat message (with role system/developer/user).
            A system message with `additional_kwargs["tools"]` loads those tools (K3 dynamic
            tools, see `langchain_kimi.dynamic_tools`).

    Returns:
        The neutral kimi-core message.

    Raises:
        ValueError: The message holds something Kimi cannot take (audio, PDF, an unknown
            role or block type, a tool call without id); the message says what to do instead.
    """
    if not isinstance(message, SystemMessage | ChatMessage):
        _no_dynamic_tools(message)
    if isinstance(message, AIMessage):
        text, reasoning = _assistant_text_and_reasoning(message)
        return Message.assistant(
            text,
            reasoning=reasoning,
            tool_calls=_tool_calls(message),
            partial=bool(message.additional_kwargs.get("partial")),
            name=message.name,
        )
    if isinstance(message, ToolMessage):
        return Message.tool(
            message.tool_call_id, _content(message.content, "tool"), name=message.name
        )
    if isinstance(message, HumanMessage):
        user = Message.user(_content(message.content, "user"))
        user.name = message.name
        return user
    if isinstance(message, SystemMessage):
        if DYNAMIC_TOOLS_KEY in message.additional_kwargs:
            return _system_tools(message)
        return Message.system(_content(message.content, "system"))
    if isinstance(message, ChatMessage) and message.role in _CHAT_ROLES:
        role = _CHAT_ROLES[message.role]
        if DYNAMIC_TOOLS_KEY in message.additional_kwargs and role == "system":
            return _system_tools(message)
        _no_dynamic_tools(message)
        return Message(role, _content(message.content, role), name=message.name)  # type: ignore[arg-type]
    raise ValueError(
        f"Cannot send a {type(message).__name__} (role {getattr(message, 'role', message.type)!r})"
        " to Kimi; use SystemMessage, HumanMessage, AIMessage or ToolMessage."
    )


def to_kimi_messages(messages: Sequence[BaseMessage]) -> list[Message]:
    """Translate a conversation, in order.

    Args:
        messages: The LangChain messages of one request.

    Returns:
        The neutral kimi-core messages.
    """
    return [to_kimi_message(message) for message in messages]


# -- results: kimi-core's answers -> LangChain messages ------------------------------------


def from_kimi_result(
    result: KimiResult, *, usage: bool = True, adjustments: Sequence[str] = ()
) -> AIMessage:
    """A kimi-core result as an `AIMessage` (reasoning, tool calls, usage, metadata)."""
    calls, invalid = _parse_tool_calls(result.tool_calls)
    additional: dict[str, Any] = {}
    if result.reasoning:
        additional["reasoning_content"] = result.reasoning
    if result.builtin_calls:
        # Unanswered builtin calls made next to client calls: kimi-core echoes them when this
        # message goes back into the history.
        additional["builtin_tool_calls"] = [call.to_wire() for call in result.builtin_calls]
    return AIMessage(
        content=result.text,
        additional_kwargs=additional,
        tool_calls=calls,
        invalid_tool_calls=invalid,
        usage_metadata=_usage_metadata(result) if usage else None,
        response_metadata=_response_metadata(result, adjustments, searches=True),
        id=result.id,
    )


def to_chunk(
    delta: StreamDelta,
    *,
    usage: bool,
    v1: _translator.BlockIndexer | None,
    adjustments: Sequence[str] = (),
) -> ChatGenerationChunk:
    """A kimi-core stream delta as a chunk; `v1` numbers the standard blocks of a v1 stream."""
    metadata: dict[str, Any] = {"model_provider": _translator.PROVIDER}
    additional: dict[str, Any] = {}
    if delta.reasoning:
        additional["reasoning_content"] = delta.reasoning
    if delta.event is not None:
        metadata["web_searches"] = [_search_metadata(delta.event)]
    result = delta.result
    usage_metadata = None
    if result is not None:
        # The searches already went out one chunk each (delta.event).
        metadata.update(_response_metadata(result, adjustments, searches=False))
        if usage:
            usage_metadata = _usage_metadata(result)
        if result.builtin_calls:
            additional["builtin_tool_calls"] = [c.to_wire() for c in result.builtin_calls]
    message = AIMessageChunk(
        content=delta.text or "",
        additional_kwargs=additional,
        tool_call_chunks=[
            tool_call_chunk(name=c.name, args=c.arguments, id=c.id, index=c.index)
            for c in delta.tool_call_chunks
        ],
        usage_metadata=usage_metadata,
        response_metadata=metadata,
        chunk_position="last" if result is not None else None,
    )
    if v1 is not None:
        # v1 output: content as standard blocks, numbered per stream (see BlockIndexer).
        message.content = v1.assign(_translator.translate_content_chunk(message))  # type: ignore[assignment]
        message.response_metadata["output_version"] = "v1"
    return ChatGenerationChunk(message=message)


def _parse_tool_calls(calls: Sequence[ToolCall]) -> tuple[list[LCToolCall], list[InvalidToolCall]]:
    valid: list[LCToolCall] = []
    invalid: list[InvalidToolCall] = []
    for call in calls:
        try:
            # A call without arguments may come as "" rather than "{}".
            args = json.loads(call.arguments) if call.arguments.strip() else {}
        except ValueError as exc:
            invalid.append(
                invalid_tool_call(name=call.name, args=call.arguments, id=call.id, error=str(exc))
            )
            continue
        if isinstance(args, dict):
            valid.append(tool_call(name=call.name, args=args, id=call.id))
        else:
            error = f"arguments are a JSON {type(args).__name__}, not an object"
            invalid.append(
                invalid_tool_call(name=call.name, args=call.arguments, id=call.id, error=error)
            )
    return valid, invalid


def _usage_metadata(result: KimiResult) -> UsageMetadata | None:
    usage = result.usage
    if usage is None:
        return None
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "input_token_details": {"cache_read": usage.cached_tokens},
        "output_token_details": {"reasoning": usage.reasoning_tokens},
    }


def _search_metadata(search: WebSearch) -> dict[str, Any]:
    try:
        arguments = json.loads(search.arguments)
    except ValueError:
        arguments = {"raw": search.arguments}
    return {
        "id": search.call_id,
        "name": "$web_search",
        "arguments": arguments if isinstance(arguments, dict) else {"raw": arguments},
        "search_tokens": search.search_tokens,
        "round": search.round,
    }


def _response_metadata(
    result: KimiResult, adjustments: Sequence[str], *, searches: bool
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "model_provider": _translator.PROVIDER,
        "model_name": result.model,
        "finish_reason": result.finish_reason,
        "id": result.id,
        "request_id": result.request_id,
        "system_fingerprint": result.system_fingerprint,
    }
    if adjustments:
        # What kimi-core changed to fit the model (e.g. a forced tool_choice sent as "auto").
        metadata["adjustments"] = list(adjustments)
    if result.logprobs is not None:
        # ChatOpenAI's place and shape: the choice's `logprobs` object.
        metadata["logprobs"] = {"content": result.logprobs}
    if searches and result.web_searches:
        metadata["web_searches"] = [_search_metadata(search) for search in result.web_searches]
    return {key: value for key, value in metadata.items() if value is not None}
