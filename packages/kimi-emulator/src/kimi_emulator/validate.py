"""Request validation for ``POST /v1/chat/completions``, rule by rule from kimi-api.md.

Messages quoted in the reference are reproduced verbatim; where the reference gives no wording the
message is ours and says what is wrong (each such case is listed in the package README).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from kimi_emulator.config import EmulatorConfig
from kimi_emulator.errors import ApiError
from kimi_emulator.files import FileStore
from kimi_emulator.mfjs import mfjs_error
from kimi_emulator.models import ModelSpec, find_model
from kimi_emulator.tokens import count_messages, count_text

__all__ = ["ChatRequest", "message_text", "validate_chat"]

_NAME_RULES = {
    "openapi": re.compile(r"^[a-zA-Z_][a-zA-Z0-9\-_]{0,255}$"),
    "tool-use-page": re.compile(r"^[a-zA-Z_][a-zA-Z0-9\-_]{2,63}$"),
}
_IMAGE_MIME = frozenset(
    f"image/{kind}" for kind in ("jpeg", "jpg", "png", "gif", "webp", "bmp", "heic", "heif")
)
_VIDEO_MIME = frozenset(
    f"video/{kind}"
    for kind in ("mp4", "mpeg", "mov", "quicktime", "avi", "x-flv", "mpg", "webm", "wmv", "3gpp")
)
_ROLES = frozenset({"system", "user", "assistant", "tool"})
WEB_SEARCH = "$web_search"


@dataclass
class ChatRequest:
    """A validated chat request, with everything the brain and the renderer need."""

    body: dict[str, Any]
    spec: ModelSpec
    model: str
    messages: list[dict[str, Any]]
    thinking: bool
    stream: bool
    include_usage: bool
    max_tokens: int | None
    functions: list[dict[str, Any]] = field(default_factory=list)
    web_search_declared: bool = False
    tool_choice: Any = None
    response_format: dict[str, Any] | None = None
    partial_prefix: str | None = None
    prompt_tokens: int = 0
    search_tokens: int = 0
    n: int = 1
    logprobs: bool = False
    top_logprobs: int = 0
    effort: str | None = None

    @property
    def last_text(self) -> str:
        """Text of the last message that is not a partial prefix."""
        for message in reversed(self.messages):
            if not message.get("partial"):
                return message_text(message.get("content"))
        return ""


def message_text(content: Any) -> str:
    """The text of a message's ``content`` (string or parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def _fmt(value: float) -> str:
    return f"{value:g}"


def validate_chat(
    body: Any, config: EmulatorConfig, files: FileStore, *, stream_default: bool = False
) -> ChatRequest:
    """Check a chat completion body like the real service and return the parsed request.

    Raises:
        ApiError: the 4xx the real service would answer.
    """
    if not isinstance(body, dict):
        raise ApiError.invalid("Invalid request: request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ApiError.invalid("Invalid request: model is required")
    spec = find_model(model, config.now())
    if spec is None:
        raise ApiError.model_not_found(model)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError.invalid("Invalid request: messages must be a non-empty array")
    if "functions" in body or "function_call" in body:
        field_name = "functions" if "functions" in body else "function_call"
        raise ApiError.invalid(
            f"Invalid request: the legacy '{field_name}' field is not supported, use 'tools' "
            f"instead"
        )
    thinking, keep_all, thinking_effort = _thinking(body, spec)
    _sampling(body, spec, thinking, config)
    reasoning_effort = _reasoning_effort(body, spec)
    max_tokens = _max_tokens(body)
    _messages(messages, spec, thinking=thinking, keep_all=keep_all, files=files)
    functions, web_search = _all_tools(body, messages, config)
    if web_search and thinking and config.web_search_with_thinking == "reject":
        raise ApiError.invalid(
            f"Invalid request: {WEB_SEARCH} is incompatible with thinking enabled"
        )
    tool_choice = _tool_choice(body, spec, thinking, functions, config)
    response_format = _response_format(body)
    _stop(body.get("stop"))
    search_tokens = _web_search_echoes(messages)
    _content_filter(messages, config)
    prompt_tokens = (
        count_messages(messages, body.get("tools"))
        + search_tokens
        + _response_format_tokens(response_format)
    )
    requested = prompt_tokens + (max_tokens or 0)
    if requested > spec.context_length:
        raise ApiError.invalid(
            f"Invalid request: Your request exceeded model token limit: {spec.context_length} "
            f"(requested: {requested})"
        )
    last = messages[-1]
    partial_prefix = (
        message_text(last.get("content"))
        if last.get("role") == "assistant" and last.get("partial")
        else None
    )
    stream_options = body.get("stream_options")
    top_logprobs = body.get("top_logprobs")
    return ChatRequest(
        body=body,
        spec=spec,
        model=model,
        messages=messages,
        thinking=thinking,
        stream=bool(body.get("stream", stream_default)),
        include_usage=isinstance(stream_options, dict)
        and bool(stream_options.get("include_usage")),
        max_tokens=max_tokens,
        functions=functions,
        web_search_declared=web_search,
        tool_choice=tool_choice,
        response_format=response_format,
        partial_prefix=partial_prefix,
        prompt_tokens=prompt_tokens,
        search_tokens=search_tokens,
        n=int(body.get("n") or 1),
        logprobs=bool(body.get("logprobs")),
        top_logprobs=top_logprobs if isinstance(top_logprobs, int) else 0,
        # kimi-api.md 13.1: thinking.effort wins over reasoning_effort; neither means max.
        effort=(thinking_effort or reasoning_effort or "max")
        if spec.supports_reasoning_effort
        else None,
    )


def _thinking(body: dict[str, Any], spec: ModelSpec) -> tuple[bool, bool, str | None]:
    """(thinking on, keep == all, thinking.effort) after checking ``thinking`` (kimi-api.md 2.1)."""
    raw = body.get("thinking")
    if spec.thinking == "k3":
        # K3 always reasons (whether type "disabled" is honoured is UNCONFIRMED, 13.1).
        return True, False, _k3_thinking(raw)
    if spec.thinking == "none":
        return False, False, None  # UNCONFIRMED whether old models reject it; accepted, ignored
    return (*_k2_thinking(raw, spec), None)


_EFFORTS = ("low", "high", "max")


def _k3_thinking(raw: Any) -> str | None:
    """The K3 ``thinking`` object of kimi-api.md 13.1; returns its ``effort``."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ApiError.invalid("Invalid request: thinking must be an object")
    for key in raw:
        if key not in ("type", "keep", "effort"):
            raise ApiError.invalid(
                f"Invalid request: thinking.{key} is not supported for this model"
            )
    kind = raw.get("type", "enabled")  # omitted type means enabled (13.1)
    if kind not in ("enabled", "disabled"):
        raise ApiError.invalid("Invalid request: thinking.type must be 'enabled' or 'disabled'")
    if kind == "enabled" and raw.get("keep") not in (None, "all"):
        raise ApiError.invalid("invalid thinking: only keep=all is allowed for this model")
    effort = raw.get("effort")
    if effort is not None and effort not in _EFFORTS:
        raise ApiError.invalid("Invalid request: thinking.effort must be one of low, high, max")
    return effort


def _k2_thinking(raw: Any, spec: ModelSpec) -> tuple[bool, bool]:
    preserved = "all" in spec.keep_values  # k2.7-code: keep is always "all"
    if raw is None:
        return True, spec.thinking == "always" and preserved
    if not isinstance(raw, dict):
        raise ApiError.invalid("Invalid request: thinking must be an object")
    allowed = {"type", "keep"} if len(spec.keep_values) > 1 else {"type"}
    for key in raw:
        if key not in allowed:
            raise ApiError.invalid(
                f"Invalid request: thinking.{key} is not supported for this model"
            )
    kind = raw.get("type")
    if kind not in ("enabled", "disabled"):
        raise ApiError.invalid("Invalid request: thinking.type must be 'enabled' or 'disabled'")
    keep = raw.get("keep")
    if spec.thinking == "always":
        if kind != "enabled":
            raise ApiError.invalid("invalid thinking: only type=enabled is allowed for this model")
        if keep not in (None, "all"):
            raise ApiError.invalid("invalid thinking: only keep=all is allowed for this model")
        return True, preserved
    if keep not in spec.keep_values:
        raise ApiError.invalid("Invalid request: thinking.keep must be 'all' or null")
    return kind == "enabled", kind == "enabled" and keep == "all"


_SAMPLING_FIELDS = ("temperature", "top_p", "n", "presence_penalty", "frequency_penalty")


def _sampling(
    body: dict[str, Any], spec: ModelSpec, thinking: bool, config: EmulatorConfig
) -> None:
    """Fixed sampling values on K-series models, ranges on older ones (kimi-api.md 2.3)."""
    for name in _SAMPLING_FIELDS:
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ApiError.invalid(f"Invalid request: {name} must be a number")
    if isinstance(body.get("n"), float):
        raise ApiError.invalid("Invalid request: n must be an integer")
    fixed = spec.fixed_sampling
    if fixed is None:
        temperature = body.get("temperature")
        n = body.get("n")
        if temperature is not None and not 0 <= temperature <= 1:
            raise ApiError.invalid("Invalid request: temperature must be within [0, 1]")
        if n is not None and not 1 <= n <= 5:
            raise ApiError.invalid("Invalid request: n must be within [1, 5]")
        if n is not None and n > 1 and temperature is not None and temperature < 0.3:
            raise ApiError.invalid("Invalid request: n > 1 requires a temperature of at least 0.3")
        return
    expected: dict[str, float] = {
        "temperature": fixed.temperature_thinking if thinking else fixed.temperature_no_thinking,
        "top_p": fixed.top_p,
        "n": fixed.n,
        "presence_penalty": fixed.presence_penalty,
        "frequency_penalty": fixed.frequency_penalty,
    }
    if thinking and spec.thinking == "optional" and config.temperature_with_thinking == "range":
        del expected["temperature"]  # the vendor verifier's expectation (switch)
        temperature = body.get("temperature")
        if temperature is not None and not 0 <= temperature <= 1:
            raise ApiError.invalid("Invalid request: temperature must be within [0, 1]")
    for name, value in expected.items():
        sent = body.get(name)
        if sent is not None and sent != value:
            raise ApiError.invalid(f"invalid {name}: only {_fmt(value)} is allowed for this model")


def _reasoning_effort(body: dict[str, Any], spec: ModelSpec) -> str | None:
    effort = body.get("reasoning_effort")
    if not spec.supports_reasoning_effort or effort is None:
        return None
    if not isinstance(effort, str):  # wording quoted in kimi-api.md 13.1
        raise ApiError.invalid("the reasoning_effort field (expected type string) is illegal")
    if effort not in _EFFORTS:
        raise ApiError.invalid("Invalid request: reasoning_effort must be one of low, high, max")
    return effort


def _max_tokens(body: dict[str, Any]) -> int | None:
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ApiError.invalid(f"Invalid request: {name} must be a positive integer")
        return value
    return None


def _all_tools(
    body: dict[str, Any], messages: list[dict[str, Any]], config: EmulatorConfig
) -> tuple[list[dict[str, Any]], bool]:
    """Top-level and dynamic (system-message) tools; names unique across all (kimi-api.md 13.2)."""
    seen: set[str] = set()
    functions, web_search = _declarations(body.get("tools"), "tools", config, seen)
    for index, message in enumerate(messages):
        if message.get("tools") is None:
            continue
        if message.get("role") != "system":
            raise ApiError.invalid(
                f"Invalid request: tools are only allowed on system messages, the message at "
                f"position {index} has role '{message.get('role')}'"
            )
        if message_text(message.get("content")).strip():
            raise ApiError.invalid(
                f"Invalid request: the system message at position {index} carries tools, so its "
                f"content must be empty"
            )
        more, more_search = _declarations(
            message["tools"], f"messages[{index}].tools", config, seen
        )
        functions += more
        web_search = web_search or more_search
    return functions, web_search


def _declarations(
    tools: Any, where: str, config: EmulatorConfig, seen: set[str]
) -> tuple[list[dict[str, Any]], bool]:
    """Function declarations and whether ``$web_search`` is declared (kimi-api.md 1.2, 4, 7)."""
    if tools is None:
        return [], False
    if not isinstance(tools, list):
        raise ApiError.invalid(f"Invalid request: {where} must be an array")
    if len(tools) > config.max_tools:
        raise ApiError.invalid(
            f"Invalid request: too many tools, at most {config.max_tools} are allowed"
        )
    functions: list[dict[str, Any]] = []
    web_search = False
    name_rule = _NAME_RULES[config.function_name_rule]
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise ApiError.invalid(f"Invalid request: {where}[{index}] must be an object")
        function = tool.get("function")
        if not isinstance(function, dict):
            raise ApiError.invalid(f"Invalid request: {where}[{index}].function must be an object")
        name = function.get("name")
        kind = tool.get("type")
        if kind == "builtin_function":
            if name != WEB_SEARCH:
                raise ApiError.invalid(f"Invalid request: unknown builtin function {name!r}")
            web_search = True
            continue
        if kind != "function":
            raise ApiError.invalid(
                f"Invalid request: {where}[{index}].type {kind!r} is not supported"
            )
        if not isinstance(name, str) or not name_rule.match(name):
            raise ApiError.invalid(
                "Invalid request: function name is invalid, must start with a letter and can "
                "contain "
                "letters, numbers, underscores, and dashes"
            )
        if name in seen:
            raise ApiError.invalid(f"function name {name} is duplicated")
        seen.add(name)
        _parameters(function, f"{where}[{index}].function")
        functions.append(function)
    return functions, web_search


def _parameters(function: dict[str, Any], where: str) -> None:
    """``parameters`` must be MFJS unless ``strict`` is false (strict defaults to true, 13.2)."""
    strict = function.get("strict", True)
    if not isinstance(strict, bool):
        raise ApiError.invalid(f"Invalid request: {where}.strict must be a boolean")
    parameters = function.get("parameters")
    if parameters is None:
        return
    if not strict:
        if not isinstance(parameters, dict):
            raise ApiError.invalid(f"Invalid request: {where}.parameters must be an object")
        return
    if (error := mfjs_error(parameters)) is not None:
        raise ApiError.invalid(
            f"Invalid request: {where}.parameters is not a valid moonshot "
            f"flavored json schema, details: <{error}>"
        )


def _media_url(part: dict[str, Any], kind: str) -> str:
    value = part.get(kind)
    url = value.get("url") if isinstance(value, dict) else value
    if not isinstance(url, str):
        raise ApiError.invalid(f"Invalid request: {kind}.url must be a string")
    return url


def _check_media(url: str, kind: str, spec: ModelSpec, files: FileStore) -> None:
    """Media parts: data URLs or ms://<file id> only (kimi-api.md 6.1)."""
    noun = "image" if kind == "image_url" else "video"
    supported = spec.image_in if noun == "image" else spec.video_in
    if not supported:
        raise ApiError.invalid(f"Invalid request: {noun} input is not supported by model {spec.id}")
    if url.startswith("ms://"):
        file_id = url.removeprefix("ms://")
        if not files.exists(file_id):
            raise ApiError.invalid(f"Invalid request: file {file_id} not found")
        return
    if url.startswith("data:"):
        mime = url[5:].split(";", 1)[0].split(",", 1)[0].lower()
        if mime == "image/svg+xml":
            raise ApiError.invalid(
                "Invalid request: unsupported image format: text/plain; charset=utf-8"
            )
        allowed = _IMAGE_MIME if noun == "image" else _VIDEO_MIME
        if mime not in allowed:
            raise ApiError.invalid(f"Invalid request: unsupported {noun} format: {mime}")
        return
    raise ApiError.invalid(
        f"Invalid request: unsupported {noun} url, only base64 data urls and ms://<file_id> are "
        f"supported"
    )


def _messages(
    messages: list[Any], spec: ModelSpec, *, thinking: bool, keep_all: bool, files: FileStore
) -> None:
    """Roles, content parts, empty assistants and reasoning_content rules (kimi-api.md 3, 6)."""
    last_index = len(messages) - 1
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise ApiError.invalid(
                f"Invalid request: the message at position {index} must be an object"
            )
        role = message.get("role")
        if role not in _ROLES:
            raise ApiError.invalid(
                f"Invalid request: the message at position {index} has an invalid role"
            )
        _field_types(message, index)
        if spec.k3_contract and role == "tool" and not message.get("tool_call_id"):
            raise ApiError.invalid(
                f"Invalid request: the tool message at position {index} needs a tool_call_id"
            )
        content = message.get("content")
        if isinstance(content, list):
            for part in content:
                kind = part.get("type") if isinstance(part, dict) else None
                if kind in ("image_url", "video_url"):
                    _check_media(_media_url(part, kind), kind, spec, files)
                elif kind != "text":
                    raise ApiError.invalid(f"Invalid request: invalid part type: {kind}")
        if role != "assistant":
            continue
        partial = bool(message.get("partial")) and index == last_index
        tool_calls = message.get("tool_calls")
        if tool_calls:
            if isinstance(content, str) and not content.strip():
                raise ApiError.invalid("text content is empty")
        elif not partial and content in (None, "", []):
            raise ApiError.invalid(
                f"Invalid request: the message at position {index} with role 'assistant' must "
                f"not be empty"
            )
        if not partial and thinking:
            _reasoning_rules(message, index, spec, keep_all=keep_all)


def _is_call(call: Any) -> bool:
    function = call.get("function") if isinstance(call, dict) else None
    return (
        isinstance(call.get("id"), str)
        and isinstance(function, dict)
        and isinstance(function.get("name"), str)
        and isinstance(function.get("arguments", ""), str)
    )


def _field_types(message: dict[str, Any], index: int) -> None:
    """JSON types of the message fields the rules below read."""
    where = f"Invalid request: the message at position {index}"
    if not isinstance(message.get("content"), str | list | None):
        raise ApiError.invalid(f"{where} has an invalid content")
    for key in ("reasoning_content", "tool_call_id", "name"):
        if not isinstance(message.get(key), str | None):
            raise ApiError.invalid(f"{where} has an invalid {key}")
    tool_calls = message.get("tool_calls")
    if tool_calls is not None and (
        not isinstance(tool_calls, list) or not all(_is_call(call) for call in tool_calls)
    ):
        raise ApiError.invalid(f"{where} has invalid tool_calls")


def _reasoning_rules(
    message: dict[str, Any], index: int, spec: ModelSpec, *, keep_all: bool
) -> None:
    """reasoning_content must come back on assistant messages while thinking (kimi-api.md 3)."""
    reasoning = message.get("reasoning_content")
    if message.get("tool_calls") and spec.requires_tool_call_reasoning:
        missing = reasoning is None or (spec.empty_reasoning_is_missing and reasoning == "")
        if missing:
            raise ApiError.invalid(
                "thinking is enabled but reasoning_content is missing in assistant tool call "
                f"message at index {index}"
            )
    if keep_all and reasoning is None:
        raise ApiError.invalid(
            "preserved thinking (thinking.keep=all) requires reasoning_content on every assistant "
            f"message, but assistant message at index {index} is missing reasoning_content"
        )


def _tool_choice(
    body: dict[str, Any],
    spec: ModelSpec,
    thinking: bool,
    functions: list[dict[str, Any]],
    config: EmulatorConfig,
) -> Any:
    """``tool_choice`` per model and thinking state (kimi-api.md 7)."""
    choice = body.get("tool_choice")
    if spec.k3_contract and choice is not None:
        _k3_tool_choice(body, choice, functions)
    if choice in (None, "auto", "none"):
        return choice
    if choice == "required":
        label, policy = "required", spec.required_tool_choice
    elif (
        isinstance(choice, dict)
        and choice.get("type") == "function"
        and isinstance(choice.get("function"), dict)
    ):
        label, policy = "specified", spec.named_tool_choice
        name = choice["function"].get("name")
        if name not in {f.get("name") for f in functions}:
            raise ApiError.invalid(
                f"Invalid request: tool_choice names an undeclared function {name!r}"
            )
    else:
        raise ApiError.invalid(
            "Invalid request: tool_choice must be 'none', 'auto', 'required' or a named function"
        )
    if spec.legacy_tool_choice:
        raise ApiError.invalid(
            f"Invalid request: tool_choice '{label}' is not supported for this model"
        )
    if policy == "reject" or (
        policy == "reject_when_thinking"
        and thinking
        and config.tool_choice_required_on_k26_thinking_on == "reject"
    ):
        raise ApiError.invalid(f"tool_choice '{label}' is incompatible with thinking enabled")
    if (
        policy == "reject_when_thinking"
        and config.tool_choice_required_on_k26_thinking_off == "reject"
    ):
        raise ApiError.invalid(
            f"Invalid request: tool_choice '{label}' is not supported for this model"
        )
    return choice


def _k3_tool_choice(body: dict[str, Any], choice: Any, functions: list[dict[str, Any]]) -> None:
    """kimi-api.md 13.2: no tool_choice over an empty tools list, no "required" without tools."""
    if body.get("tools") == []:
        raise ApiError.invalid(
            "Invalid request: tool_choice cannot be used with an empty tools list; declare a tool "
            "or leave out both"
        )
    if choice == "required" and not functions:
        raise ApiError.invalid(
            "Invalid request: tool_choice 'required' needs tools, declare at least one function"
        )


def _response_format_tokens(response_format: dict[str, Any] | None) -> int:
    """A structured-output schema is part of what the model reads (kimi-api.md 13.2)."""
    if response_format is None or response_format.get("type") != "json_schema":
        return 0
    return count_text(json.dumps(response_format["json_schema"], ensure_ascii=False))


def _response_format(body: dict[str, Any]) -> dict[str, Any] | None:
    """JSON mode and structured output; schemas must be MFJS-valid (kimi-api.md 7)."""
    response_format = body.get("response_format")
    if response_format is None:
        return None
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return response_format  # type: ignore[no-any-return]
    if kind != "json_schema":
        raise ApiError.invalid(
            "Invalid request: response_format.type must be 'text', 'json_object' or 'json_schema'"
        )
    json_schema = response_format.get("json_schema")
    if (
        not isinstance(json_schema, dict)
        or "name" not in json_schema
        or "schema" not in json_schema
    ):
        raise ApiError.invalid(
            "Invalid request: response_format.json_schema needs 'name' and 'schema'"
        )
    strict = json_schema.get("strict", True)  # defaults to true (kimi-api.md 13.2)
    if not isinstance(strict, bool):
        raise ApiError.invalid(
            "Invalid request: response_format.json_schema.strict must be a boolean"
        )
    if not isinstance(json_schema["schema"], dict):
        raise ApiError.invalid(
            "Invalid request: response_format.json_schema.schema must be an object"
        )
    if strict and (error := mfjs_error(json_schema["schema"])) is not None:
        raise ApiError.invalid(
            "Invalid request: response_format.json_schema is not a valid moonshot flavored json "
            f"schema, details: <{error}>"
        )
    return response_format  # type: ignore[no-any-return]


def _stop(stop: Any) -> None:
    """``stop``: a string or at most 5 strings of at most 32 bytes each (kimi-api.md 7)."""
    if stop is None:
        return
    items = [stop] if isinstance(stop, str) else stop
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ApiError.invalid("Invalid request: stop must be a string or an array of strings")
    if len(items) > 5:
        raise ApiError.invalid("Invalid request: stop can have at most 5 items")
    for item in items:
        if len(item.encode()) > 32:
            raise ApiError.invalid("Invalid request: each stop item can be at most 32 bytes")


def _web_search_echoes(messages: list[dict[str, Any]]) -> int:
    """Check every ``$web_search`` round is echoed verbatim; return the search tokens to bill.

    kimi-api.md 4: the reply is ``{"role":"tool","tool_call_id":<id>,"name":"$web_search",
    "content":<arguments>}``; a re-serialised but equal JSON is accepted, as the official
    example does.
    """
    calls: dict[str, str] = {}
    answered: set[str] = set()
    tokens = 0
    for index, message in enumerate(messages):
        if message.get("role") == "assistant":
            for call in message.get("tool_calls") or []:
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict) and function.get("name") == WEB_SEARCH:
                    calls[str(call.get("id"))] = str(function.get("arguments", ""))
        elif message.get("role") == "tool" and message.get("tool_call_id") in calls:
            call_id = message["tool_call_id"]
            arguments = calls[call_id]
            if message.get("name") != WEB_SEARCH or not _same_json(
                message.get("content"), arguments
            ):
                raise ApiError.invalid(
                    f"Invalid request: the tool message at position {index} must echo the "
                    f"{WEB_SEARCH} arguments verbatim with name '{WEB_SEARCH}'"
                )
            answered.add(call_id)
            tokens += _search_tokens(arguments)
    for call_id in calls:
        if call_id not in answered:
            raise ApiError.invalid(
                f"Invalid request: the {WEB_SEARCH} tool call {call_id} has no echoing tool message"
            )
    return tokens


def _search_tokens(arguments: str) -> int:
    try:
        usage = json.loads(arguments).get("usage") or {}
        return int(usage.get("total_tokens") or 0)
    except (ValueError, AttributeError, TypeError):
        return 0


def _same_json(content: Any, arguments: str) -> bool:
    if not isinstance(content, str):
        return False
    try:
        return bool(json.loads(content) == json.loads(arguments))
    except ValueError:
        return False


def _content_filter(messages: list[dict[str, Any]], config: EmulatorConfig) -> None:
    trigger = config.content_filter_trigger
    if trigger and any(trigger in message_text(m.get("content")) for m in messages):
        raise ApiError(
            400, "content_filter", "The request was rejected because it was considered high risk"
        )
