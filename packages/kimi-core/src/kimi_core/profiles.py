"""Per-model capability facts, as data: the client's belief about each Kimi model.

Every Kimi rule that depends on the model reads a field of :class:`ModelProfile`; nothing in
kimi-core (or the framework packages) branches on the model name. Facts and their sources are in
``shared/reference/kimi-api.md`` sections 1, 2 and 7. This table is independent of the emulator's
server-side table on purpose: a wrong fact on either side shows up as a failing test.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any, Literal, Protocol

__all__ = [
    "EFFORT_LEVELS",
    "PROFILES",
    "EffortField",
    "FixedSampling",
    "ModelProfile",
    "ThinkingForm",
    "ToolChoiceRules",
    "arefresh_profiles_from_models",
    "get_profile",
    "profile_from_model_info",
    "refresh_profiles_from_models",
    "register_profiles",
    "reset_profiles",
]

ThinkingForm = Literal["none", "toggle", "always", "effort"]
"""How a model exposes thinking: none, a ``thinking`` on/off switch, always on, or effort levels."""

EffortField = Literal["reasoning_effort", "thinking.effort"]
"""Where a model reads the reasoning effort: top-level ``reasoning_effort`` or ``thinking.effort``.

On K3-family models ``thinking.effort``, when present, wins and ``reasoning_effort`` is ignored
(kimi-api.md 13.1), so the client only ever sends one of them.
"""


@dataclass(frozen=True, slots=True)
class FixedSampling:
    """Sampling values a model accepts in one thinking state; any other value is a 400."""

    temperature: float = 1.0
    top_p: float = 0.95
    n: int = 1
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0


@dataclass(frozen=True, slots=True)
class ToolChoiceRules:
    """Which forced ``tool_choice`` values a model accepts in one thinking state."""

    required: bool = True
    named: bool = True


_THINKING_ON = FixedSampling(temperature=1.0)
_THINKING_OFF = FixedSampling(temperature=0.6)
_ANY_CHOICE = ToolChoiceRules(required=True, named=True)
_NO_FORCED_CHOICE = ToolChoiceRules(required=False, named=False)
_REQUIRED_ONLY = ToolChoiceRules(required=True, named=False)
EFFORT_LEVELS = ("low", "high", "max")


@dataclass(frozen=True)
class ModelProfile:
    """What the client believes about one model.

    Attributes:
        id: The model id sent on the wire.
        context_window: Prompt plus completion tokens the model accepts.
        max_output_tokens: Largest ``max_tokens`` the client lets through.
        default_max_tokens: The server's default completion limit, when documented.
        image_input: Accepts ``image_url`` parts.
        video_input: Accepts ``video_url`` parts.
        thinking_form: How thinking is controlled (see :data:`ThinkingForm`).
        thinking_default: Whether the model thinks when the user says nothing.
        accepts_keep: Accepts ``thinking.keep = "all"`` (preserved thinking) on request.
        keep_always: Preserved thinking is always on: every assistant turn needs its reasoning back.
        effort_levels: Accepted ``reasoning_effort`` values (empty: the parameter is not supported).
        default_effort: The server's default ``reasoning_effort``.
        effort_field: Where the effort is sent (see :data:`EffortField`); only one of the two.
        fixed_sampling_thinking: Fixed sampling values while thinking (None: free sampling).
        fixed_sampling_plain: Fixed sampling values with thinking off (None: free sampling).
        tool_choice_thinking: Forced ``tool_choice`` rules while thinking.
        tool_choice_plain: Forced ``tool_choice`` rules with thinking off.
        structured_output: Accepts ``response_format`` ``json_schema``.
        json_mode: Accepts ``response_format`` ``json_object``.
        web_search: Accepts the builtin ``$web_search`` tool.
        web_search_with_thinking: ``$web_search`` may be combined with thinking on.
        dynamic_tools: Accepts tools declared mid-conversation on a system message (K3).
        batch_api: Served by the Batch API (``/v1/batches``; kimi-api.md 10 and 13.5).
        retired_on: The date the service stopped serving the model (404 after it).
        replacement: The model to use instead once retired.
        known: False for the permissive profile given to ids the table does not list.
    """

    id: str
    context_window: int = 262_144
    max_output_tokens: int = 262_144
    default_max_tokens: int | None = None
    image_input: bool = False
    video_input: bool = False
    thinking_form: ThinkingForm = "none"
    thinking_default: bool = False
    accepts_keep: bool = False
    keep_always: bool = False
    effort_levels: tuple[str, ...] = ()
    default_effort: str | None = None
    effort_field: EffortField = "reasoning_effort"
    fixed_sampling_thinking: FixedSampling | None = None
    fixed_sampling_plain: FixedSampling | None = None
    tool_choice_thinking: ToolChoiceRules = _ANY_CHOICE
    tool_choice_plain: ToolChoiceRules = _ANY_CHOICE
    structured_output: bool = False
    json_mode: bool = True
    web_search: bool = True
    web_search_with_thinking: bool = True
    dynamic_tools: bool = False
    batch_api: bool = False
    retired_on: date | None = None
    replacement: str | None = None
    known: bool = True
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def fixed_sampling(self, thinking_on: bool) -> FixedSampling | None:
        """The fixed sampling values for a thinking state, or None when sampling is free."""
        return self.fixed_sampling_thinking if thinking_on else self.fixed_sampling_plain

    def tool_choice_rules(self, thinking_on: bool) -> ToolChoiceRules:
        """The forced ``tool_choice`` rules for a thinking state."""
        return self.tool_choice_thinking if thinking_on else self.tool_choice_plain

    @property
    def thinking_capable(self) -> bool:
        """Whether the model can think at all."""
        return self.thinking_form != "none"


_K26 = ModelProfile(
    id="kimi-k2.6",
    default_max_tokens=32_768,
    image_input=True,
    video_input=True,
    thinking_form="toggle",
    thinking_default=True,
    accepts_keep=True,
    fixed_sampling_thinking=_THINKING_ON,
    fixed_sampling_plain=_THINKING_OFF,
    tool_choice_thinking=_NO_FORCED_CHOICE,
    # CONFLICT in the docs for thinking off; third-party probes saw 200, so allowed.
    tool_choice_plain=_ANY_CHOICE,
    structured_output=True,
    # CONFLICT: /docs/guide/use-web-search (2026-08-13) allows it with thinking on; followed.
    web_search_with_thinking=True,
    # The Aug-2026 batch guide lists k2.6 and k2.5 only; K3 batch support was not found (13.5).
    batch_api=True,
)
_K27 = ModelProfile(
    id="kimi-k2.7-code",
    default_max_tokens=32_768,
    image_input=True,
    video_input=True,
    thinking_form="always",
    thinking_default=True,
    accepts_keep=True,
    keep_always=True,
    fixed_sampling_thinking=_THINKING_ON,
    fixed_sampling_plain=_THINKING_ON,
    tool_choice_thinking=_NO_FORCED_CHOICE,
    tool_choice_plain=_NO_FORCED_CHOICE,
    structured_output=True,
)
_K3 = ModelProfile(
    id="kimi-k3",
    context_window=1_048_576,
    max_output_tokens=1_048_576,
    default_max_tokens=131_072,
    image_input=True,
    video_input=True,
    thinking_form="effort",
    thinking_default=True,
    keep_always=True,
    effort_levels=EFFORT_LEVELS,
    default_effort="max",
    dynamic_tools=True,
    fixed_sampling_thinking=_THINKING_ON,
    fixed_sampling_plain=_THINKING_ON,
    tool_choice_thinking=_REQUIRED_ONLY,
    tool_choice_plain=_REQUIRED_ONLY,
    structured_output=True,
)
# GA 2026-10-23 (kimi-api.md 13.3): 1M context, always thinking, reasoning_effort. Output limits
# and sampling are not published apart from K3's; taken from kimi-k3 (13.3 "presumably as K3").
_K31_PRO = dataclasses.replace(_K3, id="kimi-k3.1-pro")
_K25 = dataclasses.replace(
    _K26,
    id="kimi-k2.5",
    accepts_keep=False,
    web_search_with_thinking=False,
    retired_on=date(2026, 8, 31),
    replacement="kimi-k2.6",
)
_LEGACY_K2 = ModelProfile(
    id="kimi-k2-0905-preview",
    default_max_tokens=1024,
    tool_choice_thinking=_NO_FORCED_CHOICE,
    tool_choice_plain=_NO_FORCED_CHOICE,
    retired_on=date(2026, 5, 25),
    replacement="kimi-k2.6",
)
_K2_THINKING = dataclasses.replace(
    _LEGACY_K2,
    id="kimi-k2-thinking",
    thinking_form="always",
    thinking_default=True,
    web_search_with_thinking=False,
)
_V1 = ModelProfile(
    id="moonshot-v1-8k",
    context_window=8_192,
    max_output_tokens=8_192,
    default_max_tokens=1024,
    structured_output=True,
    tool_choice_thinking=_NO_FORCED_CHOICE,
    tool_choice_plain=_NO_FORCED_CHOICE,
    retired_on=date(2026, 8, 31),
    replacement="kimi-k2.6",
)


def _variants() -> dict[str, ModelProfile]:
    table = [
        _K26,
        _K27,
        dataclasses.replace(_K27, id="kimi-k2.7-code-highspeed"),
        _K3,
        _K31_PRO,
        dataclasses.replace(_K31_PRO, id="kimi-k3.1-pro-highspeed"),
        _K25,
        _K2_THINKING,
        dataclasses.replace(_K2_THINKING, id="kimi-k2-thinking-turbo"),
        _LEGACY_K2,
        dataclasses.replace(_LEGACY_K2, id="kimi-k2-turbo-preview"),
        dataclasses.replace(
            _LEGACY_K2, id="kimi-k2-0711-preview", context_window=131_072, max_output_tokens=131_072
        ),
        dataclasses.replace(
            _LEGACY_K2,
            id="kimi-latest",
            context_window=131_072,
            max_output_tokens=131_072,
            image_input=True,
            retired_on=date(2026, 1, 28),
        ),
        dataclasses.replace(
            _K2_THINKING, id="kimi-thinking-preview", retired_on=date(2025, 11, 11)
        ),
        _V1,
        dataclasses.replace(
            _V1, id="moonshot-v1-32k", context_window=32_768, max_output_tokens=32_768
        ),
        dataclasses.replace(
            _V1, id="moonshot-v1-128k", context_window=131_072, max_output_tokens=131_072
        ),
        dataclasses.replace(
            _V1, id="moonshot-v1-auto", context_window=131_072, max_output_tokens=131_072
        ),
    ]
    for size, window in (("8k", 8_192), ("32k", 32_768), ("128k", 131_072)):
        table.append(
            dataclasses.replace(
                _V1,
                id=f"moonshot-v1-{size}-vision-preview",
                context_window=window,
                max_output_tokens=window,
                image_input=True,
            )
        )
    return {p.id: p for p in table}


PROFILES: Mapping[str, ModelProfile] = MappingProxyType(_variants())
"""Every model the client knows, by id (current and retired)."""

# A proxy or self-hosted model: let every knob through and let the server decide.
_PERMISSIVE = ModelProfile(
    id="",
    image_input=True,
    video_input=True,
    thinking_form="toggle",
    thinking_default=False,
    accepts_keep=True,
    effort_levels=EFFORT_LEVELS,
    structured_output=True,
    dynamic_tools=True,
    known=False,
)

# Families whose future ids share their facts (kimi-api.md 1.2: an unknown ``kimi-k3*`` is K3).
_FAMILIES: tuple[tuple[str, ModelProfile], ...] = (("kimi-k3", _K3),)

_overrides: dict[str, ModelProfile] = {}


def get_profile(model: str) -> ModelProfile:
    """The profile for a model id; never raises.

    Unknown ids of a known family (``kimi-k3*``, e.g. ``kimi-k3.2``) get the family's facts with
    ``known=False``; any other unknown id (a proxy, a self-hosted model) gets permissive defaults.

    Args:
        model: The model id as sent on the wire.

    Returns:
        The matching :class:`ModelProfile`.
    """
    found = _overrides.get(model) or PROFILES.get(model)
    if found is not None:
        return found
    for prefix, family in _FAMILIES:
        if model.startswith(prefix):
            return dataclasses.replace(family, id=model, known=False)
    return dataclasses.replace(_PERMISSIVE, id=model)


def profile_from_model_info(info: Mapping[str, Any]) -> ModelProfile:
    """Merge one ``GET /v1/models`` item into the table's profile for that id.

    The server's ``context_length``, ``supports_image_in``, ``supports_video_in`` and
    ``supports_reasoning`` win over the table; every other fact stays as the table has it.

    Args:
        info: One item of the ``data`` list returned by ``GET /v1/models``.

    Returns:
        The merged profile.
    """
    model_id = str(info.get("id", ""))
    base = get_profile(model_id)
    changes: dict[str, Any] = {"extra": dict(info)}
    context = info.get("context_length")
    if isinstance(context, int) and context > 0:
        changes["context_window"] = context
        changes["max_output_tokens"] = min(base.max_output_tokens, context)
    for key, attr in (("supports_image_in", "image_input"), ("supports_video_in", "video_input")):
        if isinstance(info.get(key), bool):
            changes[attr] = info[key]
    if (
        info.get("supports_reasoning") is False
        and base.thinking_form == "toggle"
        and not base.known
    ):
        changes["thinking_form"] = "none"
    return dataclasses.replace(base, **changes)


def register_profiles(profiles: list[ModelProfile]) -> None:
    """Install profiles (e.g. from :func:`profile_from_model_info`) that win over the table."""
    for profile in profiles:
        _overrides[profile.id] = profile


class _ModelLister(Protocol):
    def list_models(self) -> list[dict[str, Any]]: ...


class _AsyncModelLister(Protocol):
    async def alist_models(self) -> list[dict[str, Any]]: ...


def reset_profiles() -> None:
    """Forget every profile installed by :func:`register_profiles` (back to the built-in table)."""
    _overrides.clear()


def refresh_profiles_from_models(client: _ModelLister) -> list[ModelProfile]:
    """Fetch ``GET /v1/models`` and install the merged profiles (:func:`profile_from_model_info`).

    Args:
        client: A :class:`~kimi_core.client.KimiClient` (anything with ``list_models()``).

    Returns:
        The installed profiles.
    """
    profiles = [profile_from_model_info(info) for info in client.list_models()]
    register_profiles(profiles)
    return profiles


async def arefresh_profiles_from_models(client: _AsyncModelLister) -> list[ModelProfile]:
    """Async :func:`refresh_profiles_from_models`."""
    profiles = [profile_from_model_info(info) for info in await client.alist_models()]
    register_profiles(profiles)
    return profiles
