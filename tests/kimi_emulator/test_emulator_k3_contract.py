"""The K3 request contract of kimi-api.md 13.1-13.3, over HTTP, rule by rule.

Dynamic tools and malformed bodies go as raw JSON (the openai SDK drops unknown message
fields); each test also checks what the emulator recorded.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from kimi_emulator import KimiEmulator

K3_FAMILY = ["kimi-k3", "kimi-k3.1-pro", "kimi-k3.1-pro-highspeed"]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def fn(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": name, "parameters": {"type": "object", "properties": {}}, **extra},
    }


def dynamic(*tools: Any, content: str = "") -> dict[str, Any]:
    return {"role": "system", "content": content, "tools": list(tools)}


USER = {"role": "user", "content": "what is the weather in Paris? use get_weather"}


def post(raw: Any, **body: Any) -> Any:
    body.setdefault("model", "kimi-k3")
    return raw.chat(body)


def error_of(response: Any) -> str:
    assert response.status == 400, response.body
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    return str(error["message"])


# ---- models (13.3) -----------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["kimi-k3.1-pro", "kimi-k3.1-pro-highspeed"])
def test_k31_pro_models_are_listed_and_serve(client: openai.OpenAI, model: str) -> None:
    listed = {m.id: m.model_dump() for m in client.models.list()}
    assert listed[model]["context_length"] == 1_048_576
    assert listed[model]["supports_reasoning"] is True
    reply = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.model == model
    assert reply.choices[0].message.reasoning_content  # type: ignore[attr-defined]


# ---- dynamic tools (13.2) ----------------------------------------------------------------------
@pytest.mark.parametrize("model", K3_FAMILY)
def test_dynamic_tool_is_declared_and_callable(
    raw: Any, kimi_emulator: KimiEmulator, model: str
) -> None:
    response = post(
        raw,
        model=model,
        messages=[{"role": "system", "content": "Be brief."}, USER, dynamic(WEATHER)],
        tool_choice="required",
    )
    assert response.status == 200, response.body
    choice = response.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]["function"]
    assert call["name"] == "get_weather"
    assert json.loads(call["arguments"]) == {"city": "Paris"}
    assert kimi_emulator.chat_requests[-1]["messages"][2]["tools"] == [WEATHER]


def test_dynamic_tools_in_several_system_messages_and_with_global_tools(raw: Any) -> None:
    response = post(
        raw,
        tools=[fn("get_news")],
        messages=[dynamic(fn("get_time")), dynamic(WEATHER), USER],
    )
    assert response.status == 200, response.body
    calls = response.json()["choices"][0]["message"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_weather"]


def test_dynamic_tool_arguments_follow_its_schema(raw: Any) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "locate",
            "parameters": {
                "type": "object",
                "properties": {
                    "where": {
                        "type": "object",
                        "properties": {"lat": {"type": "number", "minimum": -90, "maximum": 90}},
                        "required": ["lat"],
                    }
                },
                "required": ["where"],
            },
        },
    }
    response = post(
        raw, messages=[dynamic(tool), {"role": "user", "content": "x"}], tool_choice="required"
    )
    arguments = response.json()["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
    assert -90 <= json.loads(arguments)["where"]["lat"] <= 90


@pytest.mark.parametrize("role", ["user", "assistant"])
def test_dynamic_tools_on_other_roles_are_refused(raw: Any, role: str) -> None:
    message = {"role": role, "content": "hi", "tools": [WEATHER]}
    message2 = {"role": "user", "content": "hello"}
    text = error_of(post(raw, messages=[{"role": "user", "content": "a"}, message, message2]))
    assert f"role '{role}'" in text
    assert "system" in text


def test_dynamic_tools_with_system_content_are_refused(raw: Any) -> None:
    text = error_of(post(raw, messages=[dynamic(WEATHER, content="not empty"), USER]))
    assert "content must be empty" in text


@pytest.mark.parametrize(
    ("tools", "wording"),
    [
        ({"type": "function"}, "messages[0].tools must be an array"),
        ([None], "messages[0].tools[0] must be an object"),
        ([{"function": {"name": "good_tool"}}], "messages[0].tools[0].type None"),
        ([{"type": "function"}], "messages[0].tools[0].function must be an object"),
        ([{"type": "function", "function": {}}], "function name is invalid"),
        ([fn("1bad")], "function name is invalid"),
        ([fn("a" * 257)], "function name is invalid"),
        ([fn("good"), {"type": "bogus", "function": {"name": "x"}}], "'bogus' is not supported"),
        ([fn("dup"), fn("dup")], "function name dup is duplicated"),
        ([fn("x", strict="yes")], "messages[0].tools[0].function.strict must be a boolean"),
    ],
)
def test_bad_dynamic_declarations_are_refused(raw: Any, tools: Any, wording: str) -> None:
    response = post(raw, messages=[{"role": "system", "content": "", "tools": tools}, USER])
    assert wording in error_of(response)


def test_duplicate_names_across_messages_and_global_are_refused(raw: Any) -> None:
    across = post(raw, messages=[dynamic(fn("dup")), dynamic(fn("dup")), USER])
    assert error_of(across) == "function name dup is duplicated"
    global_and_dynamic = post(raw, tools=[fn("dup")], messages=[dynamic(fn("dup")), USER])
    assert error_of(global_and_dynamic) == "function name dup is duplicated"


def test_strict_false_skips_the_mfjs_check_strict_true_by_default(raw: Any) -> None:
    loose = {"type": "object", "properties": {"x": {"description": "no type"}}}
    relaxed = {"type": "function", "function": {"name": "t", "strict": False, "parameters": loose}}
    assert post(raw, messages=[dynamic(relaxed), USER]).status == 200
    default = {"type": "function", "function": {"name": "t", "parameters": loose}}
    assert "not a valid moonshot flavored json schema" in error_of(
        post(raw, messages=[dynamic(default), USER])
    )


def test_tool_message_needs_a_tool_call_id_on_k3(raw: Any) -> None:
    messages = [{"role": "tool", "content": "result"}, {"role": "user", "content": "hello"}]
    assert "needs a tool_call_id" in error_of(post(raw, messages=messages))


def test_dynamic_tools_count_as_prompt_tokens(raw: Any) -> None:
    without = post(raw, messages=[USER]).json()["usage"]["prompt_tokens"]
    with_tool = post(raw, messages=[dynamic(WEATHER), USER]).json()["usage"]["prompt_tokens"]
    assert with_tool > without


# ---- tool_choice (13.2) ------------------------------------------------------------------------
@pytest.mark.parametrize("model", K3_FAMILY)
def test_required_without_tools_is_refused(raw: Any, model: str) -> None:
    text = error_of(post(raw, model=model, messages=[USER], tool_choice="required"))
    assert "needs tools" in text


@pytest.mark.parametrize("choice", ["required", "auto", "none"])
def test_any_tool_choice_with_empty_tools_is_refused(raw: Any, choice: str) -> None:
    text = error_of(post(raw, messages=[USER], tools=[], tool_choice=choice))
    assert "empty tools list" in text


@pytest.mark.parametrize("choice", ["bogus", {"type": "function", "function": {"name": "x"}}])
def test_invalid_or_named_tool_choice_is_refused(raw: Any, choice: Any) -> None:
    error_of(post(raw, messages=[USER], tools=[WEATHER], tool_choice=choice))


@pytest.mark.parametrize("choice", ["none", "auto"])
def test_none_and_auto_without_tools_are_accepted(raw: Any, choice: str) -> None:
    response = post(raw, messages=[{"role": "user", "content": "hi"}], tool_choice=choice)
    assert response.status == 200, response.body
    assert response.json()["choices"][0]["finish_reason"] == "stop"


def test_required_with_only_dynamic_tools_is_accepted(raw: Any) -> None:
    response = post(raw, messages=[dynamic(WEATHER), USER], tool_choice="required")
    assert response.json()["choices"][0]["finish_reason"] == "tool_calls"


# ---- response_format (13.2) --------------------------------------------------------------------
SCHEMA = {
    "type": "object",
    "properties": {"capital": {"type": "boolean"}},
    "required": ["capital"],
}


@pytest.mark.parametrize(
    ("response_format", "wording"),
    [
        ({"type": "bogus"}, "response_format.type must be"),
        ({"type": "json_schema"}, "needs 'name' and 'schema'"),
        ({"type": "json_schema", "json_schema": {"schema": SCHEMA}}, "needs 'name' and 'schema'"),
        ({"type": "json_schema", "json_schema": {"name": "a"}}, "needs 'name' and 'schema'"),
        (
            {"type": "json_schema", "json_schema": {"name": "a", "strict": "yes", "schema": {}}},
            "strict must be a boolean",
        ),
        (
            {"type": "json_schema", "json_schema": {"name": "a", "schema": "x"}},
            "schema must be an object",
        ),
    ],
)
def test_bad_response_format_is_refused(raw: Any, response_format: Any, wording: str) -> None:
    assert wording in error_of(post(raw, messages=[USER], response_format=response_format))


def test_json_schema_strict_defaults_to_true(raw: Any) -> None:
    untyped = {"type": "object", "properties": {"x": {"description": "no type"}}}
    default = {"type": "json_schema", "json_schema": {"name": "a", "schema": untyped}}
    assert "not a valid moonshot flavored json schema" in error_of(
        post(raw, messages=[USER], response_format=default)
    )
    relaxed = {
        "type": "json_schema",
        "json_schema": {"name": "a", "strict": False, "schema": untyped},
    }
    response = post(raw, messages=[USER], response_format=relaxed)
    assert isinstance(json.loads(response.json()["choices"][0]["message"]["content"]), dict)


def test_a_response_format_schema_adds_prompt_tokens(raw: Any, kimi_emulator: KimiEmulator) -> None:
    messages = [{"role": "user", "content": "Is Beijing the capital of China?"}]
    plain = post(raw, messages=messages).json()["usage"]["prompt_tokens"]
    response_format = {"type": "json_schema", "json_schema": {"name": "c", "schema": SCHEMA}}
    shaped = post(raw, messages=messages, response_format=response_format)
    assert shaped.json()["usage"]["prompt_tokens"] > plain
    assert json.loads(shaped.json()["choices"][0]["message"]["content"]) == {"capital": True}
    assert kimi_emulator.chat_requests[-1]["response_format"] == response_format


# ---- thinking on K3 (13.1) ---------------------------------------------------------------------
PUZZLE = [{"role": "user", "content": "35 heads and 94 legs: how many chickens and rabbits?"}]


def reasoning(raw: Any, thinking: Any = None, reasoning_effort: Any = None) -> str:
    body: dict[str, Any] = {"messages": PUZZLE}
    if thinking is not None:
        body["thinking"] = thinking
    if reasoning_effort is not None:
        body["reasoning_effort"] = reasoning_effort
    response = post(raw, **body)
    assert response.status == 200, response.body
    return str(response.json()["choices"][0]["message"]["reasoning_content"])


def test_higher_effort_reasons_longer(raw: Any) -> None:
    low, high, top = (len(reasoning(raw, {"effort": e})) for e in ("low", "high", "max"))
    assert low < high < top
    assert len(reasoning(raw, {"type": "enabled"})) == top  # no effort behaves like max
    assert len(reasoning(raw)) == top


def test_thinking_effort_wins_over_reasoning_effort(raw: Any) -> None:
    low = reasoning(raw, {"type": "enabled", "effort": "low"})
    assert reasoning(raw, {"type": "enabled", "effort": "low"}, reasoning_effort="max") == low
    assert reasoning(raw, {"keep": "all"}, reasoning_effort="low") == low
    assert len(reasoning(raw, None, reasoning_effort="max")) > len(low)


def test_the_model_names_its_effective_effort(raw: Any) -> None:
    question = [{"role": "user", "content": "What is your thinking_effort? Answer low/high/max."}]
    for thinking, effort, expected in (
        ({"effort": "low"}, "max", "low"),
        ({"keep": "all"}, "high", "high"),
        ({"keep": "all"}, None, "max"),
    ):
        body: dict[str, Any] = {"messages": question, "thinking": thinking}
        if effort is not None:
            body["reasoning_effort"] = effort
        assert post(raw, **body).json()["choices"][0]["message"]["content"] == expected


@pytest.mark.parametrize(
    ("thinking", "wording"),
    [
        ({"type": "enabled", "keep": "none"}, "invalid thinking: only keep=all is allowed"),
        ({"effort": "medium"}, "thinking.effort must be one of low, high, max"),
        ({"type": "sometimes"}, "thinking.type must be"),
        ({"budget": 5}, "thinking.budget is not supported"),
        ("enabled", "thinking must be an object"),
    ],
)
def test_bad_thinking_objects_are_refused(raw: Any, thinking: Any, wording: str) -> None:
    assert wording in error_of(post(raw, messages=PUZZLE, thinking=thinking))


def test_object_reasoning_effort_is_refused_with_the_live_wording(raw: Any) -> None:
    response = post(raw, messages=PUZZLE, reasoning_effort={"effort": "max"})
    assert error_of(response) == "the reasoning_effort field (expected type string) is illegal"


# ---- switches for the vendor verifier's conflicting expectations -------------------------------
def test_k26_thinking_temperature_is_fixed_unless_switched(
    rejects: Any, make_emulator: Any
) -> None:
    rejects(
        400,
        "invalid_request_error",
        "invalid temperature: only 1 is allowed for this model",
        temperature=0.6,
    )
    emulator, sdk = make_emulator(temperature_with_thinking="range")
    sdk.chat.completions.create(
        model="kimi-k2.6", messages=[{"role": "user", "content": "hi"}], temperature=0.0
    )
    assert emulator.chat_requests[-1]["temperature"] == 0.0
    with pytest.raises(openai.BadRequestError):
        sdk.chat.completions.create(
            model="kimi-k2.6", messages=[{"role": "user", "content": "hi"}], temperature=1.1
        )


def test_k26_required_with_thinking_is_refused_unless_switched(
    rejects: Any, make_emulator: Any
) -> None:
    rejects(
        400,
        "invalid_request_error",
        "tool_choice 'required' is incompatible with thinking enabled",
        tools=[WEATHER],
        tool_choice="required",
    )
    emulator, sdk = make_emulator(tool_choice_required_on_k26_thinking_on="accept")
    reply = sdk.chat.completions.create(
        model="kimi-k2.6", messages=[USER], tools=[WEATHER], tool_choice="required"
    )
    assert reply.choices[0].finish_reason == "tool_calls"
    assert emulator.chat_requests[-1]["tool_choice"] == "required"
