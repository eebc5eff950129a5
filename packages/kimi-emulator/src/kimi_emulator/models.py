"""The emulator's own table of Kimi models: the server-side facts, written from the reference.

Independent of any client package on purpose: a wrong fact on one side must show up as a
failing test.
Source: kimi-api.md sections 1.1, 1.2, 2.1, 2.3, 6.1, 7 and 13.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

__all__ = ["MODELS", "FixedSampling", "ModelSpec", "ThinkingMode", "find_model"]

ThinkingMode = Literal["none", "optional", "always", "k3"]
"""How a model treats the ``thinking`` request field.

``none``: no thinking (field accepted and ignored); ``optional``: enabled by default, may be
disabled;
``always``: only ``type: enabled`` is allowed; ``k3``: always reasons, the field is accepted
and ignored.
"""

_SUNSET_2026_08_31 = datetime(2026, 8, 31, 16, 0, tzinfo=UTC)
_RETIRED_2026_05_25 = datetime(2026, 5, 25, tzinfo=UTC)


@dataclass(frozen=True)
class FixedSampling:
    """Sampling values a K-series model pins (kimi-api.md 2.3); any other value is a 400."""

    temperature_thinking: float = 1.0
    temperature_no_thinking: float = 0.6
    top_p: float = 0.95
    n: int = 1
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0


@dataclass(frozen=True)
class ModelSpec:
    """Everything the server knows about one model id."""

    id: str
    context_length: int
    image_in: bool
    video_in: bool
    thinking: ThinkingMode
    created: int
    keep_values: frozenset[str | None] = frozenset({None})
    fixed_sampling: FixedSampling | None = None
    default_max_tokens: int = 1024
    retired_at: datetime | None = None
    # k2.5/k2.6 treat reasoning_content "" on a tool-call message as missing (kimi-api.md 3).
    empty_reasoning_is_missing: bool = False
    # Whether the tool-call reasoning_content rule applies at all (a K3 probe without it
    # returned 200).
    requires_tool_call_reasoning: bool = False
    # tool_choice "required" / named function policy (kimi-api.md 7).
    required_tool_choice: Literal["ok", "reject_when_thinking", "reject"] = "ok"
    named_tool_choice: Literal["ok", "reject_when_thinking", "reject"] = "ok"
    # moonshot-v1 and other old models only support none/auto.
    legacy_tool_choice: bool = False
    # Live K3 recordings have uuid-style ids and no system_fingerprint; k2.x and v1 have hex
    # ids and one.
    uuid_ids: bool = False
    supports_reasoning_effort: bool = False
    # The K3 request contract of kimi-api.md 13.2 (tool_choice without tools, tool messages
    # without tool_call_id) and the K3 thinking object of 13.1 (effort, keep).
    k3_contract: bool = False

    @property
    def supports_reasoning(self) -> bool:
        """Whether the model can produce reasoning_content."""
        return self.thinking != "none"

    def available_at(self, when: datetime) -> bool:
        """Whether the model serves requests at ``when`` (released by then, not yet retired)."""
        released = self.created <= when.timestamp()
        return released and (self.retired_at is None or when < self.retired_at)


_K_SAMPLING = FixedSampling()
_K_ALWAYS_SAMPLING = FixedSampling(temperature_no_thinking=1.0)


def _v1(model_id: str, context: int, *, vision: bool, created: int) -> ModelSpec:
    return ModelSpec(
        id=model_id,
        context_length=context,
        image_in=vision,
        video_in=False,
        thinking="none",
        created=created,
        retired_at=_SUNSET_2026_08_31,
        legacy_tool_choice=True,
    )


_RETIRED: tuple[tuple[str, int, ThinkingMode, datetime], ...] = (
    ("kimi-k2-0711-preview", 131_072, "none", _RETIRED_2026_05_25),
    ("kimi-k2-0905-preview", 262_144, "none", _RETIRED_2026_05_25),
    ("kimi-k2-turbo-preview", 262_144, "none", _RETIRED_2026_05_25),
    ("kimi-k2-thinking", 262_144, "always", _RETIRED_2026_05_25),
    ("kimi-k2-thinking-turbo", 262_144, "always", _RETIRED_2026_05_25),
    ("kimi-latest", 131_072, "none", datetime(2026, 1, 28, tzinfo=UTC)),
    ("kimi-thinking-preview", 131_072, "always", datetime(2025, 11, 11, tzinfo=UTC)),
)


_TABLE: tuple[ModelSpec, ...] = (
    ModelSpec(
        id="kimi-k2.6",
        context_length=262_144,
        image_in=True,
        video_in=True,
        thinking="optional",
        created=1776643200,
        keep_values=frozenset({None, "all"}),
        fixed_sampling=_K_SAMPLING,
        default_max_tokens=32_768,
        empty_reasoning_is_missing=True,
        requires_tool_call_reasoning=True,
        required_tool_choice="reject_when_thinking",
        named_tool_choice="reject_when_thinking",
    ),
    ModelSpec(
        id="kimi-k2.5",
        context_length=262_144,
        image_in=True,
        video_in=True,
        thinking="optional",
        created=1769385600,
        fixed_sampling=_K_SAMPLING,
        default_max_tokens=32_768,
        retired_at=_SUNSET_2026_08_31,
        empty_reasoning_is_missing=True,
        requires_tool_call_reasoning=True,
        required_tool_choice="reject_when_thinking",
        named_tool_choice="reject_when_thinking",
    ),
    *(
        ModelSpec(
            id=model_id,
            context_length=262_144,
            image_in=True,
            video_in=True,
            thinking="always",
            created=created,
            keep_values=frozenset({None, "all"}),
            fixed_sampling=_K_ALWAYS_SAMPLING,
            default_max_tokens=32_768,
            requires_tool_call_reasoning=True,
            required_tool_choice="reject",
            named_tool_choice="reject",
        )
        for model_id, created in (
            ("kimi-k2.7-code", 1781222400),
            ("kimi-k2.7-code-highspeed", 1781481600),
        )
    ),
    # kimi-k3.1-pro(-highspeed), GA 2026-10-23 (kimi-api.md 13.3): the K3 family. Media input,
    # default max tokens, sampling and id style are not documented for them: taken from kimi-k3.
    *(
        ModelSpec(
            id=model_id,
            context_length=1_048_576,
            image_in=True,
            video_in=True,
            thinking="k3",
            created=created,
            fixed_sampling=_K_ALWAYS_SAMPLING,
            default_max_tokens=131_072,
            named_tool_choice="reject",
            uuid_ids=True,
            supports_reasoning_effort=True,
            k3_contract=True,
        )
        for model_id, created in (
            ("kimi-k3", 1784160000),
            ("kimi-k3.1-pro", 1792713600),
            ("kimi-k3.1-pro-highspeed", 1792713600),
        )
    ),
    _v1("moonshot-v1-8k", 8_192, vision=False, created=1712102400),
    _v1("moonshot-v1-32k", 32_768, vision=False, created=1712102400),
    _v1("moonshot-v1-128k", 131_072, vision=False, created=1712102400),
    _v1("moonshot-v1-auto", 131_072, vision=False, created=1712102400),
    _v1("moonshot-v1-8k-vision-preview", 8_192, vision=True, created=1736208000),
    _v1("moonshot-v1-32k-vision-preview", 32_768, vision=True, created=1736208000),
    _v1("moonshot-v1-128k-vision-preview", 131_072, vision=True, created=1736208000),
    *(
        ModelSpec(
            id=model_id,
            context_length=context,
            image_in=False,
            video_in=False,
            thinking=thinking,
            created=1752192000,
            retired_at=retired,
            legacy_tool_choice=True,
        )
        for model_id, context, thinking, retired in _RETIRED
    ),
)

MODELS: dict[str, ModelSpec] = {spec.id: spec for spec in _TABLE}
"""Every model id the emulator has ever served, live or retired, by id."""


def find_model(model_id: str, when: datetime) -> ModelSpec | None:
    """The spec for ``model_id`` if it exists and is not retired at ``when``, else None."""
    spec = MODELS.get(model_id)
    if spec is None or not spec.available_at(when):
        return None
    return spec
