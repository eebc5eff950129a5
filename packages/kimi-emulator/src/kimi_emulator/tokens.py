"""A deterministic, cheap token estimate shared by usage, limits and the estimate endpoint.

Not a real tokenizer: roughly one token per word piece of up to four characters, which is close
enough in scale for limits and usage, and stable across runs so tests can rely on it.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["IMAGE_TOKENS", "VIDEO_TOKENS", "count_messages", "count_text", "split_tokens"]

_PIECE = re.compile(r"\s*[^\s]{1,4}|\s+$")
IMAGE_TOKENS = 256
VIDEO_TOKENS = 1024
_MESSAGE_OVERHEAD = 4


def split_tokens(text: str) -> list[str]:
    """The text cut into its token pieces; joining them gives the text back."""
    return _PIECE.findall(text)


def count_text(text: str) -> int:
    """Number of token pieces in ``text``."""
    return len(_PIECE.findall(text))


def _count_content(content: Any) -> int:
    if isinstance(content, str):
        return count_text(content)
    if isinstance(content, list):
        total = 0
        for part in content:
            if not isinstance(part, dict):
                continue
            kind = part.get("type")
            if kind == "text":
                total += count_text(str(part.get("text", "")))
            elif kind == "image_url":
                total += IMAGE_TOKENS
            elif kind == "video_url":
                total += VIDEO_TOKENS
        return total
    return 0


def count_messages(messages: list[Any], tools: list[Any] | None = None) -> int:
    """Prompt tokens for a message list (plus declared tools, which the model also reads)."""
    total = 0
    for message in messages:
        if not isinstance(message, dict):
            continue
        total += _MESSAGE_OVERHEAD + _count_content(message.get("content"))
        reasoning = message.get("reasoning_content")
        if isinstance(reasoning, str):
            total += count_text(reasoning)
        for call in message.get("tool_calls") or []:
            if isinstance(call, dict):
                total += count_text(json.dumps(call.get("function", {})))
        if isinstance(message.get("tools"), list):  # dynamic tools on a system message
            total += count_text(json.dumps(message["tools"]))
    if tools:
        total += count_text(json.dumps(tools))
    return total
