"""A LlamaIndex `FunctionAgent` with Moonshot's official formula tools, streamed.

Shows: `KimiFormulaToolSpec(["moonshot/date:latest", "moonshot/quickjs:latest"])` turned into
LlamaIndex tools (schemas fetched from Moonshot, each call run as a fiber on Moonshot's side), a
`FunctionAgent` on `Kimi` with thinking on, and its `AgentStream` events: reasoning
(`thinking_delta`) printed separately from the answer, plus each tool call and result.

Against the real API:

    export MOONSHOT_API_KEY=sk-...
    uv run --group examples python examples/llamaindex_function_agent.py

Without a key it runs against an embedded kimi-emulator (fake date and a safe arithmetic
evaluator stand in for the formulas).
"""

from __future__ import annotations

import asyncio

from _kimi_endpoint import kimi_endpoint

QUESTION = (
    "What day of the week is it in Beijing (UTC offset 8)? Use date. "
    'Then use quickjs to compute "2 ** 10".'
)


async def run() -> None:
    from llama_index.core.agent.workflow import (
        AgentStream,
        FunctionAgent,
        ToolCall,
        ToolCallResult,
    )
    from llama_index.llms.kimi import Kimi, KimiFormulaToolSpec

    llm = Kimi(model="kimi-k2.6")  # thinking on by default
    spec = KimiFormulaToolSpec(["moonshot/date:latest", "moonshot/quickjs:latest"], llm=llm)
    tools = await spec.to_tool_list_async()
    print("Tools:", ", ".join(tool.metadata.get_name() for tool in tools))
    agent = FunctionAgent(tools=tools, llm=llm, system_prompt="Use the tools to answer.")
    handler = agent.run(QUESTION)
    shown = None
    async for event in handler.stream_events():
        if isinstance(event, AgentStream) and event.thinking_delta:
            if shown != "thinking":
                print("\n[thinking] ", end="")
                shown = "thinking"
            print(event.thinking_delta, end="", flush=True)
        elif isinstance(event, AgentStream) and event.delta:
            if shown != "answer":
                print("\n[answer] ", end="")
                shown = "answer"
            print(event.delta, end="", flush=True)
        elif isinstance(event, ToolCallResult):
            print(f"\n[tool {event.tool_name}] {event.tool_output.content}", end="")
            shown = "tool"
        elif isinstance(event, ToolCall):
            print(f"\n[call {event.tool_name}] {event.tool_kwargs}", end="")
            shown = "call"
    await handler
    print()


def main() -> None:
    with kimi_endpoint():
        asyncio.run(run())


if __name__ == "__main__":
    main()
