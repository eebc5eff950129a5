"""LlamaIndex ``ChatMessage`` / content blocks <-> kimi-core neutral types.

Only translation lives here: which blocks become which neutral parts, and how a neutral
result becomes LlamaIndex blocks. Every Kimi wire rule (reasoning_content policy, media
policy, schema normalization, ...) is applied later by kimi-core's request builder.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from kimi_core import FunctionTool, ImagePart, Message, Role, TextPart, ToolCall, VideoPart
from llama_index.core.base.llms.types import (
    AudioBlock,
    CachePoint,
    ChatMessage,
    CitableBlock,
    CitationBlock,
    DocumentBlock,
    ImageBlock,
    LogProb,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    VideoBlock,
)
from llama_index.core.tools.types import BaseTool

if TYPE_CHECKING:
    from kimi_core import ChatResult, Usage, WebSearch

__all__ = [
    "DYNAMIC_TOOLS_KEY",
    "assistant_message",
    "dynamic_tools",
    "from_kimi_result",
    "response_kwargs",
    "response_logprobs",
    "response_raw",
    "search_info",
    "to_kimi_messages",
    "to_kimi_tools",
    "tool_kwargs_from_arguments",
    "usage_kwargs",
]

_ROLES: dict[MessageRole, Role] = {
    MessageRole.SYSTEM: "system",
    # Kimi has no developer role; its instructions are system instructions.
    MessageRole.DEVELOPER: "system",
    MessageRole.USER: "user",
    MessageRole.ASSISTANT: "assistant",
    MessageRole.CHATBOT: "assistant",
    MessageRole.MODEL: "assistant",
    MessageRole.TOOL: "tool",
    MessageRole.FUNCTION: "tool",
}

Part = TextPart | ImagePart | VideoPart

BUILTIN_CALLS_KEY = "builtin_tool_calls"
DYNAMIC_TOOLS_KEY = "tools"
"""The system ``ChatMessage.additional_kwargs`` key whose tools Kimi loads mid-conversation (K3)."""


def to_kimi_messages(messages: Sequence[ChatMessage]) -> list[Message]:
    """Translate a LlamaIndex history into kimi-core neutral messages.

    Raises:
        ValueError: for a block Kimi cannot take (audio, documents), naming the block and
            the alternative.
    """
    return [_to_kimi_message(message, index) for index, message in enumerate(messages)]


def _to_kimi_message(message: ChatMessage, index: int) -> Message:
    role = _ROLES[message.role]
    extra = message.additional_kwargs
    parts: list[Part] = []
    reasoning: list[str] = []
    tool_calls: list[ToolCall] = []
    for block in message.blocks:
        if isinstance(block, ThinkingBlock):
            # A signature-only block (Anthropic streams the signature into an empty block) counts
            # as missing: kimi-core's placeholder applies; the signature means nothing to Kimi.
            if block.content:
                reasoning.append(block.content)
        elif isinstance(block, CitationBlock) and role == "assistant":
            # What another model cited (Anthropic search results) is not what it said.
            continue
        elif isinstance(block, ToolCallBlock):
            tool_calls.append(
                ToolCall(
                    id=block.tool_call_id or "",
                    name=block.tool_name,
                    arguments=_arguments_json(block.tool_kwargs),
                )
            )
        else:
            parts.extend(_content_parts(block, index))
    if role == "assistant":
        if not tool_calls:
            # Older LlamaIndex code kept the calls in additional_kwargs only.
            tool_calls = _calls_from_wire(extra.get("tool_calls"))
        tool_calls += _calls_from_wire(extra.get(BUILTIN_CALLS_KEY), builtin=True)
        if not reasoning and (text := _reasoning_from_kwargs(extra)):
            reasoning.append(text)
    content = _content(parts)
    if DYNAMIC_TOOLS_KEY in extra:
        return _system_tools(role, content, extra[DYNAMIC_TOOLS_KEY], index)
    if content is None and role == "tool":
        # A tool that returned nothing (LlamaIndex gives its output no blocks) still answers.
        content = ""
    return Message(
        role=role,
        content=content,
        reasoning="\n".join(reasoning) if reasoning else None,
        tool_calls=tool_calls,
        tool_call_id=extra.get("tool_call_id") if role == "tool" else None,
        name=extra.get("name"),
        partial=bool(extra.get("partial", False)),
    )


def _system_tools(role: Role, content: object, tools: Any, index: int) -> Message:
    if role != "system":
        raise ValueError(
            f"Message {index} ({role}) carries additional_kwargs[{DYNAMIC_TOOLS_KEY!r}], but only "
            "system messages can load tools (the API answers 400); use "
            "llama_index.llms.kimi.system_tools_message(...) or pass them as tools."
        )
    if isinstance(tools, str | bytes | dict) or not isinstance(tools, Sequence):
        raise ValueError(
            f"Message {index}: additional_kwargs[{DYNAMIC_TOOLS_KEY!r}] must be a list of tools, "
            f"got {type(tools).__name__}."
        )
    if content:
        raise ValueError(
            f"Message {index} loads tools, so it must have no text (the API answers 400); put "
            "the instructions in a separate system message."
        )
    return Message.system_tools(dynamic_tools(tools))


def dynamic_tools(
    tools: Sequence[Any], *, strict: bool | None = None
) -> list[FunctionTool | dict[str, Any]]:
    """The tools of a system message, in order, as kimi-core takes them.

    LlamaIndex tools are converted as for tool calling; kimi-core ``FunctionTool`` objects and
    OpenAI-style dicts pass as they are.
    """
    out: list[FunctionTool | dict[str, Any]] = []
    for tool in tools:
        if isinstance(tool, BaseTool):
            out.extend(to_kimi_tools([tool], strict=strict))
        else:
            out.append(tool)
    return out


def _content(parts: list[Part]) -> str | list[Part] | None:
    if not parts:
        return None
    if all(isinstance(part, TextPart) for part in parts):
        # Same joining rule as ChatMessage.content, so text-only turns stay plain strings.
        return "\n".join(part.text for part in parts if isinstance(part, TextPart))
    return parts


def _content_parts(block: Any, index: int) -> Iterable[Part]:
    if isinstance(block, TextBlock):
        return [TextPart(text=block.text)]
    if isinstance(block, ImageBlock):
        return [_image_part(block)]
    if isinstance(block, VideoBlock):
        return [_video_part(block)]
    if isinstance(block, CitableBlock):
        return [part for inner in block.content for part in _content_parts(inner, index)]
    if isinstance(block, CitationBlock):
        return _content_parts(block.cited_content, index)
    if isinstance(block, CachePoint):
        # Kimi caches prefixes automatically; an explicit cache point has nothing to map to.
        return []
    if isinstance(block, AudioBlock):
        raise ValueError(
            f"Message {index} has an AudioBlock, but Kimi models take no audio input. "
            "Transcribe the audio first and send the text as a TextBlock."
        )
    if isinstance(block, DocumentBlock):
        raise ValueError(
            f"Message {index} has a DocumentBlock, which the Kimi chat API cannot take "
            "directly. Pass `Kimi(documents='file-extract')` to extract it through the "
            "Files API, or send its text as a TextBlock."
        )
    raise ValueError(f"Message {index} has an unsupported block type {type(block).__name__}.")


# LlamaIndex sniffs the type of bytes and paths; when it cannot tell, these are the most common
# container formats (and what LlamaIndex's own inline_url would otherwise leave unnamed).
_FALLBACK_IMAGE_MIME = "image/png"
_FALLBACK_VIDEO_MIME = "video/mp4"


def _image_part(block: ImageBlock) -> ImagePart:
    if block.image is None and block.path is None and block.url is not None:
        # data:, ms:// and http(s) URLs: kimi-core checks, passes through or downloads them.
        return ImagePart(url=str(block.url))
    data = block.resolve_image().read()
    return ImagePart(data=data, mime_type=block.image_mimetype or _FALLBACK_IMAGE_MIME)


def _video_part(block: VideoBlock) -> VideoPart:
    if block.video is None and block.path is None and block.url is not None:
        return VideoPart(url=str(block.url))
    data = block.resolve_video().read()
    return VideoPart(data=data, mime_type=block.video_mimetype or _FALLBACK_VIDEO_MIME)


def _arguments_json(tool_kwargs: dict[str, Any] | str) -> str:
    if isinstance(tool_kwargs, str):
        return tool_kwargs
    return json.dumps(tool_kwargs, ensure_ascii=False)


def _reasoning_from_kwargs(extra: dict[str, Any]) -> str | None:
    """Reasoning other LLM classes kept in ``additional_kwargs``.

    ``reasoning_content`` (OpenAILike against DeepSeek-style servers) and ``thinking``
    (``{"type": "thinking", "thinking": ..., "signature": ...}``, older
    llama-index-llms-anthropic).
    """
    text = extra.get("reasoning_content")
    if isinstance(text, str) and text:
        return text
    thinking = extra.get("thinking")
    if isinstance(thinking, dict):
        text = thinking.get("thinking")
        if isinstance(text, str) and text:
            return text
    return None


_WIRE_CALLS_SHAPE = (
    "tool calls in additional_kwargs must be a list of OpenAI-style "
    "{'id': ..., 'function': {'name': ..., 'arguments': ...}} dicts (or SDK tool-call objects)"
)


def _calls_from_wire(raw: Any, *, builtin: bool = False) -> list[ToolCall]:
    """OpenAI-style tool-call dicts (or SDK objects) kept in ``additional_kwargs``."""
    calls: list[ToolCall] = []
    if raw and not isinstance(raw, list | tuple):
        raise ValueError(f"{_WIRE_CALLS_SHAPE}; got a {type(raw).__name__}.")
    for item in raw or []:
        data = item.model_dump() if hasattr(item, "model_dump") else item
        if isinstance(data, dict) and data.get("type") == "tool_use":
            # Older llama-index-llms-anthropic kept Anthropic's own tool_use blocks here.
            data = {
                "id": data.get("id"),
                "function": {"name": data.get("name"), "arguments": data.get("input")},
            }
        try:
            call = ToolCall.from_wire(data, builtin=builtin)
        except ValueError:
            raise ValueError(f"{_WIRE_CALLS_SHAPE}; got {item!r}.") from None
        # A history written by another model may leave out the arguments of a call without any.
        call.arguments = call.arguments or "{}"
        calls.append(call)
    return calls


def to_kimi_tools(tools: Sequence[BaseTool], *, strict: bool | None = None) -> list[FunctionTool]:
    """LlamaIndex tools as kimi-core function tools.

    Names are kept exactly as given (no OpenAI-style sanitizing, which would make the agent's
    lookup by name fail); kimi-core checks them against Kimi's pattern with a clear error.
    """
    return [
        FunctionTool(
            name=tool.metadata.get_name(),
            description=tool.metadata.description,
            parameters=tool.metadata.get_parameters_dict(),
            strict=strict,
        )
        for tool in tools
    ]


def tool_kwargs_from_arguments(arguments: str) -> dict[str, Any] | str:
    """Parsed arguments, or the raw string when the model produced invalid JSON."""
    try:
        parsed = json.loads(arguments) if arguments else {}
    except json.JSONDecodeError:
        return arguments
    return parsed if isinstance(parsed, dict) else arguments


def usage_kwargs(usage: Usage | None) -> dict[str, int]:
    """Token counts under the keys LlamaIndex's token counters read."""
    if usage is None:
        return {}
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "cached_tokens": usage.cached_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
    }


def search_info(search: WebSearch) -> dict[str, Any]:
    """One ``$web_search`` round as plain data for ``additional_kwargs``."""
    return {
        "call_id": search.call_id,
        "arguments": search.arguments,
        "search_tokens": search.search_tokens,
        "round": search.round,
    }


def response_kwargs(result: ChatResult, adjustments: Sequence[str] = ()) -> dict[str, Any]:
    """``ChatResponse.additional_kwargs`` of a finished answer.

    Usage (summed over ``$web_search`` rounds), finish reason, request id, the searches run and
    what kimi-core changed to fit the model (``adjustments``: a forced ``tool_choice`` sent as
    ``"auto"``, a ``temperature`` the model fixes left out).
    """
    kwargs: dict[str, Any] = usage_kwargs(result.usage)
    kwargs["finish_reason"] = result.finish_reason
    if result.request_id:
        kwargs["request_id"] = result.request_id
    if result.web_searches:
        kwargs["web_searches"] = [search_info(search) for search in result.web_searches]
    if adjustments:
        kwargs["adjustments"] = list(adjustments)
    return kwargs


def _logprob(entry: Any) -> LogProb:
    data = entry if isinstance(entry, dict) else {}
    return LogProb(
        token=str(data.get("token", "")),
        logprob=float(data.get("logprob", 0.0)),
        bytes=list(data.get("bytes") or []),
    )


def response_logprobs(result: ChatResult) -> list[list[LogProb]] | None:
    """Per generated token, its alternatives (``top_logprobs``) or else the token itself.

    The same shape LlamaIndex's OpenAI integration gives ``ChatResponse.logprobs``.
    """
    if not result.logprobs:
        return None
    out = []
    for entry in result.logprobs:
        top = entry.get("top_logprobs") if isinstance(entry, dict) else None
        out.append([_logprob(alt) for alt in top] if top else [_logprob(entry)])
    return out


def response_raw(result: ChatResult) -> dict[str, Any]:
    """``ChatResponse.raw`` of a finished answer.

    The response body when there is exactly one (a plain non-stream call). A stream has no body,
    and after ``$web_search`` rounds the last body's usage covers one round only: then ``raw``
    summarizes the answer, with ``usage`` summed over every round (what LlamaIndex's token
    counter reads) and the searches.
    """
    if result.raw is not None and not result.web_searches:
        return result.raw
    summary: dict[str, Any] = dict(result.raw or {})
    summary["usage"] = usage_kwargs(result.usage)
    summary["finish_reason"] = result.finish_reason
    if result.web_searches:
        summary["web_searches"] = [search_info(search) for search in result.web_searches]
    return summary


def assistant_message(
    text: str,
    reasoning: str,
    tool_calls: Iterable[ToolCall],
    usage: Usage | None = None,
    builtin_calls: Sequence[ToolCall] = (),
) -> ChatMessage:
    r"""An assistant ``ChatMessage``: a ``ThinkingBlock`` first, then the text, then the calls.

    Builtin calls the ``$web_search`` loop left unresolved (the model searched and called a
    function in the same turn) are kept in ``additional_kwargs["builtin_tool_calls"]``, not as
    tool-call blocks: an agent must never try to run them. They go back on the wire with
    the assistant turn, and kimi-core adds their echo.
    """
    blocks: list[Any] = []
    if reasoning:
        tokens = usage.reasoning_tokens if usage is not None and usage.reasoning_tokens else None
        blocks.append(ThinkingBlock(content=reasoning, num_tokens=tokens))
    calls = [
        ToolCallBlock(
            tool_call_id=call.id,
            tool_name=call.name,
            tool_kwargs=tool_kwargs_from_arguments(call.arguments),
        )
        for call in tool_calls
    ]
    if text or not calls:
        blocks.append(TextBlock(text=text))
    blocks.extend(calls)
    extra = {BUILTIN_CALLS_KEY: [c.to_wire() for c in builtin_calls]} if builtin_calls else {}
    return ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks, additional_kwargs=extra)


def from_kimi_result(result: ChatResult) -> ChatMessage:
    """A finished neutral result as an assistant ``ChatMessage``."""
    return assistant_message(
        result.text, result.reasoning or "", result.tool_calls, result.usage, result.builtin_calls
    )
