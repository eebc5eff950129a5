"""Check sampling parameters against a model's fixed values before any request is sent."""

from __future__ import annotations

from typing import Any

from kimi_core.profiles import ModelProfile

__all__ = ["SAMPLING_PARAMS", "check_sampling"]

SAMPLING_PARAMS = ("temperature", "top_p", "n", "presence_penalty", "frequency_penalty")


def check_sampling(
    profile: ModelProfile, thinking_on: bool, *, enforce_fixed: bool = True, **params: Any
) -> dict[str, Any]:
    """Validate sampling parameters and return those to send.

    Parameters left as None are omitted (the server then applies its own, correct value). On models
    with fixed sampling, a value other than the fixed one raises instead of causing a 400.

    Args:
        profile: The model's profile.
        thinking_on: The effective thinking state (the fixed temperature depends on it).
        enforce_fixed: Refuse values other than the model's fixed ones (False on endpoints that
            do not enforce them, where the server uses what is sent).
        **params: ``temperature``, ``top_p``, ``n``, ``presence_penalty``, ``frequency_penalty``.

    Returns:
        The parameters that were set, ready to put in the body.

    Raises:
        ValueError: A value the model would reject, or an unknown parameter name.
    """
    unknown = set(params) - set(SAMPLING_PARAMS)
    if unknown:
        raise ValueError(f"unknown sampling parameter(s): {', '.join(sorted(unknown))}")
    fixed = profile.fixed_sampling(thinking_on) if enforce_fixed else None
    out: dict[str, Any] = {}
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
                raise ValueError(
                    f"{profile.id} only accepts {name}={allowed:g} {state} (the server rejects "
                    f"any other value); leave {name} unset to use the model's fixed value."
                )
        out[name] = int(value) if name == "n" else value
    return out
