"""ChatKimi against the emulator's default brain, nothing scripted (issue 13 §6).

The standard suites in test_lc_standard.py rely on these behaviours; here each is checked with the
request body the emulator received.
"""

from __future__ import annotations

from typing import Any

from kimi_emulator import KimiEmulator
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_kimi import ChatKimi
from pydantic import BaseModel


def _model(emu: KimiEmulator, **kwargs: Any) -> ChatKimi:
    return ChatKimi(model="kimi-k2.6", base_url=emu.base_url, api_key=emu.api_key, **kwargs)


@tool
def get_weather(location: str) -> str:
    """Get the weather at a location."""
    return "Paris: sunny, 21 degrees"


class Weather(BaseModel):
    """A weather report."""

    city: str
    degrees: int


def test_stop_ends_the_answer_in_invoke_and_stream(kimi_emulator: KimiEmulator) -> None:
    model = _model(kimi_emulator, thinking=False)
    message = model.invoke("Reply with exactly one, two", stop=[","])
    assert message.content == "one"
    assert message.response_metadata["finish_reason"] == "stop"
    assert kimi_emulator.chat_requests[-1]["stop"] == [","]
    streamed = "".join(
        str(chunk.content) for chunk in model.stream("Reply with exactly a b c", stop=[" c"])
    )
    assert streamed == "a b"
    assert kimi_emulator.chat_requests[-1]["stop"] == [" c"]


def test_the_tool_a_question_points_at_is_called_then_answered(kimi_emulator: KimiEmulator) -> None:
    model = _model(kimi_emulator).bind_tools([get_weather])  # thinking on: tool_choice not forced
    question = HumanMessage("What is the weather in San Francisco, CA?")
    asked = model.invoke([question])
    assert isinstance(asked, AIMessage)
    assert [(c["name"], c["args"]) for c in asked.tool_calls] == [
        ("get_weather", {"location": "San Francisco"})
    ]
    sent = kimi_emulator.chat_requests[-1]
    assert [t["function"]["name"] for t in sent["tools"]] == ["get_weather"]
    assert sent.get("tool_choice", "auto") == "auto"
    result = get_weather.invoke(asked.tool_calls[0])
    final = model.invoke([question, asked, result])
    assert "Paris: sunny, 21 degrees" in final.text
    assert kimi_emulator.chat_requests[-1]["messages"][-1]["role"] == "tool"


def test_structured_output_after_a_tool_result(kimi_emulator: KimiEmulator) -> None:
    history = [
        HumanMessage("What is the weather in Paris?"),
        AIMessage(
            "",
            tool_calls=[
                {"name": "get_weather", "args": {"location": "Paris"}, "id": "get_weather_0"}
            ],
        ),
        ToolMessage("Paris: sunny, 21 degrees", tool_call_id="get_weather_0", name="get_weather"),
    ]
    report = _model(kimi_emulator, thinking=False).with_structured_output(Weather).invoke(history)
    assert report == Weather(city="Paris", degrees=21)
    assert kimi_emulator.chat_requests[-1]["response_format"]["type"] == "json_schema"


def test_json_mode_answer_has_the_keys_the_prompt_asks_for(kimi_emulator: KimiEmulator) -> None:
    prompt = "Tell me a joke about cats. Return a JSON with 'setup' and 'punchline' keys."
    joke = _model(kimi_emulator).with_structured_output(method="json_mode").invoke(prompt)
    assert isinstance(joke, dict)
    assert list(joke) == ["setup", "punchline"]
    assert kimi_emulator.chat_requests[-1]["response_format"] == {"type": "json_object"}
