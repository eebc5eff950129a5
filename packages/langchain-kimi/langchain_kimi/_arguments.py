"""Constructor arguments the LangChain way: unknown ones move into `model_kwargs`, typos raise.

LangChain's partner models (`ChatOpenAI`, `ChatAnthropic`) move an argument they do not know into
`model_kwargs` with a warning, so a provider field the class has no knob for still reaches the
API. A close misspelling of one of the class's own fields (`max_token`, `thinkng`) is a mistake
rather than a provider field, and is refused with the name it resembles.
"""

from __future__ import annotations

import difflib
import warnings
from typing import Any

from pydantic import BaseModel

__all__ = ["field_names", "move_unknown_arguments"]

# A ratio of at least this is a misspelling (max_token/max_tokens: 0.95, thinkng/thinking: 0.93);
# below it, a field of another provider (top_k beside top_p: 0.8) goes to model_kwargs.
_TYPO_CUTOFF = 0.85


def field_names(cls: type[BaseModel]) -> set[str]:
    """The names a pydantic model accepts as arguments: its fields and their aliases."""
    names = set(cls.model_fields)
    names.update(f.alias for f in cls.model_fields.values() if f.alias is not None)
    return names


def move_unknown_arguments(values: dict[str, Any], known: set[str], owner: str) -> dict[str, Any]:
    """Move unknown constructor arguments into `values["model_kwargs"]`.

    Args:
        values: The raw constructor arguments.
        known: The argument names the class accepts (`field_names`).
        owner: The class name, for messages.

    Returns:
        The arguments, with unknown ones moved into `model_kwargs` (with a warning each).

    Raises:
        ValueError: An argument is a close misspelling of a known one, an argument is given
            both directly and in `model_kwargs`, or `model_kwargs` sets one of the class's own
            fields (which must be passed as arguments, where they are checked).
    """
    extra = dict(values.get("model_kwargs") or {})
    explicit = [name for name in extra if name in known]
    if explicit:
        fixes = "; ".join(f"{name!r}: use {name}" for name in explicit)
        msg = (
            f"model_kwargs may not set fields {owner} builds itself ({fixes}); pass them as "
            "arguments, where they are checked."
        )
        raise ValueError(msg)
    moved = {}
    for name in list(values):
        if name in known:
            continue
        if close := difflib.get_close_matches(name, sorted(known), n=1, cutoff=_TYPO_CUTOFF):
            msg = f"{owner} got an unknown argument {name!r}: did you mean `{close[0]}`?"
            raise ValueError(msg)
        if name in extra:
            msg = f"{name!r} was given both as an argument and in model_kwargs; give it once."
            raise ValueError(msg)
        moved[name] = values.pop(name)
    for name in moved:
        warnings.warn(
            f"{name!r} is not a {owner} parameter; it was moved into model_kwargs and is sent in "
            "the request body as given. Check that this is what you intended.",
            UserWarning,
            stacklevel=4,
        )
    if moved:
        values["model_kwargs"] = {**extra, **moved}
    return values
