"""The default brain for unscripted demos and standard suites (issue 13 §6), over real HTTP.

``stop`` cuts every answer where a sequence first matches (the match left out, finish ``stop``), in
JSON and SSE responses; a ``response_format`` still shapes the answer after tool results; a
declared tool is called when the user's words point at it; a ``json_object`` answer has the keys
the prompt asks for.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from kimi_emulator import KimiEmulator, Reply, ScriptedToolCall


def ask(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def tool(name: str, about: str, **properties: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": about,
            "parameters": {
                "type": "object",
                "properties": {key: {"type": kind} for key, kind in properties.items()},
                "required": list(properties),
            },
        },
    }


WEATHER = tool("get_weather", "Get the weather at a location.", location="string")
GREETING = tool(
    "greeting_generator", "Generate a greeting in a particular style of speaking.", style="string"
)
CUSTOMER = tool(
    "unicode_customer",
    "Tool for creating a customer with Unicode name.",
    customer_name="string",
    description="string",
)
STOCKS = tool("quote_lookup", "Latest stock price of a listed company ticker.", ticker="string")


def _stream(raw: Any, body: dict[str, Any]) -> tuple[str, str | None, list[Any]]:
    """(content, finish_reason, tool-call deltas) of a streamed answer."""
    events = raw.chat({**body, "stream": True}).events()
    assert events[-1] == "[DONE]"
    choices = [e["choices"][0] for e in events[:-1] if e["choices"]]
    content = "".join(c["delta"].get("content") or "" for c in choices)
    calls = [c["delta"]["tool_calls"] for c in choices if c["delta"].get("tool_calls")]
    finish = next((c["finish_reason"] for c in choices if c["finish_reason"]), None)
    return content, finish, calls


# ---- stop sequences ----------------------------------------------------------------------------
def test_stop_cuts_the_answer_before_the_match(
    client: openai.OpenAI, kimi_emulator: KimiEmulator
) -> None:
    whole = client.chat.completions.create(model="kimi-k2.6", messages=ask("Say hi to Ana"))
    text = whole.choices[0].message.content or ""
    assert "emulator" in text  # the brain's greeting, so the stop below matches mid-answer
    reply = client.chat.completions.create(
        model="kimi-k2.6", messages=ask("Say hi to Ana"), stop=["emulator", "zzz"]
    )
    assert reply.choices[0].message.content == text[: text.index("emulator")]
    assert reply.choices[0].finish_reason == "stop"
    assert kimi_emulator.chat_requests[-1]["stop"] == ["emulator", "zzz"]
    # Fewer tokens were generated, and usage says so.
    assert reply.usage is not None
    assert whole.usage is not None
    assert reply.usage.completion_tokens < whole.usage.completion_tokens


def test_stop_earliest_of_several_sequences_wins(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="kimi-k2.6",
        messages=ask("Reply with exactly alpha beta gamma"),
        stop=["gamma", "beta"],
        extra_body={"thinking": {"type": "disabled"}},
    )
    assert reply.choices[0].message.content == "alpha "
    assert reply.choices[0].finish_reason == "stop"


def test_stop_as_one_string_and_without_a_match(client: openai.OpenAI) -> None:
    cut = client.chat.completions.create(
        model="kimi-k3", messages=ask("Reply with exactly one, two"), stop=","
    )
    assert cut.choices[0].message.content == "one"
    kept = client.chat.completions.create(
        model="kimi-k3", messages=ask("Reply with exactly one, two"), stop=["three"]
    )
    assert kept.choices[0].message.content == "one, two"
    assert kept.choices[0].finish_reason == "stop"


def test_stop_cuts_the_stream_too(raw: Any, kimi_emulator: KimiEmulator) -> None:
    body = {"model": "kimi-k2.6", "messages": ask("Reply with exactly red green blue")}
    assert _stream(raw, body)[:2] == ("red green blue", "stop")
    content, finish, _ = _stream(raw, {**body, "stop": [" blue"]})
    assert (content, finish) == ("red green", "stop")
    assert kimi_emulator.chat_requests[-1]["stop"] == [" blue"]


def test_stop_matches_across_stream_pieces(raw: Any, kimi_emulator: KimiEmulator) -> None:
    # A stop sequence is matched in the text, not per SSE piece.
    kimi_emulator.script(Reply(content="abcdefgh", content_chunks=["abc", "def", "gh"]))
    content, finish, _ = _stream(
        raw, {"model": "kimi-k2.6", "messages": ask("letters"), "stop": "cde"}
    )
    assert (content, finish) == ("ab", "stop")


def test_stop_ends_generation_before_later_tool_calls(
    client: openai.OpenAI, kimi_emulator: KimiEmulator
) -> None:
    kimi_emulator.script(
        Reply(
            content="Let me check. END",
            tool_calls=[ScriptedToolCall("get_weather", {"location": "X"})],
        )
    )
    reply = client.chat.completions.create(
        model="kimi-k2.6",
        messages=ask("Weather in Oslo?"),
        tools=[WEATHER],  # type: ignore[list-item]
        stop=["END"],
    )
    assert reply.choices[0].message.content == "Let me check. "
    assert reply.choices[0].message.tool_calls is None
    assert reply.choices[0].finish_reason == "stop"


# ---- response_format after a tool result -------------------------------------------------------
def _after_tool(result: str) -> list[dict[str, Any]]:
    return [
        *ask("What is the weather in Paris? Answer with 'city' and 'summary' keys."),
        {
            "role": "assistant",
            "reasoning_content": "I will call get_weather.",
            "tool_calls": [
                {
                    "id": "get_weather_0",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"location": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "get_weather_0", "name": "get_weather", "content": result},
    ]


def test_json_schema_is_honoured_after_a_tool_result(
    client: openai.OpenAI, kimi_emulator: KimiEmulator
) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "degrees": {"type": "integer"}},
        "required": ["city", "degrees"],
    }
    reply = client.chat.completions.create(
        model="kimi-k2.6",
        messages=_after_tool("Paris: sunny, 21 degrees"),  # type: ignore[arg-type]
        tools=[WEATHER],  # type: ignore[list-item]
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "weather", "schema": schema, "strict": True},
        },
        extra_body={"thinking": {"type": "disabled"}},
    )
    answer = json.loads(reply.choices[0].message.content or "")
    # Values come from the tool's result, not the question.
    assert answer == {"city": "Paris", "degrees": 21}
    assert reply.choices[0].finish_reason == "stop"
    assert kimi_emulator.chat_requests[-1]["response_format"]["type"] == "json_schema"


def test_json_object_is_honoured_after_a_tool_result(raw: Any) -> None:
    body = {
        "model": "kimi-k3",
        "messages": _after_tool("Sunny, 21 degrees"),
        "tools": [WEATHER],
        "response_format": {"type": "json_object"},
    }
    answer = json.loads(raw.chat(body).json()["choices"][0]["message"]["content"])
    assert set(answer) == {"city", "summary"}
    assert "Sunny, 21 degrees" in answer["summary"]
    content, finish, _ = _stream(raw, body)
    assert json.loads(content) == answer
    assert finish == "stop"


# ---- tool selection ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        # the words of the name, with a place name for the location
        ("What is the weather in San Francisco, CA?", ("get_weather", "San Francisco")),
        # stems: "generate" ~ "generator"
        ("Using the tool, generate a Pirate greeting.", ("greeting_generator", "Pirate")),
        # a quoted, non-Latin value
        ("Create a customer named '你好啊集团' - a company", ("unicode_customer", "你好啊集团")),
        # the words of the description only (price, company)
        ("What is the price of the company 'ACME'?", ("quote_lookup", "ACME")),
        # the name written out in words
        ("Please quote lookup for 'NVDA'", ("quote_lookup", "NVDA")),
    ],
)
def test_a_tool_is_called_when_the_message_points_at_it(
    client: openai.OpenAI, kimi_emulator: KimiEmulator, prompt: str, expected: tuple[str, str]
) -> None:
    tools = [WEATHER, GREETING, CUSTOMER, STOCKS]
    reply = client.chat.completions.create(
        model="kimi-k2.6",
        messages=ask(prompt),
        tools=tools,  # type: ignore[arg-type]
    )
    calls = reply.choices[0].message.tool_calls or []
    assert len(calls) == 1
    name, value = expected
    assert calls[0].function.name == name  # type: ignore[union-attr]
    arguments = json.loads(calls[0].function.arguments)  # type: ignore[union-attr]
    assert next(iter(arguments.values())) == value
    assert reply.choices[0].finish_reason == "tool_calls"
    assert kimi_emulator.chat_requests[-1]["tools"] == tools
    assert "tool_choice" not in kimi_emulator.chat_requests[-1]


@pytest.mark.parametrize(
    "prompt",
    ["Hello!", "Tell me a joke about cats", "What is 3 + 4?", "Where is the meeting location?"],
)
def test_no_tool_is_called_when_nothing_points_at_one(client: openai.OpenAI, prompt: str) -> None:
    reply = client.chat.completions.create(
        model="kimi-k2.6",
        messages=ask(prompt),
        tools=[WEATHER, GREETING, CUSTOMER, STOCKS],  # type: ignore[list-item]
    )
    assert reply.choices[0].message.tool_calls is None
    assert reply.choices[0].finish_reason == "stop"


@pytest.mark.parametrize(
    ("prompt", "called"),
    [
        ("Please check the forecast. Use a tool.", True),
        ("北京今天天气怎么样？请查一下，你应当使用工具。", True),  # noqa: RUF001
        ("Introduce yourself. Do not use any tool.", False),
        ("你好，请简单介绍一下你自己。你不应使用任何工具。", False),  # noqa: RUF001
    ],
)
def test_a_message_that_asks_for_a_tool_gets_the_first_declared_one(
    client: openai.OpenAI, prompt: str, called: bool
) -> None:
    # No word points at a tool here; only the request to use one (or not) decides.
    reply = client.chat.completions.create(
        model="kimi-k3",
        messages=ask(prompt),
        tools=[STOCKS, WEATHER],  # type: ignore[list-item]
    )
    calls = reply.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == (["quote_lookup"] if called else [])  # type: ignore[union-attr]
    assert reply.choices[0].finish_reason == ("tool_calls" if called else "stop")


def test_tool_selection_is_deterministic_and_picks_the_best_match(raw: Any) -> None:
    other = tool("get_time", "Get the time in a city.", city="string")
    body = {
        "model": "kimi-k3",
        "messages": ask("Tell me the weather forecast and temperature in Lima"),
        "tools": [other, WEATHER],
    }
    first = raw.chat(body).json()["choices"][0]["message"]["tool_calls"]
    second = raw.chat(body).json()["choices"][0]["message"]["tool_calls"]
    assert [c["function"] for c in first] == [c["function"] for c in second]
    assert [c["function"]["name"] for c in first] == ["get_weather"]
    assert json.loads(first[0]["function"]["arguments"]) == {"location": "Lima"}


def test_streamed_tool_call_chosen_by_words(raw: Any) -> None:
    _, finish, calls = _stream(
        raw, {"model": "kimi-k2.6", "messages": ask("Weather in Rome?"), "tools": [WEATHER]}
    )
    assert calls[0][0]["function"]["name"] == "get_weather"
    arguments = "".join(c[0]["function"]["arguments"] for c in calls)
    assert json.loads(arguments) == {"location": "Rome"}
    assert finish == "tool_calls"


# ---- json_object keys ----------------------------------------------------------------------------
def test_json_object_has_the_keys_the_prompt_asks_for(
    client: openai.OpenAI, kimi_emulator: KimiEmulator
) -> None:
    prompt = (
        "Tell me a joke about cats. Return the result as a JSON with 'setup' and "
        "'punchline' keys. Return nothing other than JSON."
    )
    reply = client.chat.completions.create(
        model="kimi-k2.6", messages=ask(prompt), response_format={"type": "json_object"}
    )
    answer = json.loads(reply.choices[0].message.content or "")
    assert list(answer) == ["setup", "punchline"]
    assert all(isinstance(value, str) and value for value in answer.values())
    assert kimi_emulator.chat_requests[-1]["response_format"] == {"type": "json_object"}


def test_json_object_keys_from_an_example_in_the_system_prompt(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="kimi-k3",
        messages=[
            {"role": "system", "content": 'Answer as {"name": "...", "country": "..."}.'},
            *ask("Who wrote Don Quixote?"),  # type: ignore[list-item]
        ],
        response_format={"type": "json_object"},
    )
    assert list(json.loads(reply.choices[0].message.content or "")) == ["name", "country"]
