"""The keys a prompt asks a JSON answer to have ("... a JSON with 'setup' and 'punchline' keys").

``response_format: {"type": "json_object"}`` carries no schema: the model learns the shape from the
prompt. The default brain reads it the usual ways prompts state it: quoted names in a sentence
about keys, fields or properties, and quoted names followed by a colon as in an example object.
"""

from __future__ import annotations

import re

__all__ = ["asked_keys"]

_KEY_TALK = re.compile(r"\b(keys?|fields?|propert(?:y|ies)|attributes?)\b", re.IGNORECASE)
# Straight, typographic (\u201c \u201d \u2018 \u2019) and backtick quotes.
_OPEN, _CLOSE = "[\"'`\u201c\u2018]", "[\"'`\u201d\u2019]"
_QUOTED_NAME = re.compile(_OPEN + r"([A-Za-z_][\w\- ]{0,63})" + _CLOSE)
_EXAMPLE_KEY = re.compile(_OPEN + r"([A-Za-z_][\w\-]{0,63})" + _CLOSE + r"\s*:")


def asked_keys(prompt: str) -> list[str]:
    """The keys ``prompt`` asks for, in the order it names them (empty: it asks for none)."""
    keys = [m.group(1) for m in _EXAMPLE_KEY.finditer(prompt)]
    if _KEY_TALK.search(prompt):
        keys += [m.group(1) for m in _QUOTED_NAME.finditer(prompt)]
    return list(dict.fromkeys(keys))
