"""kimi-core stream deltas -> LlamaIndex streamed ``ChatResponse`` objects.

LlamaIndex's contract: every streamed response carries the whole message so far (FunctionAgent
stores the last one in its history), ``delta`` the new text and
``additional_kwargs["thinking_delta"]`` the new reasoning. kimi-core already parsed and assembled
the wire chunks; here only the running message is kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import ChatResponse, ToolCallBlock
from llama_index.llms.kimi._convert import assistant_message, response_kwargs, search_info

if TYPE_CHECKING:
    from kimi_core import StreamDelta

__all__ = ["StreamAssembler"]


class StreamAssembler:
    """Turns the deltas of one ``KimiClient.stream`` call into cumulative chat responses.

    Text and reasoning grow by appending the new piece; tool calls are kept per stream ``index``
    with their argument text as received so far (parsed leniently by
    ``Kimi.get_tool_calls_from_response``). The last delta carries kimi-core's complete result,
    whose tool calls (with their final arguments) replace the running ones.
    """

    __slots__ = ("_calls", "_reasoning", "_text")

    def __init__(self) -> None:
        self._text = ""
        self._reasoning = ""
        self._calls: dict[int, list[str]] = {}

    def feed(self, delta: StreamDelta) -> ChatResponse:
        """The streamed response for one delta."""
        if delta.result is not None:
            # The text and reasoning streamed so far span every $web_search round; the result's
            # own text and reasoning are those of the last round only.
            message = assistant_message(self._text, self._reasoning, delta.result.tool_calls)
            final = response_kwargs(delta.result)
            # Streams have no raw body; agents only expose ``raw`` (AgentStream.raw), so the
            # final usage and searches are mirrored there.
            return ChatResponse(message=message, delta="", raw=final, additional_kwargs=final)
        extra: dict[str, Any] = {}
        if delta.reasoning:
            self._reasoning += delta.reasoning
            extra["thinking_delta"] = delta.reasoning
        if delta.text:
            self._text += delta.text
        for chunk in delta.tool_call_chunks:
            call = self._calls.setdefault(chunk.index, ["", "", ""])
            if chunk.id:
                call[0] = chunk.id
            if chunk.name:
                call[1] = chunk.name
            call[2] += chunk.arguments
        raw = None
        if delta.event is not None:
            extra["web_search"] = search_info(delta.event)
            raw = {"web_search": extra["web_search"]}
        message = assistant_message(self._text, self._reasoning, ())
        message.blocks.extend(
            ToolCallBlock(tool_call_id=call_id or None, tool_name=name, tool_kwargs=arguments)
            for call_id, name, arguments in self._calls.values()
        )
        return ChatResponse(
            message=message, delta=delta.text or "", raw=raw, additional_kwargs=extra
        )
