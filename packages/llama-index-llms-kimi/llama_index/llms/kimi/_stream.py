"""kimi-core stream deltas -> LlamaIndex streamed ``ChatResponse`` objects.

LlamaIndex's contract: every streamed response carries the whole message so far (FunctionAgent
stores the last one in its history), ``delta`` the new text and
``additional_kwargs["thinking_delta"]`` the new reasoning. kimi-core already parsed and assembled
the wire chunks; here only the running message is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.llms.kimi._convert import (
    assistant_message,
    response_kwargs,
    response_logprobs,
    response_raw,
    search_info,
)

if TYPE_CHECKING:
    from kimi_core import StreamDelta, ToolCallChunk

__all__ = ["StreamAssembler"]


class StreamAssembler:
    """Turns the deltas of one ``KimiClient.stream`` call into cumulative chat responses.

    Text and reasoning grow by appending the new piece; tool calls are kept per stream ``index``
    with their argument text as received so far (parsed leniently by
    ``Kimi.get_tool_calls_from_response``). A block is rebuilt only when its content changed, so
    a chunk costs one new block, not a copy of the whole message. The last delta carries
    kimi-core's complete result, whose tool calls (with final, parsed arguments) replace the
    running ones.
    """

    __slots__ = (
        "_adjustments",
        "_call_blocks",
        "_calls",
        "_reasoning",
        "_text",
        "_text_block",
        "_thinking_block",
    )

    def __init__(self, adjustments: Sequence[str] = ()) -> None:
        self._adjustments = adjustments
        self._text = ""
        self._reasoning = ""
        self._calls: dict[int, list[str]] = {}
        self._thinking_block: ThinkingBlock | None = None
        self._text_block = TextBlock(text="")
        self._call_blocks: list[ToolCallBlock] = []

    def feed(self, delta: StreamDelta) -> ChatResponse:
        """The streamed response for one delta."""
        if delta.result is not None:
            # The text streamed so far spans every $web_search round; the result's own text is
            # the last round's only.
            result = delta.result
            message = assistant_message(
                self._text, self._reasoning, result.tool_calls, result.usage, result.builtin_calls
            )
            # Agents only expose ``raw`` (AgentStream.raw): the summed usage and the searches
            # are there as well as in additional_kwargs.
            return ChatResponse(
                message=message,
                delta="",
                raw=response_raw(result),
                additional_kwargs=response_kwargs(result, self._adjustments),
                logprobs=response_logprobs(result),
            )
        extra: dict[str, Any] = {}
        if delta.reasoning:
            self._reasoning += delta.reasoning
            self._thinking_block = ThinkingBlock(content=self._reasoning)
            extra["thinking_delta"] = delta.reasoning
        if delta.text:
            self._text += delta.text
            self._text_block = TextBlock(text=self._text)
        if delta.tool_call_chunks:
            self._feed_calls(delta.tool_call_chunks)
        raw = None
        if delta.event is not None:
            extra["web_search"] = search_info(delta.event)
            raw = {"web_search": extra["web_search"]}
        blocks: list[Any] = [self._thinking_block] if self._thinking_block is not None else []
        if self._text or not self._call_blocks:
            blocks.append(self._text_block)
        blocks.extend(self._call_blocks)
        return ChatResponse(
            message=ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks),
            delta=delta.text or "",
            raw=raw,
            additional_kwargs=extra,
        )

    def _feed_calls(self, chunks: Sequence[ToolCallChunk]) -> None:
        for chunk in chunks:
            call = self._calls.setdefault(chunk.index, ["", "", ""])
            if chunk.id:
                call[0] = chunk.id
            if chunk.name:
                call[1] = chunk.name
            call[2] += chunk.arguments
        self._call_blocks = [
            ToolCallBlock(tool_call_id=call_id or None, tool_name=name, tool_kwargs=arguments)
            for call_id, name, arguments in self._calls.values()
        ]
