"""Where the framework paths of S8 spend their time before the first token reaches the caller.

``python tests/bench/bench_ttft_breakdown.py [--pace SECONDS] [--samples N]`` (the bench
environment). For LangGraph ``stream_mode="messages"`` (ChatKimi and the LangChain floor) it
splits the time to the first reasoning delta into "until the model reports it to its callbacks"
and "until the thread reading the graph gets it"; for a LlamaIndex ``FunctionAgent`` into "until
the agent calls the LLM", "until the LLM yields its first delta" and "until the event stream
delivers it". The hooks wrap langchain-core's callback manager and ``Kimi``'s tool-calling stream
in this process only; wall-clock medians in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from bench_answer import Expected
from bench_clients import ChatKimiClient, KimiLlamaIndexClient
from bench_floors import LangChainFloor
from bench_server import EmulatorProcess

_marks: dict[str, float] = {}


def _hook_langchain_callbacks() -> None:
    from langchain_core.callbacks.manager import CallbackManagerForLLMRun

    original = CallbackManagerForLLMRun.on_llm_new_token

    def on_llm_new_token(self: Any, token: str, *, chunk: Any = None, **kwargs: Any) -> None:
        if chunk is not None and chunk.message.additional_kwargs.get("reasoning_content"):
            _marks.setdefault("emitted", time.perf_counter())
        original(self, token, chunk=chunk, **kwargs)

    CallbackManagerForLLMRun.on_llm_new_token = on_llm_new_token  # type: ignore[method-assign]


def _hook_kimi() -> None:
    from llama_index.llms.kimi import Kimi

    original = Kimi.astream_chat_with_tools

    async def astream_chat_with_tools(self: Any, *args: Any, **kwargs: Any) -> Any:
        _marks.setdefault("called", time.perf_counter())
        responses = await original(self, *args, **kwargs)

        async def marked() -> AsyncIterator[Any]:
            async for response in responses:
                if response.additional_kwargs.get("thinking_delta"):
                    _marks.setdefault("yielded", time.perf_counter())
                yield response

        return marked()

    Kimi.astream_chat_with_tools = astream_chat_with_tools  # type: ignore[method-assign]


def _langgraph(model: Any) -> Callable[[], dict[str, float]]:
    from langgraph.graph import START, MessagesState, StateGraph

    def node(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    graph = StateGraph(MessagesState).add_node("model", node).add_edge(START, "model").compile()

    def once() -> dict[str, float]:
        _marks.clear()
        start, first = time.perf_counter(), 0.0
        for chunk, _meta in graph.stream({"messages": [("user", "hi")]}, stream_mode="messages"):
            if not first and chunk.additional_kwargs.get("reasoning_content"):
                first = time.perf_counter()
        return {
            "model reports the first token": _marks["emitted"] - start,
            "reading thread gets it": first - _marks["emitted"],
            "total": first - start,
        }

    return once


def _function_agent(llm: Any) -> Callable[[], dict[str, float]]:
    from llama_index.core.agent.workflow import AgentStream, FunctionAgent

    async def run() -> dict[str, float]:
        _marks.clear()
        agent = FunctionAgent(tools=[], llm=llm, streaming=True)
        start, first = time.perf_counter(), 0.0
        handler = agent.run("hi")
        async for event in handler.stream_events():
            if not first and isinstance(event, AgentStream) and event.thinking_delta:
                first = time.perf_counter()
        await handler
        return {
            "agent calls the LLM": _marks["called"] - start,
            "LLM yields the first delta": _marks["yielded"] - _marks["called"],
            "event stream delivers it": first - _marks["yielded"],
            "total": first - start,
        }

    loop = asyncio.new_event_loop()
    return lambda: loop.run_until_complete(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pace", type=float, default=0.0, help="seconds between events")
    parser.add_argument("--samples", type=int, default=9)
    args = parser.parse_args()
    _hook_langchain_callbacks()
    _hook_kimi()
    with EmulatorProcess() as server:
        size = Expected(200, 20, pace=args.pace, delay=0.2)
        url, key = server.base_url, server.api_key
        paths = {
            'LangGraph stream_mode="messages" (ChatKimi)': _langgraph(
                ChatKimiClient(url, key, size).make(streaming=False)
            ),
            'LangGraph stream_mode="messages" (LangChain floor)': _langgraph(
                LangChainFloor(url, key, size).make(streaming=False)
            ),
            "LlamaIndex FunctionAgent stream (Kimi)": _function_agent(
                KimiLlamaIndexClient(url, key, size).make()
            ),
        }
        print(f"server waits 200 ms, then 220 events {args.pace * 1000:g} ms apart; medians (ms)")
        for name, once in paths.items():
            once()  # warm-up
            runs = [once() for _ in range(args.samples)]
            parts = ", ".join(
                f"{part} {statistics.median(r[part] for r in runs) * 1000:.2f}" for part in runs[0]
            )
            print(f"{name}: {parts}")


if __name__ == "__main__":
    main()
