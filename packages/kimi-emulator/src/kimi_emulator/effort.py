"""K3 reasoning effort in the brain's answers (kimi-api.md 13.1).

Higher effort reasons longer (measured live: high about 400 reasoning tokens, max about 872), so
the brain's reasoning grows by a fixed step per level. The service puts the effective effort in
the model's system prompt, so a K3 model asked about its thinking effort can name it; the brain
does the same. Deterministic on purpose: an offline emulator can only meet these behaviours by
behaving that way every time.
"""

from __future__ import annotations

import re
from dataclasses import replace

from kimi_emulator.script import Reply
from kimi_emulator.validate import ChatRequest

__all__ = ["apply_effort"]

_EXTRA_STEPS = {"low": 0, "high": 1, "max": 2}
_STEPS = (
    "Let me check that once more before answering.",
    "Going over every step again from the start to be sure nothing is missed.",
)
_ASKED = re.compile(r"(?:thinking|reasoning)[_\s-]?effort", re.I)


def apply_effort(reply: Reply, request: ChatRequest) -> Reply:
    """``reply`` with reasoning as long as ``request.effort`` asks, naming it when asked."""
    if request.effort is None:
        return reply
    reasoning = reply.reasoning
    if reasoning:
        reasoning = " ".join([reasoning, *_STEPS[: _EXTRA_STEPS[request.effort]]])
    content = reply.content
    if (
        content
        and not reply.tool_calls
        and request.response_format is None
        and _ASKED.search(request.last_text)
    ):
        content = request.effort
    return replace(reply, reasoning=reasoning, content=content)
