"""Build a Kimi chat-completions request body from neutral messages and settings."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kimi_core.convert import messages_to_wire, tools_to_wire, unique_tool_names
from kimi_core.endpoint_wire import apply_endpoint
from kimi_core.endpoints import MOONSHOT, EndpointProfile, get_endpoint
from kimi_core.managed import check_extra_body
from kimi_core.media import (
    MediaPolicy,
    check_downloads_allowed,
    check_inline_total,
    needs_client_work,
)
from kimi_core.messages import Message, Tool
from kimi_core.profiles import ModelProfile, get_profile
from kimi_core.sampling import SamplingPolicy, fit_sampling
from kimi_core.schema import normalize_schema
from kimi_core.thinking import ThinkingState, resolve_thinking

__all__ = [
    "ChatRequest",
    "ChatSettings",
    "ToolChoice",
    "build_chat_request",
    "check_thinking_and_sampling",
]

logger = logging.getLogger("kimi_core")

ToolChoice = str | Mapping[str, Any]
"""``"auto"``, ``"none"``, ``"required"``, a function name, or ``{"type": "function", ...}``."""

_MAX_STOP = 5
_MAX_STOP_BYTES = 32


@dataclass(frozen=True)
class ChatSettings:
    """The knobs of a chat request, identical for every framework.

    Attributes:
        model: Model id (default ``kimi-k2.6``).
        thinking: True/False to switch thinking; None keeps the model's default.
        preserve_thinking: Keep earlier turns' reasoning in context (wire ``thinking.keep="all"``).
        reasoning_effort: ``"low"``/``"high"``/``"max"`` on models with effort levels (K3).
        max_tokens: Completion limit, reasoning included (sent as ``max_completion_tokens``).
        temperature: Only sent when set; checked against the model's fixed value.
        top_p: Only sent when set; checked like ``temperature``.
        n: Only sent when set; checked like ``temperature``.
        presence_penalty: Only sent when set; checked like ``temperature``.
        frequency_penalty: Only sent when set; checked like ``temperature``.
        stop: Stop string(s): at most 5, each at most 32 bytes.
        prompt_cache_key: A stable session/task id that improves prompt-cache hits.
        prompt_cache_options: Sent verbatim as ``prompt_cache_options`` (cache-write TTL, ``5m`` or
            ``1h``). A pass-through: the field's shape is not public, so it is not validated
            beyond being JSON (kimi-api.md 13.4).
        safety_identifier: A hashed end-user id.
        logprobs: Ask for token log probabilities (``ChatResult.logprobs``).
        top_logprobs: Alternatives per token (0-20; needs ``logprobs``).
        stream_usage: Ask for the trailing usage chunk when streaming (``stream_options``).
        tool_choice_policy: When the model rejects a forced ``tool_choice`` in this thinking state:
            ``"downgrade"`` sends ``"auto"`` (recorded in ``ChatRequest.adjustments``), ``"error"``
            raises ``ValueError``.
        sampling_policy: A sampling value the model cannot take (its sampling is fixed):
            ``"omit"`` leaves it out (recorded in ``ChatRequest.adjustments``), ``"error"``
            raises ``ValueError``.
        web_search_max_rounds: Round limit of the ``$web_search`` loop.
        media: How http(s) media URLs are handled.
        extra_body: Extra top-level body fields, merged last (an escape hatch for fields
            kimi-core does not know; the fields it builds itself are refused).
        endpoint: The server kind (``"moonshot"``, ``"vllm"``, ``"sglang"``,
            ``"openai-compatible"`` or an :class:`~kimi_core.endpoints.EndpointProfile`); None
            is the Moonshot platform. Give the client the same value.
    """

    model: str = "kimi-k2.6"
    thinking: bool | None = None
    preserve_thinking: bool = False
    reasoning_effort: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    n: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    stop: str | Sequence[str] | None = None
    prompt_cache_key: str | None = None
    prompt_cache_options: Any = None
    safety_identifier: str | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    stream_usage: bool = True
    tool_choice_policy: Literal["downgrade", "error"] = "downgrade"
    sampling_policy: SamplingPolicy = "omit"
    web_search_max_rounds: int = 8
    media: MediaPolicy = field(default_factory=MediaPolicy)
    extra_body: Mapping[str, Any] | None = None
    endpoint: str | EndpointProfile | None = None


@dataclass
class ChatRequest:
    """A validated request, ready to send.

    Attributes:
        body: The wire JSON body.
        profile: The model's profile.
        thinking: The resolved thinking state.
        web_search: Whether ``$web_search`` is declared (the client then runs the echo loop).
        settings: The settings it was built from.
        adjustments: Documented changes made to fit the model (e.g. a ``tool_choice`` downgrade).
        stream: Whether the body asks for a stream.
        remote_media: Whether media must be downloaded (http URLs) or uploaded (``upload_over``)
            by the client before sending.
        endpoint: The endpoint profile the body was built for (and its answer is parsed with).
    """

    body: dict[str, Any]
    profile: ModelProfile
    thinking: ThinkingState
    web_search: bool
    settings: ChatSettings
    adjustments: list[str] = field(default_factory=list)
    stream: bool = False
    remote_media: bool = False
    endpoint: EndpointProfile = MOONSHOT


def _tool_choice_to_wire(
    choice: ToolChoice,
    *,
    profile: ModelProfile,
    thinking_on: bool,
    function_names: set[str],
    settings: ChatSettings,
    adjustments: list[str],
) -> str | dict[str, Any]:
    if isinstance(choice, Mapping):
        fn = choice.get("function")
        name = fn.get("name") if isinstance(fn, Mapping) else None
        if choice.get("type") != "function" or not isinstance(name, str):
            raise ValueError(
                f"tool_choice {dict(choice)!r} is not valid; use 'auto', 'none', 'required', a "
                "function name or {'type': 'function', 'function': {'name': ...}}."
            )
        choice = name
    if not isinstance(choice, str):
        raise TypeError(f"tool_choice must be a str or dict, got {type(choice).__name__}")
    if choice in ("auto", "none"):
        return choice
    _check_forced_choice(choice, function_names)
    rules = profile.tool_choice_rules(thinking_on)
    state = "with thinking on" if thinking_on else "with thinking off"
    if choice in ("required", "any"):
        if rules.required:
            return "required"
        problem = f"{profile.id} rejects tool_choice='required' {state}"
    else:
        if rules.named:
            return {"type": "function", "function": {"name": choice}}
        problem = f"{profile.id} rejects a named tool_choice ({choice!r}) {state}"
    fix = " Use thinking=False" if profile.thinking_form == "toggle" and thinking_on else ""
    if settings.tool_choice_policy == "error":
        raise ValueError(f"{problem}.{fix or ''} Or use tool_choice='auto'.")
    note = f"{problem}; sent tool_choice='auto' instead (tool_choice_policy='downgrade')."
    adjustments.append(note)
    logger.info(note)
    return "auto"


def _check_forced_choice(choice: str, function_names: set[str]) -> None:
    """The K3 contract (kimi-api.md 13.2): a forced choice needs a declared function to force."""
    if choice in ("required", "any"):
        if not function_names:
            raise ValueError(
                f"tool_choice={choice!r} needs at least one function tool, but none is declared "
                "(the API answers 400); pass tools (or load them on a system message) or use "
                "tool_choice='auto'."
            )
        return
    if choice not in function_names:
        declared = ", ".join(sorted(function_names)) or "none are declared"
        raise ValueError(
            f"tool_choice={choice!r} is not valid: use 'auto', 'none', 'required' or the name of "
            f"a declared function ({declared})."
        )


def _stop_to_wire(stop: str | Sequence[str]) -> str | list[str]:
    items = [stop] if isinstance(stop, str) else list(stop)
    if len(items) > _MAX_STOP:
        raise ValueError(f"stop accepts at most {_MAX_STOP} sequences, got {len(items)}.")
    for item in items:
        if not isinstance(item, str) or not item:
            raise ValueError("stop sequences must be non-empty strings.")
        if len(item.encode()) > _MAX_STOP_BYTES:
            raise ValueError(f"stop sequence {item!r} is longer than {_MAX_STOP_BYTES} bytes.")
    return stop if isinstance(stop, str) else items


def _response_format_to_wire(
    response_format: Mapping[str, Any], profile: ModelProfile, has_partial: bool
) -> dict[str, Any]:
    kind = response_format.get("type")
    if kind == "text":
        return {"type": "text"}
    if kind == "json_object":
        if not profile.json_mode:
            raise ValueError(f"{profile.id} does not support JSON mode (json_object).")
        if has_partial:
            raise ValueError("partial mode cannot be combined with response_format json_object.")
        return {"type": "json_object"}
    if kind == "json_schema":
        if not profile.structured_output:
            raise ValueError(
                f"{profile.id} does not support json_schema structured output; use "
                "{'type': 'json_object'} with the schema described in the prompt."
            )
        spec = response_format.get("json_schema")
        if not isinstance(spec, Mapping) or not isinstance(spec.get("schema"), Mapping):
            raise ValueError("response_format json_schema needs json_schema.schema (an object).")
        try:
            schema = normalize_schema(spec["schema"])
        except ValueError as exc:
            raise ValueError(f"response_format.json_schema: {exc}") from None
        out: dict[str, Any] = {"name": spec.get("name") or "response", "schema": schema}
        if spec.get("description"):
            out["description"] = spec["description"]
        if spec.get("strict") is not None:
            out["strict"] = bool(spec["strict"])
        return {"type": "json_schema", "json_schema": out}
    raise ValueError(
        f"response_format type {kind!r} is not supported; use 'text', 'json_object' or "
        "'json_schema'."
    )


def _add_tools(
    body: dict[str, Any],
    *,
    tools: Sequence[Tool | Mapping[str, Any]] | None,
    tool_choice: ToolChoice | None,
    profile: ModelProfile,
    thinking: ThinkingState,
    settings: ChatSettings,
    adjustments: list[str],
    endpoint: EndpointProfile = MOONSHOT,
) -> bool:
    if tools:
        body["tools"], _ = tools_to_wire(tools)
    # An empty list is not sent: with a tool_choice the API answers 400 (kimi-api.md 13.2), and
    # "auto"/"none" without tools is valid; a forced choice is refused below.
    declared = unique_tool_names(body)
    seen = set(declared)
    web_search = "$web_search" in seen
    if web_search:
        endpoint.require("web_search")  # before the model's rules: no thinking fix helps there
        if not profile.web_search:
            raise ValueError(f"{profile.id} does not support the $web_search builtin tool.")
        if thinking.enabled and not profile.web_search_with_thinking:
            raise ValueError(
                f"{profile.id} cannot use $web_search with thinking on; set thinking=False."
            )
    if tool_choice is not None:
        names = {name for name, kind in declared.items() if kind == "function"}
        body["tool_choice"] = _tool_choice_to_wire(
            tool_choice,
            profile=profile,
            thinking_on=thinking.enabled,
            function_names=names,
            settings=settings,
            adjustments=adjustments,
        )
    return web_search


def _json_value(value: Any, name: str) -> Any:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is sent as given and must be plain JSON data: {exc}.") from None
    return value


def _logprobs(settings: ChatSettings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if settings.logprobs is not None:
        out["logprobs"] = settings.logprobs
    if settings.top_logprobs is not None:
        if not settings.logprobs:
            raise ValueError("top_logprobs needs logprobs=True.")
        if not 0 <= settings.top_logprobs <= 20:
            raise ValueError(f"top_logprobs must be between 0 and 20, got {settings.top_logprobs}.")
        out["top_logprobs"] = settings.top_logprobs
    return out


def _check_max_tokens(max_tokens: int, profile: ModelProfile) -> int:
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
        raise TypeError("max_tokens must be an int")
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}.")
    if profile.known and max_tokens > profile.max_output_tokens:
        raise ValueError(
            f"max_tokens={max_tokens} exceeds {profile.id}'s limit of {profile.max_output_tokens}."
        )
    return max_tokens


def _thinking_and_sampling(
    settings: ChatSettings, profile: ModelProfile | None
) -> tuple[ModelProfile, ThinkingState, dict[str, Any], list[str]]:
    if not isinstance(settings.model, str) or not settings.model:
        raise ValueError("settings.model must be a non-empty model id such as 'kimi-k2.6'.")
    check_extra_body(settings.extra_body)
    profile = profile or get_profile(settings.model)
    thinking = resolve_thinking(
        profile, settings.thinking, settings.preserve_thinking, settings.reasoning_effort
    )
    sampling, notes = fit_sampling(
        profile,
        thinking.enabled,
        settings.sampling_policy,
        temperature=settings.temperature,
        top_p=settings.top_p,
        n=settings.n,
        presence_penalty=settings.presence_penalty,
        frequency_penalty=settings.frequency_penalty,
        enforce_fixed=get_endpoint(settings.endpoint).fixed_sampling_enforced,
    )
    if sampling.get("n", 1) != 1:
        # Results carry one choice; silently dropping the others would lose answers.
        raise ValueError(
            f"n={sampling['n']} is not supported: kimi-core returns one answer per request (and "
            "current Kimi models only accept n=1); send several requests instead."
        )
    return profile, thinking, sampling, notes


def check_thinking_and_sampling(
    settings: ChatSettings, *, warned: set[str] | None = None
) -> ThinkingState:
    """Check the thinking and sampling knobs against the model, without building a request.

    Adapters call this when they are configured, so that an impossible combination (e.g.
    ``thinking=False`` on a model that always thinks, ``n=2``, or a field in ``extra_body`` that
    kimi-core builds itself) fails at construction rather than at the first call.
    ``build_chat_request`` applies the same checks, with the same messages, to every request.
    A sampling value the model cannot take is logged as a warning here (under
    ``sampling_policy="omit"``), and is left out of every request.

    Args:
        settings: The knobs; ``model``, ``thinking``, ``preserve_thinking``,
            ``reasoning_effort``, the sampling parameters and ``extra_body`` are checked.
        warned: Notes already logged for this model instance (updated): an adapter that checks
            again after a setting changed warns once per instance, not once per check.

    Returns:
        The thinking state the settings resolve to.

    Raises:
        ValueError: An impossible combination; the message names the problem and the fix.
        TypeError: A thinking knob of the wrong type.
    """
    _, thinking, _, notes = _thinking_and_sampling(settings, None)
    for note in notes:
        if warned is None or note not in warned:
            logger.warning(note)
        if warned is not None:
            warned.add(note)
    # A knob the endpoint cannot express fails now too (the same check as at build time).
    apply_endpoint({"messages": [], **thinking.wire}, thinking, get_endpoint(settings.endpoint))
    return thinking


def build_chat_request(
    messages: Sequence[Message],
    settings: ChatSettings,
    *,
    tools: Sequence[Tool | Mapping[str, Any]] | None = None,
    tool_choice: ToolChoice | None = None,
    response_format: Mapping[str, Any] | None = None,
    stream: bool = False,
    profile: ModelProfile | None = None,
    warned: set[str] | None = None,
) -> ChatRequest:
    """Validate everything and build the wire body, before any request is sent.

    Args:
        messages: The neutral history.
        settings: The request knobs.
        tools: Function and builtin tools (``WEB_SEARCH``), or OpenAI-style tool dicts.
        tool_choice: ``"auto"``, ``"none"``, ``"required"`` (alias ``"any"``), a function name or
            an OpenAI-style dict; mapped per thinking state (``ChatSettings.tool_choice_policy``).
        response_format: ``{"type": "json_object"}`` or ``{"type": "json_schema", "json_schema":
            {"name", "schema", "strict"?}}``; the schema is normalized to MFJS.
        stream: Build a streaming request.
        profile: Override the profile looked up from ``settings.model``.
        warned: Sampling adjustments already logged as warnings for this model instance
            (updated); a new one is logged as a warning once, a known one at info level.

    Returns:
        The request (body, profile, thinking state, web-search flag).

    Raises:
        ValueError: An impossible combination; the message names the problem and the fix.
        TypeError: A value of the wrong type.
    """
    profile, thinking, sampling, adjustments = _thinking_and_sampling(settings, profile)
    for note in adjustments:
        if warned is not None and note not in warned:
            warned.add(note)
            logger.warning(note)
        else:
            logger.info(note)
    body: dict[str, Any] = {"model": settings.model}
    endpoint = get_endpoint(settings.endpoint)
    body["messages"] = messages_to_wire(messages, profile, thinking)
    if settings.media.upload_over is None:
        check_inline_total(body["messages"])
    web_search = _add_tools(
        body,
        tools=tools,
        tool_choice=tool_choice,
        profile=profile,
        thinking=thinking,
        settings=settings,
        adjustments=adjustments,
        endpoint=endpoint,
    )
    if response_format is not None:
        has_partial = bool(messages) and messages[-1].partial
        body["response_format"] = _response_format_to_wire(response_format, profile, has_partial)
    body.update(thinking.wire)
    apply_endpoint(body, thinking, endpoint, uploads=settings.media.upload_over is not None)
    if settings.max_tokens is not None:
        body["max_completion_tokens"] = _check_max_tokens(settings.max_tokens, profile)
    body.update(sampling)
    if settings.stop is not None:
        body["stop"] = _stop_to_wire(settings.stop)
    if settings.prompt_cache_key is not None:
        body["prompt_cache_key"] = settings.prompt_cache_key
    if settings.prompt_cache_options is not None:
        body["prompt_cache_options"] = _json_value(
            settings.prompt_cache_options, "prompt_cache_options"
        )
    if settings.safety_identifier is not None:
        body["safety_identifier"] = settings.safety_identifier
    body.update(_logprobs(settings))
    if stream:
        body["stream"] = True
        if settings.stream_usage:
            body["stream_options"] = {"include_usage": True}
    if settings.web_search_max_rounds < 1:
        raise ValueError("web_search_max_rounds must be at least 1.")
    if settings.extra_body:
        body.update(settings.extra_body)
    check_downloads_allowed(body["messages"], settings.media)
    remote = needs_client_work(body["messages"], settings.media)
    return ChatRequest(
        body=body,
        profile=profile,
        thinking=thinking,
        web_search=web_search,
        settings=settings,
        adjustments=adjustments,
        stream=stream,
        remote_media=remote,
        endpoint=endpoint,
    )
