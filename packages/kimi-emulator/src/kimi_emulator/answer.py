"""The online answer to a chat body: validation, script or brain, composition.

Shared by ``POST /v1/chat/completions`` and the Batch API, so that a batched line gets exactly the
answer the same request gets online.
"""

from __future__ import annotations

import json
from typing import Any

from kimi_emulator.brain import think
from kimi_emulator.completion import Completion, compose
from kimi_emulator.dialects import dialect
from kimi_emulator.effort import apply_effort
from kimi_emulator.script import Reply
from kimi_emulator.state import EmulatorState
from kimi_emulator.validate import ChatRequest, validate_chat

__all__ = ["answer"]


def answer(
    state: EmulatorState,
    body: Any,
    last_text: str,
    *,
    size: tuple[int | None, int | None] = (None, None),
) -> tuple[ChatRequest, Completion]:
    """Validate ``body`` and compose its completion (a scripted reply first, else the brain).

    Args:
        state: The server state (config, files, script queue, search registry, prompt cache).
        body: The decoded request body.
        last_text: The text of the last message, which scripted replies are matched on.
        size: ``(reasoning, content)`` chunk counts asked for by the size header.

    Raises:
        ApiError: The 4xx the real service would answer.
    """
    chat = validate_chat(dialect(state.config.dialect).request(body), state.config, state.files)
    scripted = state.take(last_text, faults=False)
    reply = (
        scripted
        if isinstance(scripted, Reply)
        else apply_effort(think(chat, state.search_query, state.config.web_search_tokens), chat)
    )
    for call in reply.tool_calls or []:
        if call.name == "$web_search":
            search_id = json.loads(call.arguments_json()).get("search_result", {}).get("search_id")
            if search_id:
                state.remember_search(str(search_id), reply.search_query or chat.last_text)
    completion = compose(
        chat,
        reply,
        created=int(state.config.now().timestamp()),
        cached_tokens=state.cached_tokens(chat.messages),
        size=size,
    )
    return chat, completion
