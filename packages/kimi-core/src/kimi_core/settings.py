"""The settings vocabulary: the names of ``ChatSettings`` and per-call overrides of them.

Both framework adapters take every setting under the same name, at construction and per call.
They learn the names here and apply per-call values with :func:`apply_overrides`, so a new
``ChatSettings`` field reaches both without a hand-kept list in either.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from typing import Any

from kimi_core.request import ChatSettings

__all__ = ["SETTING_NAMES", "apply_overrides", "closest_setting"]

SETTING_NAMES: tuple[str, ...] = tuple(field.name for field in dataclasses.fields(ChatSettings))
"""Every ``ChatSettings`` field, in declaration order: the adapters' shared vocabulary."""

# max_token/max_tokens 0.95, thinkng/thinking 0.93; top_k beside top_p (0.8) is not a misspelling.
_TYPO_CUTOFF = 0.85


def closest_setting(name: str) -> str | None:
    """The setting ``name`` is a likely misspelling of, or None.

    Args:
        name: An argument name that is not a setting.

    Returns:
        The closest setting name, when it is close enough to be a typo.
    """
    close = difflib.get_close_matches(name, SETTING_NAMES, n=1, cutoff=_TYPO_CUTOFF)
    return close[0] if close else None


def apply_overrides(settings: ChatSettings, overrides: Mapping[str, Any]) -> ChatSettings:
    """Apply per-call values to ``settings``; nothing is sent, the request build checks them.

    ``extra_body`` is merged into the settings' own (a per-call field wins), so fields set at
    construction are kept.

    Args:
        settings: The model's settings.
        overrides: Per-call values by setting name.

    Returns:
        The settings of the call (``settings`` itself when there is nothing to apply).

    Raises:
        TypeError: A name that is not a setting (as for an unexpected keyword argument), with
            the setting it resembles.
    """
    unknown = [name for name in overrides if name not in SETTING_NAMES]
    if unknown:
        hints = []
        for name in unknown:
            close = closest_setting(name)
            hints.append(f"{name!r} (did you mean {close!r}?)" if close else repr(name))
        raise TypeError(
            f"unknown per-call setting(s) {', '.join(hints)}; the settings are: "
            f"{', '.join(SETTING_NAMES)}."
        )
    if not overrides:
        return settings
    values = dict(overrides)
    if "extra_body" in values and settings.extra_body:
        values["extra_body"] = {**settings.extra_body, **(values["extra_body"] or {})}
    return dataclasses.replace(settings, **values)
