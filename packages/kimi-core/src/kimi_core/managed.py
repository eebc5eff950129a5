"""Body fields kimi-core builds and checks itself, which ``extra_body`` may not set.

``extra_body`` (LangChain ``model_kwargs``, LlamaIndex ``additional_kwargs``) is merged into the
body last, after every check. A field listed here would bypass the check that guards it (``n=2``
past the one-answer guard, a ``temperature`` past the fixed-sampling rule, a second ``tools``
list past the name check), so it is refused with the setting that sends it instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["MANAGED_BODY_FIELDS", "check_extra_body"]

MANAGED_BODY_FIELDS: Mapping[str, str] = {
    "model": "the model setting",
    "messages": "the messages of the call",
    "thinking": "the thinking / preserve_thinking settings",
    "reasoning_effort": "the reasoning_effort setting",
    "max_tokens": "the max_tokens setting",
    "max_completion_tokens": "the max_tokens setting",
    "temperature": "the temperature setting",
    "top_p": "the top_p setting",
    "n": "the n setting (kimi-core returns one answer per request)",
    "presence_penalty": "the presence_penalty setting",
    "frequency_penalty": "the frequency_penalty setting",
    "stop": "the stop setting",
    "stream": "the streaming call (stream / astream)",
    "stream_options": "the stream_usage setting",
    "tools": "tools (bind_tools / chat_with_tools)",
    "tool_choice": "tool_choice (bind_tools / chat_with_tools)",
    "response_format": "response_format (structured output)",
    "logprobs": "the logprobs setting",
    "top_logprobs": "the top_logprobs setting",
    "prompt_cache_key": "the prompt_cache_key setting",
    "prompt_cache_options": "the prompt_cache_options setting",
    "safety_identifier": "the safety_identifier setting",
    # Settings that are not body fields: sent in the body they would reach the API as unknown
    # fields and leave the setting they name unapplied.
    "preserve_thinking": "the preserve_thinking setting",
    "stream_usage": "the stream_usage setting",
    "tool_choice_policy": "the tool_choice_policy setting",
    "sampling_policy": "the sampling_policy setting",
    "web_search_max_rounds": "the web_search_max_rounds setting",
    "media": "the media setting",
    "endpoint": "the endpoint setting",
    # OpenAILike habit: additional_kwargs={"extra_body": {...}} would send a field named
    # "extra_body", which the API does not know.
    "extra_body": "the fields themselves (extra_body is the OpenAI SDK's argument, not a field)",
}
"""Wire field (or setting name) -> the setting (or call) that sends it, checked.

Every ``ChatSettings`` field is a key (pinned by a test), so no ``extra_body`` key shadows one."""


def check_extra_body(extra_body: Mapping[str, Any] | None) -> None:
    """Refuse ``extra_body`` fields that kimi-core builds and checks itself.

    Args:
        extra_body: The extra top-level body fields.

    Raises:
        ValueError: Names every such field and the setting to use instead.
    """
    managed = [name for name in extra_body or () if name in MANAGED_BODY_FIELDS]
    if managed:
        fixes = "; ".join(f"{name!r}: use {MANAGED_BODY_FIELDS[name]}" for name in managed)
        raise ValueError(
            "extra body fields (model_kwargs / additional_kwargs / extra_body) may not set "
            f"fields kimi-core builds and checks itself ({fixes})."
        )
