"""Per-endpoint facts, as data: where a Kimi model is served from and what that server speaks.

Model profiles (:mod:`kimi_core.profiles`) describe models; an :class:`EndpointProfile` describes
the server in front of them: the Moonshot platform, a self-hosted vLLM or SGLang, or another
OpenAI-compatible host. Request building and response parsing read these fields; nothing branches
on the endpoint's name. Sources: ``kimi-api.md`` 13.7 and ``ecosystem-2026-12.md`` section 5;
vllm-project/vllm#38488 for the field vLLM reads back (``reasoning``; ``reasoning_content`` is
dropped there).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import urlsplit

from kimi_core.errors import KimiError

__all__ = [
    "ENDPOINTS",
    "GENERIC",
    "MOONSHOT",
    "SGLANG",
    "VLLM",
    "EndpointAssumedWarning",
    "EndpointProfile",
    "Feature",
    "UnsupportedFeatureError",
    "get_endpoint",
    "resolve_endpoint",
]

Feature = Literal["web_search", "formulas", "files", "token_estimate", "video", "partial"]
"""A platform feature an endpoint may lack."""

ThinkingSwitch = Literal["thinking", "chat_template_kwargs"]
"""Kimi's ``thinking`` object, or ``chat_template_kwargs`` (``thinking``, ``preserve_thinking``,
``thinking_effort``) as the open-weight chat template reads them."""

_ALL_FEATURES: frozenset[Feature] = frozenset(
    ("web_search", "formulas", "files", "token_estimate", "video", "partial")
)
_FEATURE_NAMES: Mapping[Feature, str] = {
    "web_search": "the builtin $web_search tool",
    "formulas": "Moonshot's official (Formula) tools",
    "files": "the Files API (uploads and ms:// file references)",
    "token_estimate": "the token-estimate endpoint",
    "video": "video input",
    "partial": "partial mode (partial=True on the last assistant message)",
}

_SELF_HOSTED_ALTERNATIVES: Mapping[Feature, str] = MappingProxyType(
    {
        "web_search": (
            "declare a search tool of your own, or call Moonshot's Web Search API "
            "(POST /v1/tools/search on api.moonshot.ai) from it"
        ),
        "formulas": "wrap the service as a function tool of your own",
        "files": (
            "send media inline (data: URLs or bytes) and extract documents yourself; "
            "MediaPolicy(upload_over=None) keeps media inline"
        ),
        "token_estimate": (
            "count tokens with the model's tokenizer (tokenization_kimi.py in the model repo) "
            "or the server's own /tokenize route"
        ),
        "video": (
            "video is not supported by open-weight Kimi on vLLM/SGLang; send frames as images, "
            "or use the Moonshot platform"
        ),
        "partial": (
            "leave partial unset and ask the server to continue the last message itself (vLLM "
            "and SGLang: extra_body={'continue_final_message': True, "
            "'add_generation_prompt': False})"
        ),
    }
)


class UnsupportedFeatureError(KimiError, ValueError):
    """A request uses a feature the chosen endpoint does not have (raised before sending).

    A ``ValueError`` like every other problem found before a request is sent.

    Attributes:
        endpoint: The endpoint profile's id.
        feature: The missing feature.
    """

    def __init__(
        self, message: str, *, endpoint: str = "", feature: str = "", **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.endpoint = endpoint
        self.feature = feature

    @classmethod
    def missing(cls, endpoint: EndpointProfile, feature: Feature) -> UnsupportedFeatureError:
        """The error for ``feature`` on ``endpoint``, naming the alternative."""
        alternative = endpoint.alternatives.get(feature, "use the Moonshot platform")
        return cls(
            f"{_FEATURE_NAMES[feature]} is not available on the {endpoint.name} endpoint "
            f"(endpoint={endpoint.id!r}); {alternative}.",
            endpoint=endpoint.id,
            feature=feature,
        )


class EndpointAssumedWarning(UserWarning):
    """No ``endpoint`` was given and the base URL is not Moonshot's: the platform is assumed."""


@dataclass(frozen=True, slots=True)
class EndpointProfile:
    """What one kind of server speaks.

    Attributes:
        id: The ``endpoint=`` value that selects it.
        name: A human name for messages.
        reasoning_out: Response fields that carry the reasoning, read in this order.
        reasoning_in: The assistant-message field the server reads reasoning back from.
        thinking_switch: How thinking is switched, or None when the host's switch is unknown
            (then an explicit thinking knob is refused rather than sent to no effect).
        usage_in_choice: Whether usage may arrive in ``choices[0].usage`` (it is always also read
            at the top level).
        cached_tokens: ``"always"`` reported, reported only with a server ``flag``, or unknown.
        cache_flag: The server launch flag that makes it report cached tokens.
        features: The platform features this endpoint has.
        fixed_sampling_enforced: Whether the server enforces the model's fixed sampling values
            (if not, the client sends what the user sets instead of refusing it).
        empty_answer_is_error: Whether "reasoning but no content and no tool calls" is reported
            as :class:`~kimi_core.errors.EmptyAnswerError` (MoonshotAI/Kimi-K2#128).
        tool_call_id_form: How the server writes tool-call ids (``{name}``/``{idx}`` filled in
            when a server leaves one out). Ids are always kept verbatim.
        alternatives: For each missing feature, what to use instead.
    """

    id: str
    name: str
    reasoning_out: tuple[str, ...] = ("reasoning_content",)
    reasoning_in: str = "reasoning_content"
    thinking_switch: ThinkingSwitch | None = "thinking"
    usage_in_choice: bool = True
    cached_tokens: Literal["always", "flag", "unknown"] = "always"
    cache_flag: str | None = None
    features: frozenset[Feature] = _ALL_FEATURES
    fixed_sampling_enforced: bool = True
    empty_answer_is_error: bool = False
    tool_call_id_form: str = "{name}_{idx}"
    alternatives: Mapping[Feature, str] = field(default_factory=dict)

    def supports(self, feature: Feature) -> bool:
        """Whether this endpoint has ``feature``."""
        return feature in self.features

    def require(self, feature: Feature) -> None:
        """Raise :class:`UnsupportedFeatureError` when this endpoint lacks ``feature``."""
        if feature not in self.features:
            raise UnsupportedFeatureError.missing(self, feature)

    def default_tool_call_id(self, name: str, idx: int) -> str:
        """The id to use when the server sent a tool call without one."""
        return self.tool_call_id_form.format(name=name, idx=idx)

    def reasoning_of(self, message: Mapping[str, Any]) -> tuple[str, object]:
        """The reasoning of a response message or delta as ``(field, value)``.

        The first field of :attr:`reasoning_out` that is present and non-empty; ``("", None)``
        when none is.
        """
        for name in self.reasoning_out:
            value = message.get(name)
            if value:
                return name, value
        return "", None


MOONSHOT = EndpointProfile(id="moonshot", name="Moonshot platform")
"""api.moonshot.ai / api.moonshot.cn (and kimi-emulator's default dialect): every feature."""

VLLM = EndpointProfile(
    id="vllm",
    name="vLLM",
    # vLLM renamed the field (PR #33402); older releases still send reasoning_content.
    reasoning_out=("reasoning", "reasoning_content"),
    reasoning_in="reasoning",
    thinking_switch="chat_template_kwargs",
    usage_in_choice=False,
    cached_tokens="flag",
    cache_flag="--enable-prompt-tokens-details",
    features=frozenset(),
    fixed_sampling_enforced=False,
    empty_answer_is_error=True,
    tool_call_id_form="functions.{name}:{idx}",
    alternatives=_SELF_HOSTED_ALTERNATIVES,
)
"""Self-hosted vLLM with ``--reasoning-parser kimi_k2|kimi_k3`` and the matching tool parser."""

SGLANG = EndpointProfile(
    id="sglang",
    name="SGLang",
    reasoning_out=("reasoning_content", "reasoning"),
    reasoning_in="reasoning_content",
    thinking_switch="chat_template_kwargs",
    usage_in_choice=False,
    cached_tokens="flag",
    cache_flag="--enable-cache-report",
    features=frozenset(),
    fixed_sampling_enforced=False,
    empty_answer_is_error=True,
    tool_call_id_form="functions.{name}:{idx}",
    alternatives=_SELF_HOSTED_ALTERNATIVES,
)
"""Self-hosted SGLang with ``--reasoning-parser kimi_k2`` / ``--tool-call-parser kimi_k2``."""

GENERIC = EndpointProfile(
    id="openai-compatible",
    name="generic OpenAI-compatible",
    # Hosts differ: read both names, send back the Kimi/DeepSeek one most of them accept.
    reasoning_out=("reasoning_content", "reasoning"),
    reasoning_in="reasoning_content",
    thinking_switch=None,
    usage_in_choice=True,
    cached_tokens="unknown",
    features=frozenset(),
    fixed_sampling_enforced=False,
    empty_answer_is_error=True,
    alternatives=_SELF_HOSTED_ALTERNATIVES,
)
"""Another host serving open-weight Kimi (Fireworks, Together, OpenRouter, ...): no platform
features, and no known thinking switch (pass the host's own through ``extra_body``)."""

ENDPOINTS: Mapping[str, EndpointProfile] = MappingProxyType(
    {p.id: p for p in (MOONSHOT, VLLM, SGLANG, GENERIC)}
)
"""Every endpoint profile by its ``endpoint=`` id."""

_MOONSHOT_HOSTS = frozenset({"api.moonshot.ai", "api.moonshot.cn"})
_warned: set[str] = set()


def _from_environment() -> str | None:
    return os.environ.get("MOONSHOT_ENDPOINT") or os.environ.get("KIMI_ENDPOINT") or None


def get_endpoint(endpoint: str | EndpointProfile | None) -> EndpointProfile:
    """The profile an ``endpoint=`` value names.

    None means ``MOONSHOT_ENDPOINT`` (then ``KIMI_ENDPOINT``) when set, else the Moonshot
    platform.

    Raises:
        ValueError: An unknown name; the message lists the valid ones.
    """
    if endpoint is None:
        endpoint = _from_environment()
    if endpoint is None:
        return MOONSHOT
    if isinstance(endpoint, EndpointProfile):
        return endpoint
    found = ENDPOINTS.get(endpoint) if isinstance(endpoint, str) else None
    if found is None:
        names = ", ".join(repr(name) for name in ENDPOINTS)
        raise ValueError(f"endpoint={endpoint!r} is not known; use one of {names}.")
    return found


def resolve_endpoint(
    endpoint: str | EndpointProfile | None, base_url: str | None
) -> EndpointProfile:
    """The endpoint of a client: the one given, or set in the environment, or detected.

    ``MOONSHOT_ENDPOINT`` (then ``KIMI_ENDPOINT``) names it when ``endpoint`` is None, beside
    ``MOONSHOT_BASE_URL``, so a deployment switches servers without code changes. Otherwise only
    Moonshot's own hosts are certain. Any other base URL without ``endpoint=`` keeps the
    platform behaviour (today's default, and what kimi-emulator speaks unless started with a
    ``--dialect``) and says so once per host with an :class:`EndpointAssumedWarning`, instead of
    guessing from a port or a path.

    Raises:
        ValueError: An unknown endpoint name.
    """
    if endpoint is not None:
        return get_endpoint(endpoint)
    if _from_environment():
        return get_endpoint(None)
    host = (urlsplit(base_url or "").hostname or "").lower()
    if host in _MOONSHOT_HOSTS or not base_url:
        return MOONSHOT
    if host not in _warned:
        _warned.add(host)
        warnings.warn(
            f"kimi-core assumes the server at {host} speaks the Moonshot platform's dialect; "
            "pass endpoint='moonshot' to confirm, or endpoint='vllm', 'sglang' or "
            "'openai-compatible' for a self-hosted or third-party server.",
            EndpointAssumedWarning,
            stacklevel=3,
        )
    return MOONSHOT
