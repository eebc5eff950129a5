"""The ``$web_search`` loop: echo builtin calls and ask again until the model answers.

The engine is transport-free: the client runs one round (sync, async, streaming or not), hands the
round's result to :meth:`WebSearchLoop.advance`, and sends :attr:`WebSearchLoop.body` again while it
returns True.
"""

from __future__ import annotations

from typing import Any

from kimi_core.convert import REASONING_PLACEHOLDER
from kimi_core.errors import WebSearchLoopError
from kimi_core.request import ChatRequest
from kimi_core.response import ChatResult, Usage, WebSearch

__all__ = ["WebSearchLoop"]


class WebSearchLoop:
    """State of one request's search rounds.

    Attributes:
        body: The body to send for the next round (the original body plus echoed rounds).
        searches: Every search echoed so far.
        usage: Usage summed over the rounds so far.
        new_searches: The searches echoed by the last :meth:`advance` call.
    """

    def __init__(self, request: ChatRequest) -> None:
        self._request = request
        self._max_rounds = request.settings.web_search_max_rounds
        self._rounds = 0
        self.body: dict[str, Any] = request.body
        self.searches: list[WebSearch] = []
        self.new_searches: list[WebSearch] = []
        self.usage: Usage | None = None
        # Reasoning of the rounds echoed so far: a stream shows it as it comes, so the final
        # result carries it too.
        self._reasoning: list[str] = []

    def advance(self, result: ChatResult) -> bool:
        """Take one round's result; True when the loop echoed searches and must ask again.

        Raises:
            WebSearchLoopError: The model kept searching beyond the round limit.
        """
        if result.usage is not None:
            self.usage = result.usage if self.usage is None else self.usage + result.usage
        self.new_searches = []
        if not self._request.web_search or not result.builtin_calls or result.tool_calls:
            return False
        if self._rounds >= self._max_rounds:
            raise WebSearchLoopError(
                f"the model was still calling $web_search after {self._max_rounds} rounds; raise "
                "ChatSettings.web_search_max_rounds or narrow the question.",
                request_id=result.request_id,
            )
        self._rounds += 1
        assistant: dict[str, Any] = {"role": "assistant"}
        if result.text.strip():
            assistant["content"] = result.text
        if result.reasoning or self._request.thinking.enabled:
            assistant["reasoning_content"] = result.reasoning or REASONING_PLACEHOLDER
        if result.reasoning:
            self._reasoning.append(result.reasoning)
        calls = result.builtin_calls
        assistant["tool_calls"] = [call.to_wire() for call in calls]
        echoes = [
            {"role": "tool", "tool_call_id": c.id, "name": c.name, "content": c.arguments}
            for c in calls
        ]
        self.body = {**self.body, "messages": [*self.body["messages"], assistant, *echoes]}
        self.new_searches = [WebSearch.from_call(c, self._rounds) for c in calls]
        self.searches.extend(self.new_searches)
        return True

    def finish(self, result: ChatResult) -> ChatResult:
        """Attach the summed usage, the searches and every round's reasoning to the final result.

        The reasoning is the rounds' reasoning joined in order, exactly as a stream delivers it.
        """
        result.usage = self.usage
        result.web_searches = list(self.searches)
        if self._reasoning:
            result.reasoning = "".join([*self._reasoning, result.reasoning or ""])
        return result
