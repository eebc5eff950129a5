"""One test per request validation rule: status, error type and message as in kimi-api.md."""

from __future__ import annotations

import base64
from typing import Any

import openai
import pytest
from kimi_emulator import KimiEmulator

PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def tool_round(reasoning: Any = "I will call get_weather.") -> list[dict[str, Any]]:
    """user -> assistant tool call -> tool result, with ``reasoning`` on the call (or absent)."""
    call: dict[str, Any] = {
        "role": "assistant",
        "tool_calls": [
            {
                "id": "get_weather_0",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    }
    if reasoning is not None:
        call["reasoning_content"] = reasoning
    return [
        {"role": "user", "content": "Weather in Paris?"},
        call,
        {"role": "tool", "tool_call_id": "get_weather_0", "content": "18C"},
    ]


# ---- authentication (section 11) ---------------------------------------------------------------
def test_missing_key_is_invalid_authentication(raw: Any) -> None:
    response = raw.chat({"model": "kimi-k2.6", "messages": []}, auth=None)
    assert response.status == 401
    assert response.json() == {
        "error": {"message": "Invalid Authentication", "type": "invalid_authentication_error"}
    }


def test_wrong_key_is_incorrect_api_key(kimi_emulator: KimiEmulator) -> None:
    sdk = openai.OpenAI(base_url=kimi_emulator.base_url, api_key="sk-wrong", max_retries=0)
    with sdk, pytest.raises(openai.AuthenticationError) as caught:
        sdk.models.list()
    assert caught.value.body == {
        "message": "Incorrect API key provided",
        "type": "incorrect_api_key_error",
    }
    assert kimi_emulator.requests[-1].headers["Authorization"] == "Bearer [REDACTED]"


# ---- models (section 1) ------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["kimi-k9", "kimi-k2-thinking", "kimi-latest", "moonshot-v1-8k"])
def test_unknown_and_retired_models_are_404(rejects: Any, model: str) -> None:
    rejects(
        404,
        "resource_not_found_error",
        f"Not found the model {model} or Permission denied",
        model=model,
    )


def test_models_before_their_sunset_still_serve(august: Any) -> None:
    _, sdk = august
    reply = sdk.chat.completions.create(
        model="moonshot-v1-8k", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content


# ---- thinking (section 2.1) --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "thinking", "message"),
    [
        ("kimi-k2.6", "on", "Invalid request: thinking must be an object"),
        (
            "kimi-k2.6",
            {"type": "maybe"},
            "Invalid request: thinking.type must be 'enabled' or 'disabled'",
        ),
        (
            "kimi-k2.6",
            {"type": "enabled", "budget": 5},
            "Invalid request: thinking.budget is not supported for this model",
        ),
        (
            "kimi-k2.6",
            {"type": "enabled", "keep": "last"},
            "Invalid request: thinking.keep must be 'all' or null",
        ),
        (
            "kimi-k2.7-code",
            {"type": "disabled"},
            "invalid thinking: only type=enabled is allowed for this model",
        ),
        (
            "kimi-k2.7-code",
            {"type": "enabled", "keep": "none"},
            "invalid thinking: only keep=all is allowed for this model",
        ),
    ],
)
def test_thinking_object_is_checked_per_model(
    rejects: Any, model: str, thinking: Any, message: str
) -> None:
    rejects(400, "invalid_request_error", message, model=model, extra_body={"thinking": thinking})


def test_keep_is_refused_on_k25(august: Any) -> None:
    _, sdk = august
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(
            model="kimi-k2.5",
            messages=[{"role": "user", "content": "hi"}],
            extra_body={"thinking": {"type": "enabled", "keep": "all"}},
        )
    assert caught.value.body == {
        "message": "Invalid request: thinking.keep is not supported for this model",
        "type": "invalid_request_error",
    }


def test_keep_all_is_accepted_on_k26(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="kimi-k2.6",
        messages=[{"role": "user", "content": "hi"}],
        extra_body={"thinking": {"type": "enabled", "keep": "all"}},
    )
    assert reply.choices[0].message.reasoning_content  # type: ignore[attr-defined]


def test_k27_code_accepts_enabled_with_keep_all(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="kimi-k2.7-code",
        messages=[{"role": "user", "content": "hi"}],
        extra_body={"thinking": {"type": "enabled", "keep": "all"}},
    )
    assert reply.choices[0].message.reasoning_content  # type: ignore[attr-defined]


def test_k3_ignores_thinking_and_still_reasons(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="kimi-k3",
        messages=[{"role": "user", "content": "hi"}],
        extra_body={"thinking": {"type": "disabled"}},
    )
    assert reply.choices[0].message.reasoning_content  # type: ignore[attr-defined]


def test_thinking_disabled_on_k26_sends_no_reasoning(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="kimi-k2.6",
        messages=[{"role": "user", "content": "hi"}],
        extra_body={"thinking": {"type": "disabled"}},
    )
    assert reply.choices[0].message.reasoning_content == ""  # type: ignore[attr-defined]
    assert reply.usage is not None
    assert reply.usage.completion_tokens_details is None


# ---- fixed sampling (section 2.3) --------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "thinking", "field", "value", "message"),
    [
        (
            "kimi-k2.6",
            "enabled",
            "temperature",
            0.7,
            "invalid temperature: only 1 is allowed for this model",
        ),
        (
            "kimi-k2.6",
            "disabled",
            "temperature",
            1.0,
            "invalid temperature: only 0.6 is allowed for this model",
        ),
        (
            "kimi-k3",
            None,
            "temperature",
            0.5,
            "invalid temperature: only 1 is allowed for this model",
        ),
        (
            "kimi-k2.7-code",
            None,
            "temperature",
            0.6,
            "invalid temperature: only 1 is allowed for this model",
        ),
        ("kimi-k2.6", None, "top_p", 0.5, "invalid top_p: only 0.95 is allowed for this model"),
        ("kimi-k3", None, "n", 2, "invalid n: only 1 is allowed for this model"),
        (
            "kimi-k2.6",
            None,
            "presence_penalty",
            0.5,
            "invalid presence_penalty: only 0 is allowed for this model",
        ),
        (
            "kimi-k2.6",
            None,
            "frequency_penalty",
            0.5,
            "invalid frequency_penalty: only 0 is allowed for this model",
        ),
    ],
)
def test_fixed_sampling_values(
    rejects: Any, model: str, thinking: str | None, field: str, value: float, message: str
) -> None:
    extra = {"thinking": {"type": thinking}} if thinking else {}
    rejects(400, "invalid_request_error", message, model=model, extra_body={field: value, **extra})


def test_exact_fixed_values_are_accepted(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="kimi-k2.6",
        messages=[{"role": "user", "content": "hi"}],
        temperature=0.6,
        top_p=0.95,
        n=1,
        presence_penalty=0,
        frequency_penalty=0,
        extra_body={"thinking": {"type": "disabled"}},
    )
    assert reply.choices[0].finish_reason == "stop"


def test_old_models_have_ranges_not_fixed_values(august: Any) -> None:
    _, sdk = august
    reply = sdk.chat.completions.create(
        model="moonshot-v1-8k", messages=[{"role": "user", "content": "hi"}], temperature=0.3
    )
    assert reply.choices[0].message.content
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(
            model="moonshot-v1-8k", messages=[{"role": "user", "content": "hi"}], temperature=1.5
        )
    assert caught.value.body["message"] == "Invalid request: temperature must be within [0, 1]"  # type: ignore[index]


# ---- reasoning_content round trip (section 3) --------------------------------------------------
def test_missing_reasoning_on_tool_call_message(rejects: Any) -> None:
    rejects(
        400,
        "invalid_request_error",
        "thinking is enabled but reasoning_content is missing in assistant tool call message at "
        "index 1",
        messages=tool_round(reasoning=None),
        tools=[TOOL],
    )


def test_empty_reasoning_counts_as_missing_on_k26(rejects: Any) -> None:
    rejects(
        400,
        "invalid_request_error",
        "thinking is enabled but reasoning_content is missing in assistant tool call message at "
        "index 1",
        messages=tool_round(reasoning=""),
        tools=[TOOL],
    )


@pytest.mark.parametrize("model", ["kimi-k2.6", "kimi-k2.7-code"])
def test_a_single_space_reasoning_is_accepted(client: openai.OpenAI, model: str) -> None:
    reply = client.chat.completions.create(model=model, messages=tool_round(" "), tools=[TOOL])  # type: ignore[arg-type]
    assert "18C" in (reply.choices[0].message.content or "")


def test_k3_does_not_require_reasoning_back(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model="kimi-k3", messages=tool_round(None), tools=[TOOL])  # type: ignore[arg-type]
    assert reply.choices[0].finish_reason == "stop"


def test_thinking_off_does_not_require_reasoning(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="kimi-k2.6",
        messages=tool_round(None),  # type: ignore[arg-type]
        tools=[TOOL],  # type: ignore[list-item]
        extra_body={"thinking": {"type": "disabled"}},
    )
    assert reply.choices[0].finish_reason == "stop"


def test_keep_all_requires_reasoning_on_every_assistant_message(rejects: Any) -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "again"},
    ]
    rejects(
        400,
        "invalid_request_error",
        "preserved thinking (thinking.keep=all) requires reasoning_content on every assistant "
        "message, but assistant message at index 1 is missing reasoning_content",
        messages=messages,
        extra_body={"thinking": {"type": "enabled", "keep": "all"}},
    )


def test_k27_code_always_preserves_thinking(rejects: Any) -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "again"},
    ]
    rejects(
        400,
        "invalid_request_error",
        "preserved thinking (thinking.keep=all) requires reasoning_content on every assistant "
        "message, but assistant message at index 1 is missing reasoning_content",
        model="kimi-k2.7-code",
        messages=messages,
    )


def test_keep_all_counts_empty_reasoning_as_present(client: openai.OpenAI) -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello", "reasoning_content": ""},
        {"role": "user", "content": "again"},
    ]
    reply = client.chat.completions.create(
        model="kimi-k2.7-code",
        messages=messages,  # type: ignore[arg-type]
    )
    assert reply.choices[0].finish_reason == "stop"


# ---- empty assistant messages (section 3) ------------------------------------------------------
def test_empty_assistant_message(rejects: Any) -> None:
    rejects(
        400,
        "invalid_request_error",
        "Invalid request: the message at position 1 with role 'assistant' must not be empty",
        messages=[
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": ""},
            {"role": "user", "content": "hi"},
        ],
        extra_body={"thinking": {"type": "disabled"}},
    )


@pytest.mark.parametrize("content", ["", "   "])
def test_empty_text_beside_tool_calls(rejects: Any, content: str) -> None:
    messages = tool_round()
    messages[1]["content"] = content
    rejects(400, "invalid_request_error", "text content is empty", messages=messages, tools=[TOOL])


# ---- tool_choice (section 7) -------------------------------------------------------------------
NAMED = {"type": "function", "function": {"name": "get_weather"}}


@pytest.mark.parametrize(
    ("model", "choice", "label"),
    [
        ("kimi-k2.6", "required", "required"),
        ("kimi-k2.6", NAMED, "specified"),
        ("kimi-k2.7-code", "required", "required"),
        ("kimi-k2.7-code", NAMED, "specified"),
        ("kimi-k3", NAMED, "specified"),
    ],
)
def test_forced_tool_choice_with_thinking(
    rejects: Any, model: str, choice: Any, label: str
) -> None:
    rejects(
        400,
        "invalid_request_error",
        f"tool_choice '{label}' is incompatible with thinking enabled",
        model=model,
        tools=[TOOL],
        tool_choice=choice,
    )


def test_k3_accepts_required(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="kimi-k3",
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[TOOL],  # type: ignore[list-item]
        tool_choice="required",
    )
    assert reply.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize("choice", ["required", NAMED])
def test_k26_thinking_off_accepts_forced_choice_by_default(
    client: openai.OpenAI, choice: Any
) -> None:
    reply = client.chat.completions.create(
        model="kimi-k2.6",
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[TOOL],  # type: ignore[list-item]
        tool_choice=choice,
        extra_body={"thinking": {"type": "disabled"}},
    )
    calls = reply.choices[0].message.tool_calls
    assert calls
    assert calls[0].function.name == "get_weather"  # type: ignore[union-attr]


def test_k26_thinking_off_forced_choice_switch(make_emulator: Any) -> None:
    _, sdk = make_emulator(tool_choice_required_on_k26_thinking_off="reject")
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(
            model="kimi-k2.6",
            messages=[{"role": "user", "content": "hi"}],
            tools=[TOOL],
            tool_choice="required",
            extra_body={"thinking": {"type": "disabled"}},
        )
    assert caught.value.body == {
        "message": "Invalid request: tool_choice 'required' is not supported for this model",
        "type": "invalid_request_error",
    }


def test_old_models_support_only_none_and_auto(august: Any) -> None:
    _, sdk = august
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(
            model="moonshot-v1-8k",
            messages=[{"role": "user", "content": "hi"}],
            tools=[TOOL],
            tool_choice="required",
        )
    assert caught.value.body["message"] == (  # type: ignore[index]
        "Invalid request: tool_choice 'required' is not supported for this model"
    )


# ---- media (section 6) -------------------------------------------------------------------------
def image(url: str, kind: str = "image_url") -> list[dict[str, Any]]:
    return [
        {
            "role": "user",
            "content": [
                {"type": kind, kind: {"url": url}},
                {"type": "text", "text": "What is it?"},
            ],
        }
    ]


@pytest.mark.parametrize(
    ("url", "kind", "message"),
    [
        (
            "https://example.com/cat.png",
            "image_url",
            "Invalid request: unsupported image url, only base64 data urls and ms://<file_id> "
            "are supported",
        ),
        (
            "http://example.com/v.mp4",
            "video_url",
            "Invalid request: unsupported video url, only base64 data urls and ms://<file_id> "
            "are supported",
        ),
        (
            "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=",
            "image_url",
            "Invalid request: unsupported image format: text/plain; charset=utf-8",
        ),
        (
            "data:image/tiff;base64,AAAA",
            "image_url",
            "Invalid request: unsupported image format: image/tiff",
        ),
        (
            "ms://file_doesnotexist",
            "image_url",
            "Invalid request: file file_doesnotexist not found",
        ),
    ],
)
def test_media_urls(rejects: Any, url: str, kind: str, message: str) -> None:
    rejects(400, "invalid_request_error", message, messages=image(url, kind))


def test_data_url_and_uploaded_file_are_accepted(client: openai.OpenAI) -> None:
    uploaded = client.files.create(file=("cat.png", b"\x89PNG fake"), purpose="image")  # type: ignore[arg-type]
    for url in (PNG, f"ms://{uploaded.id}"):
        reply = client.chat.completions.create(model="kimi-k2.6", messages=image(url))  # type: ignore[arg-type]
        assert reply.choices[0].finish_reason == "stop"


def test_video_on_a_model_without_video(august: Any) -> None:
    _, sdk = august
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(
            model="moonshot-v1-8k-vision-preview",
            messages=image("data:video/mp4;base64,AAAA", "video_url"),  # type: ignore[arg-type]
        )
    assert caught.value.body["message"] == (  # type: ignore[index]
        "Invalid request: video input is not supported by model moonshot-v1-8k-vision-preview"
    )


def test_file_part_type_is_rejected(rejects: Any) -> None:
    messages = [{"role": "user", "content": [{"type": "file", "file": {"file_id": "x"}}]}]
    rejects(
        400, "invalid_request_error", "Invalid request: invalid part type: file", messages=messages
    )


# ---- stop (section 7) --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("stop", "message"),
    [
        (["a", "b", "c", "d", "e", "f"], "Invalid request: stop can have at most 5 items"),
        ("x" * 33, "Invalid request: each stop item can be at most 32 bytes"),
    ],
)
def test_stop_limits(rejects: Any, stop: Any, message: str) -> None:
    rejects(400, "invalid_request_error", message, stop=stop)


def test_stop_within_limits_is_accepted(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="kimi-k2.6", messages=[{"role": "user", "content": "hi"}], stop=["x" * 32] * 5
    )
    assert reply.choices[0].finish_reason == "stop"


# ---- tools and schemas (sections 1.2, 7) -------------------------------------------------------
def function(name: str, parameters: Any = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": name}
    if parameters is not None:
        spec["parameters"] = parameters
    return {"type": "function", "function": spec}


def test_schema_node_without_type(rejects: Any) -> None:
    bad = {"type": "object", "properties": {"city": {"description": "no type"}}}
    rejects(
        400,
        "invalid_request_error",
        "Invalid request: tools[0].function.parameters is not a valid moonshot flavored json "
        "schema, details: <At path 'properties.city': type is not defined>",
        tools=[function("get_weather", bad)],
    )


def test_json_schema_tuple_items_rejected_with_live_wording(rejects: Any) -> None:
    schema = {
        "type": "object",
        "properties": {
            "pair": {"type": "array", "items": [{"type": "string"}, {"type": "number"}]}
        },
    }
    rejects(
        400,
        "invalid_request_error",
        "Invalid request: response_format.json_schema is not a valid moonshot flavored json "
        "schema, details: <At path 'properties.pair.items': items must be an object>",
        model="kimi-k3",
        response_format={"type": "json_schema", "json_schema": {"name": "t", "schema": schema}},
    )


@pytest.mark.parametrize("name", ["1abc", "has space", "dot.name", "$web_search"])
def test_bad_function_names(rejects: Any, name: str) -> None:
    rejects(
        400,
        "invalid_request_error",
        "Invalid request: function name is invalid, must start with a letter and can contain "
        "letters, numbers, underscores, and dashes",
        tools=[function(name)],
    )


def test_duplicated_function_names(rejects: Any) -> None:
    rejects(
        400,
        "invalid_request_error",
        "function name ping is duplicated",
        tools=[function("ping"), function("ping")],
    )


def test_short_names_follow_the_chosen_name_rule(client: openai.OpenAI, make_emulator: Any) -> None:
    reply = client.chat.completions.create(
        model="kimi-k2.6",
        messages=[{"role": "user", "content": "hi"}],
        tools=[function("f")],  # type: ignore[list-item]
    )
    assert reply.choices[0].finish_reason == "stop"
    _, strict = make_emulator(function_name_rule="tool-use-page")
    with pytest.raises(openai.BadRequestError):
        strict.chat.completions.create(
            model="kimi-k2.6",
            messages=[{"role": "user", "content": "hi"}],
            tools=[function("f")],  # type: ignore[list-item]
        )


def test_too_many_tools(rejects: Any) -> None:
    rejects(
        400,
        "invalid_request_error",
        "Invalid request: too many tools, at most 128 are allowed",
        tools=[function(f"tool_{i}") for i in range(129)],
    )


def test_tool_limit_is_configurable(make_emulator: Any) -> None:
    _, sdk = make_emulator(max_tools=2)
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(
            model="kimi-k2.6",
            messages=[{"role": "user", "content": "hi"}],
            tools=[function(f"tool_{i}") for i in range(3)],  # type: ignore[misc]
        )
    assert caught.value.body["message"] == "Invalid request: too many tools, at most 2 are allowed"  # type: ignore[index]


@pytest.mark.parametrize("field", ["functions", "function_call"])
def test_legacy_functions_field(rejects: Any, field: str) -> None:
    value: Any = (
        [{"name": "f", "parameters": {"type": "object"}}] if field == "functions" else "auto"
    )
    rejects(
        400,
        "invalid_request_error",
        f"Invalid request: the legacy '{field}' field is not supported, use 'tools' instead",
        extra_body={field: value},
    )


# ---- context window (section 11) ---------------------------------------------------------------
def test_prompt_plus_max_tokens_over_the_window(
    raw: Any, rejects: Any, kimi_emulator: KimiEmulator
) -> None:
    messages = [{"role": "user", "content": "word " * 50}]
    estimate = raw.request(
        "POST", "/v1/tokenizers/estimate-token-count", {"model": "kimi-k2.6", "messages": messages}
    ).json()["data"]["total_tokens"]
    max_tokens = 262_144 - estimate + 1
    rejects(
        400,
        "invalid_request_error",
        "Invalid request: Your request exceeded model token limit: 262144 "
        f"(requested: {estimate + max_tokens})",
        messages=messages,
        max_tokens=max_tokens,
    )
    assert kimi_emulator.chat_requests[-1]["max_tokens"] == max_tokens


def test_prompt_plus_max_tokens_at_the_window_is_accepted(raw: Any, client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "word " * 50}]
    estimate = raw.request(
        "POST", "/v1/tokenizers/estimate-token-count", {"model": "kimi-k2.6", "messages": messages}
    ).json()["data"]["total_tokens"]
    reply = client.chat.completions.create(
        model="kimi-k2.6",
        messages=messages,  # type: ignore[arg-type]
        max_completion_tokens=262_144 - estimate,
    )
    assert reply.usage is not None
    assert reply.usage.prompt_tokens == estimate


# ---- content filter (section 11) ---------------------------------------------------------------
def test_content_filter_trigger(rejects: Any) -> None:
    rejects(
        400,
        "content_filter",
        "The request was rejected because it was considered high risk",
        messages=[{"role": "user", "content": "please KIMI_EMULATOR_CONTENT_FILTER"}],
    )


# ---- $web_search with thinking (section 4, CONFLICT) -------------------------------------------
WEB_SEARCH = {"type": "builtin_function", "function": {"name": "$web_search"}}


def test_web_search_with_thinking_is_accepted_by_default(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="kimi-k2.6",
        messages=[{"role": "user", "content": "Search the web for Moonshot AI"}],
        tools=[WEB_SEARCH],  # type: ignore[list-item]
    )
    assert reply.choices[0].finish_reason == "tool_calls"


def test_web_search_with_thinking_can_be_rejected(make_emulator: Any) -> None:
    _, sdk = make_emulator(web_search_with_thinking="reject")
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(
            model="kimi-k2.6",
            messages=[{"role": "user", "content": "Search the web for Moonshot AI"}],
            tools=[WEB_SEARCH],
        )
    assert caught.value.body["message"] == (  # type: ignore[index]
        "Invalid request: $web_search is incompatible with thinking enabled"
    )


def test_model_lifecycle_follows_the_clock(make_emulator: Any) -> None:
    from datetime import UTC, datetime

    _, may = make_emulator(clock=datetime(2026, 5, 1, tzinfo=UTC))
    reply = may.chat.completions.create(
        model="kimi-k2-thinking", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.reasoning_content  # type: ignore[attr-defined]
    with pytest.raises(openai.NotFoundError) as caught:
        may.chat.completions.create(model="kimi-k3", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.body == {
        "message": "Not found the model kimi-k3 or Permission denied",
        "type": "resource_not_found_error",
    }
