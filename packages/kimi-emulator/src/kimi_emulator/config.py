"""Switches of one emulator instance."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

__all__ = ["EmulatorConfig"]


def _new_key() -> str:
    return f"sk-emulator-{secrets.token_hex(16)}"


@dataclass
class EmulatorConfig:
    """Behaviour switches, mostly for the places where the reference marks a CONFLICT.

    Attributes:
        api_key: The only bearer token the server accepts; a fresh random one per instance
            by default.
        clock: A fixed "now" (timezone-aware). It drives ``created`` stamps, the date formula
            and which models are retired (e.g. ``datetime(2026, 8, 25, tzinfo=UTC)`` still
            serves kimi-k2.5 and moonshot-v1). None means the real time.
        web_search_with_thinking: ``$web_search`` with thinking on (CONFLICT, kimi-api.md 4):
            "accept" follows /docs/guide/use-web-search (Aug 2026); "reject" follows the
            K2.5/K2.6 quickstarts.
        max_tools: Most tools one request may declare (the tool-use page says 128; the
            OpenAPI has none).
        function_name_rule: "openapi" (Aug-2026 OpenAPI, ``^[a-zA-Z_][a-zA-Z0-9-_]{0,255}$``)
            or "tool-use-page" (``{2,63}``), the other side of that CONFLICT.
        tool_choice_required_on_k26_thinking_off: kimi-k2.6 with thinking off and
            ``tool_choice`` "required" or named (CONFLICT): "accept" (probes, reference
            default) or "reject" (/docs/api/models-overview).
        tool_choice_required_on_k26_thinking_on: kimi-k2.6 (and k2.5) with thinking on and
            ``tool_choice`` "required" or named: "reject" (live recording
            moonshotai-required-tool-choice-error.json) or "accept" (what Moonshot's vendor
            verifier expects of ``tests/tool_call_json_schema --thinking``).
        temperature_with_thinking: ``temperature`` on kimi-k2.6/k2.5 with thinking on:
            "fixed" (only 1.0, kimi-api.md 2.3 and the live recordings) or "range" (any value
            in [0, 1] accepted, what the vendor verifier's ``test_default_param_accepted
            [thinking]`` expects).
        null_usage_on_chunks: Where streamed chunks carry ``"usage": null``: "never" (every
            live recording), "with_include_usage" (the reference's OpenAPI-based suggestion,
            a CONFLICT) or "always" (the hand-made k2.5 client fixtures).
        finish_usage: Where the finish chunk carries usage (CONFLICT, kimi-api.md 8):
            "choice" (``choices[0].usage``, /docs/guide/utilize-the-streaming-output-feature-
            of-kimi-api and the live recordings), "top_level" (the /docs/api/chat example and
            the hand-made k2.5 fixtures) or "both". The ``choices: []`` usage chunk of
            ``include_usage`` is sent either way.
        content_filter_trigger: Text that, found in any message, makes the request a 400
            ``content_filter``.
        web_search_tokens: ``usage.total_tokens`` the brain puts in its ``$web_search``
            arguments.
        balance: ``available_balance``, ``voucher_balance``, ``cash_balance`` of
            /v1/users/me/balance.
        batch_time_scale: Emulated seconds per real second for the Batch API: the stage and
            request durations below and the completion window all run on this clock (3600:
            an emulated hour per real second, so a "12h" window ends after 12 real seconds).
        batch_stage_seconds: Emulated seconds a batch spends validating, and again finalizing.
        batch_request_seconds: Emulated seconds per request while in progress (the service's
            throughput for one batch); lines are answered no faster than this.
        request_log_size: Most requests the log keeps (the oldest are dropped first), so a
            long-running server under any traffic holds a bounded log; the pytest fixtures also
            clear it before each test.
        dialect: The wire dialect: ``"moonshot"`` (the platform), or ``"vllm"`` / ``"sglang"``
            for a self-hosted open-weight server (see :mod:`kimi_emulator.dialects`).
    """

    api_key: str = field(default_factory=_new_key, repr=False)
    clock: datetime | None = None
    web_search_with_thinking: Literal["accept", "reject"] = "accept"
    max_tools: int = 128
    function_name_rule: Literal["openapi", "tool-use-page"] = "openapi"
    tool_choice_required_on_k26_thinking_off: Literal["accept", "reject"] = "accept"
    tool_choice_required_on_k26_thinking_on: Literal["reject", "accept"] = "reject"
    temperature_with_thinking: Literal["fixed", "range"] = "fixed"
    null_usage_on_chunks: Literal["never", "with_include_usage", "always"] = "never"
    finish_usage: Literal["choice", "top_level", "both"] = "choice"
    content_filter_trigger: str = "KIMI_EMULATOR_CONTENT_FILTER"
    web_search_tokens: int = 1200
    balance: tuple[float, float, float] = (49.58894, 46.58893, 3.00001)
    batch_time_scale: float = 600.0
    batch_stage_seconds: float = 30.0
    batch_request_seconds: float = 1.0
    request_log_size: int = 1000
    dialect: Literal["moonshot", "vllm", "sglang"] = "moonshot"

    def __post_init__(self) -> None:
        if self.clock is not None and self.clock.tzinfo is None:
            raise ValueError(
                "EmulatorConfig.clock must be timezone-aware, e.g. datetime(..., tzinfo=UTC)"
            )
        if (
            self.batch_time_scale <= 0
            or min(self.batch_stage_seconds, self.batch_request_seconds) < 0
        ):
            raise ValueError(
                "EmulatorConfig.batch_time_scale must be positive and the batch durations "
                "non-negative"
            )
        if self.request_log_size < 1:
            raise ValueError(
                f"EmulatorConfig.request_log_size must be at least 1, got {self.request_log_size}"
            )
        if self.max_tools < 1:
            raise ValueError(f"EmulatorConfig.max_tools must be at least 1, got {self.max_tools}")

    def now(self) -> datetime:
        """The emulator's current time."""
        return self.clock if self.clock is not None else datetime.now(UTC)
