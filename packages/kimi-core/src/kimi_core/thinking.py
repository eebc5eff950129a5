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
        effort: The ``reasoning_effort`` sent, when any.
        wire: Top-level body fields to add (``thinking`` and/or ``reasoning_effort``).
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
        _check_effort(profile, thinking, reasoning_effort)
        wire["reasoning_effort"] = reasoning_effort

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
        # Sent as nothing: k2.7-code only accepts {"type": "enabled"} and K3 has no thinking field.
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
        thinking_obj: dict[str, Any] = {"type": "enabled" if enabled else "disabled"}
        if preserve_thinking:
            thinking_obj["keep"] = "all"
        wire["thinking"] = thinking_obj
    keep = enabled and (preserve_thinking or profile.keep_always)
    return ThinkingState(enabled=enabled, keep=keep, effort=reasoning_effort, wire=wire)


def _check_effort(profile: ModelProfile, thinking: bool | None, reasoning_effort: str) -> None:
    model = profile.id
    if reasoning_effort not in profile.effort_levels:
        if profile.effort_levels:
            allowed = ", ".join(repr(level) for level in profile.effort_levels)
            raise ValueError(
                f"reasoning_effort={reasoning_effort!r} is not valid for {model}; "
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
