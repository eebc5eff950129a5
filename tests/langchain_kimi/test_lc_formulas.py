"""MoonshotFormulaToolkit: official tools as BaseTools, executed through the fibers endpoint."""

from __future__ import annotations

import json

import pytest
from kimi_emulator import KimiEmulator, Reply, ScriptedToolCall
from langchain.agents import create_agent
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from langchain_kimi import ChatKimi, MoonshotFormulaToolkit

_FORMULAS = ["moonshot/fetch:latest", "moonshot/web-search:latest"]


def _toolkit(emu: KimiEmulator, formulas: list[str] = _FORMULAS) -> MoonshotFormulaToolkit:
    return MoonshotFormulaToolkit(formulas=formulas, base_url=emu.base_url, api_key=emu.api_key)


def _fibers(emu: KimiEmulator) -> list[tuple[str, object]]:
    return [(r.path, r.body) for r in emu.requests if r.path.endswith("/fibers")]


def test_tools_are_loaded_once_with_their_schemas(kimi_emulator: KimiEmulator) -> None:
    toolkit = _toolkit(kimi_emulator)
    tools = toolkit.get_tools()
    assert [t.name for t in tools] == ["fetch", "web_search"]
    assert all(isinstance(t, BaseTool) for t in tools)
    assert tools[0].args == {"url": {"type": "string", "description": "The page URL"}}
    toolkit.get_tools()
    assert [r.path for r in kimi_emulator.requests] == [
        "/v1/formulas/moonshot/fetch:latest/tools",
        "/v1/formulas/moonshot/web-search:latest/tools",
    ]


def test_a_tool_runs_as_a_fiber(kimi_emulator: KimiEmulator) -> None:
    fetch = _toolkit(kimi_emulator).get_tools()[0]
    output = fetch.invoke({"url": "https://www.moonshot.ai/"})
    assert json.loads(output)["content"].startswith("Moonshot AI builds Kimi")
    assert _fibers(kimi_emulator) == [
        (
            "/v1/formulas/moonshot/fetch:latest/fibers",
            {"name": "fetch", "arguments": '{"url": "https://www.moonshot.ai/"}'},
        )
    ]


async def test_a_tool_runs_async(kimi_emulator: KimiEmulator) -> None:
    search = _toolkit(kimi_emulator).get_tools()[1]
    output = await search.ainvoke({"query": "Moonshot"})
    assert "Moonshot AI" in output


def test_a_failed_fiber_is_an_error_result_for_the_model(kimi_emulator: KimiEmulator) -> None:
    fetch = _toolkit(kimi_emulator).get_tools()[0]
    call = {"id": "fetch:0", "name": "fetch", "args": {"url": "https://nowhere.invalid/"}}
    message = fetch.invoke({"type": "tool_call", **call})
    assert isinstance(message, ToolMessage)
    assert message.status == "error"
    assert "page not found" in str(message.content)


def test_unknown_formula_and_duplicate_names_are_reported(kimi_emulator: KimiEmulator) -> None:
    with pytest.raises(ValueError, match="looks like 'moonshot/web-search:latest'"):
        _toolkit(kimi_emulator, ["web-search"]).get_tools()
    with pytest.raises(ValueError, match=r"duplicated|both"):
        _toolkit(kimi_emulator, ["moonshot/fetch:latest", "moonshot/fetch:latest"]).get_tools()


def test_toolkit_reuses_a_chat_model_connection(kimi_emulator: KimiEmulator) -> None:
    model = ChatKimi(base_url=kimi_emulator.base_url, api_key=kimi_emulator.api_key)
    toolkit = MoonshotFormulaToolkit.from_chat_model(model, ["moonshot/date:latest"])
    [date] = toolkit.get_tools()
    assert "weekday" in json.loads(date.invoke({"utc_offset_hours": 8}))


def test_formula_tools_in_an_agent(kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(
        Reply(
            reasoning="Fetch the page.",
            tool_calls=[ScriptedToolCall("fetch", {"url": "https://example.com/"})],
        )
    )
    model = ChatKimi(base_url=kimi_emulator.base_url, api_key=kimi_emulator.api_key)
    agent = create_agent(model, tools=_toolkit(kimi_emulator).get_tools())
    state = agent.invoke({"messages": [("user", "What does example.com say?")]})
    assert "Example Domain" in state["messages"][-1].text
    sent_tools = kimi_emulator.chat_requests[0]["tools"]
    assert [t["function"]["name"] for t in sent_tools] == ["fetch", "web_search"]
    assert len(_fibers(kimi_emulator)) == 1
