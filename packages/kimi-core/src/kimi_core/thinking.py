"""Map the user-facing thinking knobs onto the wire, per model profile."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kimi_core.profiles import ModelProfile

__all__ = ["ThinkingState", "resolve_thinking"]


@dataclass(frozen=True, slots=True)
class ThinkingState:
    """The effective thinking state of one request.

    Attributes:
        enabled: Whether the model thinks in this request.
        keep: Whether earlier reasoning is preserved (every assistant turn needs it back).
        effort: The reasoning effort sent, when any.
        wire: Top-level body fields to add: ``thinking`` and/or ``reasoning_effort``, never an
            effort in both places (see :data:`~kimi_core.profiles.EffortField`).
    """

    enabled: bool
    keep: bool
    effort: str | None = None
    wire: dict[str, Any] = field(default_factory=dict)


def resolve_thinking(
    profile: ModelProfile,
    thinking: bool | None = None,
    preserve_thinking: bool = False,
    reasoning_effort: str | None = None,
) -> ThinkingState:
    """Resolve ``thinking`` / ``preserve_thinking`` / ``reasoning_effort`` for one model.

    Args:
        profile: The model's profile.
        thinking: True/False to switch thinking, None for the model's default.
        preserve_thinking: Ask the server to keep earlier turns' reasoning (wire ``keep: "all"``).
        reasoning_effort: ``"low"``, ``"high"`` or ``"max"`` on models with effort levels (K3).

    Returns:
        The effective state and the wire fields that express it.

    Raises:
        ValueError: The combination is impossible for this model; the message says what is allowed.
    """
    if thinking is not None and not isinstance(thinking, bool):
        raise TypeError(f"thinking must be True, False or None, got {thinking!r}")
    if not isinstance(preserve_thinking, bool):
        raise TypeError(f"preserve_thinking must be a bool, got {preserve_thinking!r}")
    model = profile.id
    form = profile.thinking_form
    wire: dict[str, Any] = {}

    if reasoning_effort is not None:
        wire.update(_effort_wire(profile, thinking, reasoning_effort))

    if form == "none":
        if thinking:
            raise ValueError(f"{model} does not support thinking; leave thinking unset or False.")
        if preserve_thinking:
            raise ValueError(
                f"{model} does not support thinking, so preserve_thinking must be False."
            )
        return ThinkingState(enabled=False, keep=False, effort=reasoning_effort, wire=wire)

    if form in ("always", "effort"):
        if thinking is False:
            hint = (
                "use reasoning_effort='low' for the shallowest reasoning"
                if form == "effort"
                else "leave thinking unset or True"
            )
            raise ValueError(f"{model} always thinks and cannot disable it; {hint}.")
        if preserve_thinking and not (profile.accepts_keep or profile.keep_always):
            raise ValueError(f"{model} does not support preserve_thinking; leave it False.")
        # No thinking object: k2.7-code only accepts {"type": "enabled"}, and on K3 an omitted
        # object means enabled with keep "all" (13.1); the effort goes where the profile says.
        keep = profile.keep_always or preserve_thinking
        return ThinkingState(enabled=True, keep=keep, effort=reasoning_effort, wire=wire)

    # toggle
    enabled = profile.thinking_default if thinking is None else thinking
    if preserve_thinking:
        if not profile.accepts_keep:
            raise ValueError(
                f"{model} does not accept preserve_thinking (thinking.keep); leave it False "
                f"or use a model that supports it, such as kimi-k2.6."
            )
        if not enabled:
            raise ValueError(
                f"preserve_thinking=True needs thinking on, but thinking is off for {model}; "
                f"set thinking=True or preserve_thinking=False."
            )
    if thinking is not None or preserve_thinking:
        wire["thinking"] = _switch(model, enabled, preserve_thinking, wire.get("thinking", {}))
    keep = enabled and (preserve_thinking or profile.keep_always)
    return ThinkingState(enabled=enabled, keep=keep, effort=reasoning_effort, wire=wire)


def _switch(
    model: str, enabled: bool, preserve_thinking: bool, effort: dict[str, Any]
) -> dict[str, Any]:
    """The ``thinking`` object of a toggle model, with the effort inside when it goes there."""
    if not enabled and effort:
        raise ValueError(
            f"reasoning_effort={effort['effort']!r} needs thinking on, but thinking=False for "
            f"{model}; drop one of them."
        )
    switch: dict[str, Any] = {"type": "enabled" if enabled else "disabled"}
    if preserve_thinking:
        switch["keep"] = "all"
    return {**switch, **effort}


def _effort_wire(profile: ModelProfile, thinking: bool | None, effort: str) -> dict[str, Any]:
    """The effort in the one field the profile names: never in both (kimi-api.md 13.1)."""
    _check_effort(profile, thinking, effort)
    if profile.effort_field == "thinking.effort":
        return {"thinking": {"effort": effort}}  # an omitted type means enabled
    return {"reasoning_effort": effort}


# Levels other providers use that Kimi refuses (kimi-api.md 13.1), and the closest Kimi level.
_FOREIGN_EFFORTS = {"none": "low", "minimal": "low", "medium": "high", "xhigh": "max"}


def _check_effort(profile: ModelProfile, thinking: bool | None, reasoning_effort: str) -> None:
    model = profile.id
    if not isinstance(reasoning_effort, str):
        # The API answers an object with 400 "the reasoning_effort field (expected type string)".
        raise TypeError(
            f"reasoning_effort must be a string such as 'high', got "
            f"{type(reasoning_effort).__name__}; pass the level itself, not an object."
        )
    if reasoning_effort not in profile.effort_levels:
        if profile.effort_levels:
            allowed = ", ".join(repr(level) for level in profile.effort_levels)
            closest = _FOREIGN_EFFORTS.get(reasoning_effort)
            hint = (
                f" ({reasoning_effort!r} is another provider's level; the closest is {closest!r})"
                if closest in profile.effort_levels
                else ""
            )
            raise ValueError(
                f"reasoning_effort={reasoning_effort!r} is not valid for {model}{hint}; "
                f"use one of {allowed} or None."
            )
        hint = (
            "use thinking=True/False instead."
            if profile.thinking_form == "toggle"
            else "leave it unset (None)."
        )
        raise ValueError(f"{model} does not support reasoning_effort; {hint}")
    if thinking is False and profile.thinking_form == "effort":
        raise ValueError(
            f"{model} always thinks, so thinking=False cannot be combined with "
            "reasoning_effort; use reasoning_effort='low' for the shallowest reasoning."
        )
