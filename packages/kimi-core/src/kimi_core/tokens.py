"""The token estimate endpoint, fed with exactly the chat request's own wire messages."""

from __future__ import annotations

from typing import Any

from kimi_core.errors import MalformedResponseError
from kimi_core.request import ChatRequest

__all__ = ["ESTIMATE_PATH", "estimate_body", "total_tokens"]

ESTIMATE_PATH = "/tokenizers/estimate-token-count"


def estimate_body(request: ChatRequest) -> dict[str, Any]:
    """The ``POST /v1/tokenizers/estimate-token-count`` body for a built chat request.

    The endpoint takes ``model`` and ``messages`` only (no ``tools``); the messages are the ones the
    chat request would send, so the count follows the same conversion (reasoning, echoes, media).
    """
    return {"model": request.body["model"], "messages": request.body["messages"]}


def total_tokens(data: Any) -> int:
    """Read ``data.total_tokens`` from the endpoint's answer."""
    inner = data.get("data") if isinstance(data, dict) else None
    total = inner.get("total_tokens") if isinstance(inner, dict) else None
    if isinstance(total, bool) or not isinstance(total, int):
        raise MalformedResponseError("token estimate response has no data.total_tokens", body=data)
    return total
