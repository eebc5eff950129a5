"""Fit sampling parameters to a model's fixed values before any request is sent."""

from __future__ import annotations

from typing import Any, Literal

from kimi_core.profiles import ModelProfile

__all__ = ["SAMPLING_PARAMS", "SamplingPolicy", "check_sampling", "fit_sampling"]

SAMPLING_PARAMS = ("temperature", "top_p", "n", "presence_penalty", "frequency_penalty")

SamplingPolicy = Literal["omit", "error"]
"""What to do with a sampling value the model cannot take (its sampling is fixed).

``"omit"`` leaves the value out of the request, so the server applies the model's own fixed
value (and the change is reported); ``"error"`` raises ``ValueError`` before any request.
"""


def fit_sampling(
    profile: ModelProfile,
    thinking_on: bool,
    policy: SamplingPolicy = "omit",
    *,
    enforce_fixed: bool = True,
    **params: Any,
) -> tuple[dict[str, Any], list[str]]:
    """Validate sampling parameters; return those to send and a note per value left out.

    Parameters left as None are omitted (the server then applies its own, correct value). On a
    model with fixed sampling, another value is left out under ``policy="omit"``: apps written
    for several providers set ``temperature=0`` out of habit, and the fixed value is what the
    model runs with anyway. ``n`` is never left out: dropping it would silently return fewer
    answers than asked for.

    Args:
        profile: The model's profile.
        thinking_on: The effective thinking state (the fixed temperature depends on it).
        policy: ``"omit"`` or ``"error"`` for values the model cannot take.
        enforce_fixed: Refuse values other than the model's fixed ones (False on endpoints that
            do not enforce them, where the server uses what is sent).
        **params: ``temperature``, ``top_p``, ``n``, ``presence_penalty``, ``frequency_penalty``.

    Returns:
        The parameters to put in the body, and one note per value left out.

    Raises:
        ValueError: A value of the wrong type, an unknown parameter name, an unknown policy,
            or (``policy="error"``, or ``n``) a value the model would reject.
    """
    unknown = set(params) - set(SAMPLING_PARAMS)
    if unknown:
        raise ValueError(f"unknown sampling parameter(s): {', '.join(sorted(unknown))}")
    if policy not in ("omit", "error"):
        raise ValueError(f"sampling_policy must be 'omit' or 'error', got {policy!r}.")
    fixed = profile.fixed_sampling(thinking_on) if enforce_fixed else None
    out: dict[str, Any] = {}
    notes: list[str] = []
    for name in SAMPLING_PARAMS:
        value = params.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number, got {type(value).__name__}.")
        if name == "n" and (not float(value).is_integer() or value < 1):
            raise ValueError(f"n must be a positive integer, got {value!r}.")
        if fixed is not None:
            allowed = getattr(fixed, name)
            if float(value) != float(allowed):
                state = "with thinking on" if thinking_on else "with thinking off"
                problem = f"{profile.id} only accepts {name}={allowed:g} {state}"
                if policy == "error" or name == "n":
                    raise ValueError(
                        f"{problem} (the server rejects any other value); leave {name} unset "
                        "to use the model's fixed value."
                    )
                notes.append(
                    f"{problem}; {name}={value!r} is left out of the request, so the model "
                    "uses its fixed value (sampling_policy='omit'; 'error' raises instead)."
                )
                continue
        out[name] = int(value) if name == "n" else value
    return out, notes


def check_sampling(profile: ModelProfile, thinking_on: bool, **params: Any) -> dict[str, Any]:
    """Validate sampling parameters strictly and return those to send.

    :func:`fit_sampling` with ``policy="error"``: a value other than a fixed one raises instead
    of causing a 400.

    Args:
        profile: The model's profile.
        thinking_on: The effective thinking state (the fixed temperature depends on it).
        **params: ``temperature``, ``top_p``, ``n``, ``presence_penalty``, ``frequency_penalty``.

    Returns:
        The parameters that were set, ready to put in the body.

    Raises:
        ValueError: A value the model would reject, or an unknown parameter name.
    """
    sent, _ = fit_sampling(profile, thinking_on, "error", **params)
    return sent
