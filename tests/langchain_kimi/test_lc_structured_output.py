"""with_structured_output: the three methods, what they send, and what they return."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kimi_emulator import KimiEmulator, Reply, ScriptedToolCall
from langchain_core.exceptions import ModelNotFoundError
from langchain_kimi import ChatKimi
from pydantic import BaseModel, Field
from typing_extensions import TypedDict


def _model(emu: KimiEmulator, **kwargs: Any) -> ChatKimi:
    return ChatKimi(base_url=emu.base_url, api_key=emu.api_key, **kwargs)


class Pair(BaseModel):
    """A labelled number."""

    label: str = Field(description="What the number is")
    value: int = Field(ge=0)
    tags: list[str] = Field(default_factory=list, max_length=3)


class PairDict(TypedDict):
    """A labelled number."""

    label: str
    value: int


_ANSWER = {"label": "age", "value": 42, "tags": []}


def test_json_schema_is_the_default_and_sends_an_mfjs_schema(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Reply(content=json.dumps(_ANSWER), reasoning="Easy."))
    result = _model(kimi_emulator).with_structured_output(Pair).invoke("Age 42 as a pair")
    assert result == Pair(label="age", value=42)
    body = kimi_emulator.chat_requests[-1]
    assert "tools" not in body
    response_format = body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "Pair"
    schema = response_format["json_schema"]["schema"]
    assert schema["type"] == "object"
    assert "title" not in schema
    assert schema["properties"]["tags"]["type"] == "array"
    assert schema["properties"]["tags"]["items"] == {"type": "string"}
    assert "minimum" not in schema["properties"]["value"]


def test_json_schema_with_a_typed_dict_and_strict(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Reply(content='{"label": "x", "value": 1}'))
    structured = _model(kimi_emulator).with_structured_output(PairDict, strict=True)
    assert structured.invoke("x=1") == {"label": "x", "value": 1}
    spec = kimi_emulator.chat_requests[-1]["response_format"]["json_schema"]
    assert spec["name"] == "PairDict"
    assert spec["strict"] is True


def test_brain_fills_a_schema_end_to_end(kimi_emulator: KimiEmulator) -> None:
    result = _model(kimi_emulator).with_structured_output(Pair).invoke("The label 'age' is 42")
    assert isinstance(result, Pair)


@pytest.mark.parametrize(
    ("thinking", "choice"),
    [
        # Thinking on: k2.6 rejects a forced (named) choice, so none is forced.
        (None, "auto"),
        (False, {"type": "function", "function": {"name": "Pair"}}),
    ],
)
def test_function_calling_forces_the_tool_only_where_allowed(
    kimi_emulator: KimiEmulator, thinking: bool | None, choice: Any
) -> None:
    kimi_emulator.script(Reply(tool_calls=[ScriptedToolCall("Pair", _ANSWER)]))
    structured = _model(kimi_emulator, thinking=thinking).with_structured_output(
        Pair, method="function_calling"
    )
    assert structured.invoke("Age 42") == Pair(label="age", value=42)
    body = kimi_emulator.chat_requests[-1]
    assert body["tool_choice"] == choice
    assert [t["function"]["name"] for t in body["tools"]] == ["Pair"]


def test_json_mode(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Reply(content='{"label": "n", "value": 7}'))
    result = _model(kimi_emulator).with_structured_output(method="json_mode").invoke("JSON please")
    assert result == {"label": "n", "value": 7}
    assert kimi_emulator.chat_requests[-1]["response_format"] == {"type": "json_object"}


def test_include_raw_reports_parsing_errors(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Reply(content="not json", reasoning="Oops."))
    out = _model(kimi_emulator).with_structured_output(Pair, include_raw=True).invoke("x")
    assert out["parsed"] is None
    assert out["parsing_error"] is not None
    assert out["raw"].additional_kwargs["reasoning_content"] == "Oops."
    kimi_emulator.script(Reply(content=json.dumps(_ANSWER)))
    ok = _model(kimi_emulator).with_structured_output(Pair, include_raw=True).invoke("x")
    assert ok["parsed"] == Pair(label="age", value=42)
    assert ok["parsing_error"] is None


def test_models_without_json_schema_default_to_function_calling(
    kimi_emulator: KimiEmulator,
) -> None:
    kimi_emulator.script(Reply(tool_calls=[ScriptedToolCall("Pair", _ANSWER)]))
    model = _model(kimi_emulator, model="kimi-k2-0905-preview")
    # Retired model: the emulator answers 404, so only the request is checked.
    with pytest.raises(ModelNotFoundError, match=r"retired on 2026-05-25; use 'kimi-k2\.6'"):
        model.with_structured_output(Pair).invoke("Age 42")
    assert "response_format" not in kimi_emulator.chat_requests[-1]
    assert kimi_emulator.chat_requests[-1]["tools"][0]["function"]["name"] == "Pair"


def test_bad_arguments_are_rejected_up_front() -> None:
    model = ChatKimi(api_key="k")
    with pytest.raises(ValueError, match="Unknown method"):
        model.with_structured_output(Pair, method="xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs a schema"):
        model.with_structured_output(None, method="json_schema")
    with pytest.raises(ValueError, match="unsupported arguments"):
        model.with_structured_output(Pair, foo=1)
