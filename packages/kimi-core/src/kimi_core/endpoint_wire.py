"""Apply an endpoint profile to a built request body, and check its answers.

The request builder produces the platform's wire form; this module rewrites the few places where
another server reads something else (the reasoning field sent back, the thinking switch), refuses
the platform features the endpoint lacks before anything is sent, and turns the open-weight
"reasoning but no answer" condition into a typed error.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from kimi_core.endpoints import EndpointProfile
from kimi_core.errors import EmptyAnswerError
from kimi_core.response import ChatResult
from kimi_core.thinking import ThinkingState

__all__ = ["apply_endpoint", "check_answer"]


def _media_urls(messages: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
    for message in messages:
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for part in content:
            kind = part.get("type") if isinstance(part, Mapping) else None
            ref = part.get(kind) if kind in ("image_url", "video_url") else None
            url = ref.get("url") if isinstance(ref, Mapping) else None
            if isinstance(kind, str) and isinstance(url, str):
                yield kind, url


def _check_features(body: dict[str, Any], endpoint: EndpointProfile, uploads: bool) -> None:
    for tool in body.get("tools") or ():
        if isinstance(tool, Mapping) and tool.get("type") == "builtin_function":
            endpoint.require("web_search")
    if uploads:
        endpoint.require("files")
    if any(message.get("partial") for message in body["messages"]):
        endpoint.require("partial")
    for kind, url in _media_urls(body["messages"]):
        if kind == "video_url":
            endpoint.require("video")
        if url.startswith("ms://"):
            endpoint.require("files")


def _template_kwargs(thinking: ThinkingState, wire: Mapping[str, Any]) -> dict[str, Any]:
    """The open-weight chat template's switches for what the platform body would have said.

    Only what was asked for is sent (nothing: the template's own default, as on the platform);
    preserved reasoning and an effort level both mean thinking on.
    """
    kwargs: dict[str, Any] = {}
    switch = wire.get("thinking")
    if isinstance(switch, Mapping) and "type" in switch:
        kwargs["thinking"] = switch["type"] == "enabled"
    if thinking.keep:
        kwargs.update(thinking=True, preserve_thinking=True)
    if thinking.effort is not None:
        kwargs.setdefault("thinking", True)
        kwargs["thinking_effort"] = thinking.effort
    return kwargs


def apply_endpoint(
    body: dict[str, Any],
    thinking: ThinkingState,
    endpoint: EndpointProfile,
    *,
    uploads: bool = False,
) -> None:
    """Rewrite a platform-form body (in place) for ``endpoint``.

    Args:
        body: The body built so far (messages and thinking fields included, ``extra_body`` not
            yet merged).
        thinking: The resolved thinking state.
        endpoint: The endpoint profile.
        uploads: Whether the media policy would upload media through the Files API.

    Raises:
        UnsupportedFeatureError: The body uses a feature the endpoint lacks.
        ValueError: A thinking knob was set for a host whose switch is unknown.
    """
    _check_features(body, endpoint, uploads)
    if endpoint.reasoning_in != "reasoning_content":
        for message in body["messages"]:
            if message.get("role") == "assistant" and "reasoning_content" in message:
                message[endpoint.reasoning_in] = message.pop("reasoning_content")
    wire: dict[str, Any] = {k: body.pop(k) for k in ("thinking", "reasoning_effort") if k in body}
    if endpoint.thinking_switch == "thinking":
        body.update(wire)
        return
    if endpoint.thinking_switch is None:
        if wire:
            raise ValueError(
                f"the {endpoint.name} endpoint has no known thinking switch, so thinking, "
                "preserve_thinking and reasoning_effort cannot be applied; leave them unset and "
                "pass the host's own field through extra_body (or model_kwargs / "
                "additional_kwargs), or use endpoint='vllm' / 'sglang' if the host runs one."
            )
        return
    kwargs = _template_kwargs(thinking, wire)
    if kwargs:
        body["chat_template_kwargs"] = kwargs


def check_answer(result: ChatResult, endpoint: EndpointProfile) -> ChatResult:
    """Raise :class:`EmptyAnswerError` for reasoning with no answer, where the profile says so.

    A cut-off answer (``finish_reason="length"``) is not this condition: it is reported as is.
    """
    if (
        endpoint.empty_answer_is_error
        and result.reasoning
        and not result.text.strip()
        and not result.tool_calls
        and not result.builtin_calls
        and result.finish_reason != "length"
    ):
        raise EmptyAnswerError(
            f"the model reasoned ({len(result.reasoning)} characters) but returned no answer and "
            f"no tool call (finish_reason={result.finish_reason!r}), a known open-weight "
            "failure on multi-turn tool follow-ups (MoonshotAI/Kimi-K2#128); sending the "
            "request again usually helps. The reasoning is in error.result.",
            request_id=result.request_id,
            result=result,
        )
    return result
