"""``stop`` sequences: the answer ends where one first matches, the match itself left out.

The reference gives only the limits (kimi-api.md 7: a string or at most 5 strings of at most 32
bytes); the cut follows Moonshot's /docs/api/chat wording ("halt the output when a full match is
found; the matched words themselves will not be output") and the OpenAI semantics the API mirrors.
Only the answer (``content``) is cut: whether a stop sequence can end the reasoning is not
documented, so the reasoning is left whole.
"""

from __future__ import annotations

from typing import Any

__all__ = ["cut_at_stop", "stop_sequences"]


def stop_sequences(body: dict[str, Any]) -> list[str]:
    """The request's stop sequences (already validated), empty strings left out."""
    stop = body.get("stop")
    items = [stop] if isinstance(stop, str) else stop if isinstance(stop, list) else []
    return [item for item in items if isinstance(item, str) and item]


def cut_at_stop(pieces: list[str], stops: list[str]) -> tuple[list[str], bool]:
    """``pieces`` up to (not including) the earliest match of any of ``stops``: (kept, cut?).

    The pieces are matched as one text, so a sequence split across two stream pieces still ends
    the answer; the pieces before the match keep their boundaries.
    """
    text = "".join(pieces)
    found = [index for stop in stops if (index := text.find(stop)) >= 0]
    if not found:
        return pieces, False
    remaining = min(found)
    kept: list[str] = []
    for piece in pieces:
        if remaining <= 0:
            break
        kept.append(piece[:remaining])
        remaining -= len(piece)
    return kept, True
