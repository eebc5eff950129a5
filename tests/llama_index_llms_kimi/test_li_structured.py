"""Structured output: json_schema where the profile allows it, function calling otherwise."""

from __future__ import annotations

import json

from kimi_emulator import Reply, ScriptedToolCall
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.prompts import PromptTemplate
from llama_index.core.types import PydanticProgramMode
from pydantic import BaseModel, Field

PROMPT = PromptTemplate("Extract the city from: {text}")


class City(BaseModel):
    """A city and its country."""

    name: str = Field(description="City name")
    country: str = Field(description="Country name")
    population_millions: float


def _schema_request(body: dict) -> dict:
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "City"
    return fmt["json_schema"]["schema"]


def test_structured_predict_uses_json_schema_with_thinking_on(llm, kimi_emulator) -> None:
    kimi_emulator.script(
        Reply(
            reasoning="Paris is in France.",
            content='{"name": "Paris", "country": "France", "population_millions": 2.1}',
        )
    )
    city = llm.structured_predict(City, PROMPT, text="Paris, France, 2.1 million people")
    assert city == City(name="Paris", country="France", population_millions=2.1)
    body = kimi_emulator.chat_requests[0]
    schema = _schema_request(body)
    assert schema["properties"]["population_millions"]["type"] == "number"
    assert "tools" not in body
    assert "tool_choice" not in body
    assert "thinking" not in body  # thinking stays at kimi-k2.6's default: on


async def test_astructured_predict_with_the_emulators_own_answer(llm, kimi_emulator) -> None:
    city = await llm.astructured_predict(City, PROMPT, text='"Oslo" in "Norway", 0.7 million')
    assert city.name == "Oslo"
    assert city.country == "Norway"
    _schema_request(kimi_emulator.chat_requests[0])


def test_stream_structured_predict_yields_growing_objects(make_llm, kimi_emulator) -> None:
    # One response per server event, so that the partial objects are seen growing.
    llm = make_llm(coalesce_stream=False)
    kimi_emulator.script(
        Reply(
            content='{"name": "Paris", "country": "France", "population_millions": 2.1}',
            chunk_size=8,
        )
    )
    partials = list(llm.stream_structured_predict(City, PROMPT, text="Paris"))
    assert len(partials) > 2
    assert partials[-1] == City(name="Paris", country="France", population_millions=2.1)
    assert kimi_emulator.chat_requests[0]["stream"] is True
    _schema_request(kimi_emulator.chat_requests[0])


async def test_astream_structured_predict(llm, kimi_emulator) -> None:
    kimi_emulator.script(
        Reply(content='{"name": "Rome", "country": "Italy", "population_millions": 2.8}')
    )
    stream = await llm.astream_structured_predict(City, PROMPT, text="Rome")
    partials = [p async for p in stream]
    assert partials[-1] == City(name="Rome", country="Italy", population_millions=2.8)


def test_as_structured_llm(llm, kimi_emulator) -> None:
    kimi_emulator.script(
        Reply(content='{"name": "Lima", "country": "Peru", "population_millions": 10.0}')
    )
    response = llm.as_structured_llm(City).chat([ChatMessage(role="user", content="Lima, Peru")])
    assert isinstance(response.raw, City)
    assert json.loads(response.message.content)["country"] == "Peru"
    _schema_request(kimi_emulator.chat_requests[0])


def test_function_calling_mode_does_not_force_tool_choice_while_thinking(
    make_llm, kimi_emulator
) -> None:
    arguments = {"name": "Kyoto", "country": "Japan", "population_millions": 1.5}
    for thinking in (None, False):
        kimi_emulator.script(Reply(tool_calls=[ScriptedToolCall(name="City", arguments=arguments)]))
        llm = make_llm(thinking=thinking, pydantic_program_mode=PydanticProgramMode.FUNCTION)
        assert llm.structured_predict(City, PROMPT, text="Kyoto") == City(**arguments)
    thinking_on, thinking_off = kimi_emulator.chat_requests
    assert thinking_on["tools"][0]["function"]["name"] == "City"
    assert thinking_on["tool_choice"] == "auto"
    assert thinking_off["tool_choice"] == "required"
    assert "response_format" not in thinking_on


async def test_async_function_calling_mode(make_llm, kimi_emulator) -> None:
    arguments = {"name": "Oslo", "country": "Norway", "population_millions": 0.7}
    kimi_emulator.script(Reply(tool_calls=[ScriptedToolCall(name="City", arguments=arguments)]))
    llm = make_llm(pydantic_program_mode=PydanticProgramMode.FUNCTION)
    assert await llm.astructured_predict(City, PROMPT, text="Oslo") == City(**arguments)
    assert kimi_emulator.chat_requests[0]["tool_choice"] == "auto"
