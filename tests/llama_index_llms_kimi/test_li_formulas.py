"""Moonshot formulas (official tools) as LlamaIndex tools executing through fibers."""

from __future__ import annotations

import json

import pytest
from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult
from llama_index.core.tools import FunctionTool
from llama_index.llms.kimi import FormulaTool, KimiFormulaToolSpec


def _fibers(kimi_emulator) -> list:
    return [r for r in kimi_emulator.requests if r.path.endswith("/fibers")]


def test_tool_list_keeps_the_formula_schema(llm, kimi_emulator) -> None:
    spec = KimiFormulaToolSpec(["moonshot/web-search:latest", "moonshot/base64:latest"], llm=llm)
    tools = spec.to_tool_list()
    assert [t.metadata.name for t in tools] == ["web_search", "base64"]
    assert all(isinstance(t, FunctionTool) and isinstance(t, FormulaTool) for t in tools)
    params = tools[0].metadata.get_parameters_dict()
    assert params["required"] == ["query"]
    assert params["properties"]["classes"]["items"]["enum"][0] == "all"
    assert json.loads(tools[0].metadata.fn_schema_str) == params
    assert tools[1].uri == "moonshot/base64:latest"
    gets = [r.path for r in kimi_emulator.requests if r.method == "GET"]
    assert gets == [
        "/v1/formulas/moonshot/web-search:latest/tools",
        "/v1/formulas/moonshot/base64:latest/tools",
    ]


def test_calling_a_formula_tool_posts_a_fiber(llm, kimi_emulator) -> None:
    (tool,) = KimiFormulaToolSpec(["moonshot/base64:latest"], llm=llm).to_tool_list()
    output = tool.call(data="hello", operation="encode")
    assert json.loads(output.content) == {"result": "aGVsbG8="}
    assert not output.is_error
    (fiber,) = _fibers(kimi_emulator)
    assert fiber.path == "/v1/formulas/moonshot/base64:latest/fibers"
    assert fiber.body["name"] == "base64"
    assert json.loads(fiber.body["arguments"]) == {"data": "hello", "operation": "encode"}


async def test_async_tool_list_and_call(llm, kimi_emulator) -> None:
    spec = KimiFormulaToolSpec(["moonshot/quickjs:latest"], llm=llm)
    (tool,) = await spec.to_tool_list_async()
    output = await tool.acall(code="6*7")
    assert "42" in output.content
    assert len(_fibers(kimi_emulator)) == 1


def test_selecting_functions_and_bad_input(llm) -> None:
    spec = KimiFormulaToolSpec(["moonshot/date:latest", "moonshot/fetch:latest"], llm=llm)
    assert [t.metadata.name for t in spec.to_tool_list(["fetch"])] == ["fetch"]
    with pytest.raises(ValueError, match="no formula provides nope"):
        spec.to_tool_list(["nope"])
    with pytest.raises(TypeError, match="list of URIs"):
        KimiFormulaToolSpec("moonshot/date:latest", llm=llm)


@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning:inspect")
async def test_formula_tools_inside_a_function_agent(llm, kimi_emulator) -> None:
    tools = await KimiFormulaToolSpec(["moonshot/base64:latest"], llm=llm).to_tool_list_async()
    agent = FunctionAgent(tools=tools, llm=llm)
    # The emulator's brain calls the tool the user names and then quotes its result.
    handler = agent.run(user_msg="Use base64 to encode 'hello'")
    events = [event async for event in handler.stream_events()]
    result = await handler
    (call,) = [e for e in events if isinstance(e, ToolCallResult)]
    assert call.tool_name == "base64"
    assert json.loads(call.tool_output.content) == {"result": "aGVsbG8="}
    assert "aGVsbG8=" in str(result.response.content)
    (fiber,) = _fibers(kimi_emulator)
    assert json.loads(fiber.body["arguments"]) == {"data": "hello"}  # the required argument
    tool_message = kimi_emulator.chat_requests[1]["messages"][-1]
    assert tool_message["role"] == "tool"
    assert json.loads(tool_message["content"]) == {"result": "aGVsbG8="}
