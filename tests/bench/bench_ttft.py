"""S8: time to first token, next to the raw openai SDK.

(Named S8 because S7 is the Batch API scenario of ``bench_batch.py``.)

The server waits ``delay`` seconds before its first byte, then streams. Each path measures the
wall time from the call to the first reasoning delta its caller sees: the raw SDK (sync and
async), ``ChatKimi.stream`` / ``astream``, a LangGraph graph with ``stream_mode="messages"``
(the model invoked inside a node), ``Kimi.stream_chat`` / ``astream_chat`` and a LlamaIndex
``FunctionAgent`` event stream. Paths are interleaved per sample; each path's figure is its median
minus the raw SDK's median (sync paths against the sync SDK, async ones against the async SDK),
in milliseconds. The rest of each stream is consumed outside the timed part.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench_answer import Expected
from bench_clients import MAX_TOKENS, MODEL, ChatKimiClient, KimiLlamaIndexClient
from bench_floors import LangChainFloor

__all__ = ["run_ttft", "ttft_table"]

_SIZE = (200, 20)
# Paced as over a network (see bench_answer.Expected.pace). Unpaced, the whole answer arrives in
# one burst; LangGraph's sync graph (the model runs in a worker thread) then handed ChatKimi's
# first token to the reading thread about 10 ms after the model emitted it, which a network
# never shows (docs/performance.md, S8).
_PACE = 0.0003


def _sdk(base_url: str, api_key: str, headers: dict[str, str], *, sync: bool) -> Any:
    import openai

    cls = openai.OpenAI if sync else openai.AsyncOpenAI
    return cls(api_key=api_key, base_url=base_url, default_headers=headers, max_retries=0)


def _body() -> dict[str, Any]:
    return {
        "model": MODEL,
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": MAX_TOKENS,
        "stream": True,
    }


def _paths(base_url: str, api_key: str, expected: Expected) -> dict[str, Any]:  # noqa: C901 - one small closure per path
    """Each path: ``(sync?, call)``; ``call()`` consumes one stream, returns seconds to its first
    reasoning delta."""
    headers = expected.headers
    sdk = _sdk(base_url, api_key, headers, sync=True)
    lc = ChatKimiClient(base_url, api_key, expected).make(streaming=False)
    li = KimiLlamaIndexClient(base_url, api_key, expected).make()

    def sdk_stream() -> float:
        start = time.perf_counter()
        first = 0.0
        for chunk in sdk.chat.completions.create(**_body()):
            if (
                not first
                and chunk.choices
                and getattr(chunk.choices[0].delta, "reasoning_content", None)
            ):
                first = time.perf_counter() - start
        return first

    async def sdk_astream() -> float:
        client = _sdk(base_url, api_key, headers, sync=False)
        start = time.perf_counter()
        first = 0.0
        async for chunk in await client.chat.completions.create(**_body()):
            if (
                not first
                and chunk.choices
                and getattr(chunk.choices[0].delta, "reasoning_content", None)
            ):
                first = time.perf_counter() - start
        await client.close()
        return first

    def lc_stream() -> float:
        start = time.perf_counter()
        first = 0.0
        for chunk in lc.stream("hi"):
            if not first and chunk.additional_kwargs.get("reasoning_content"):
                first = time.perf_counter() - start
        return first

    async def lc_astream() -> float:
        start = time.perf_counter()
        first = 0.0
        async for chunk in lc.astream("hi"):
            if not first and chunk.additional_kwargs.get("reasoning_content"):
                first = time.perf_counter() - start
        return first

    from langgraph.graph import START, MessagesState, StateGraph

    def graph_of(model: Any) -> Any:
        def node(state: MessagesState) -> dict[str, Any]:
            return {"messages": [model.invoke(state["messages"])]}

        return StateGraph(MessagesState).add_node("model", node).add_edge(START, "model").compile()

    def langgraph_messages(graph: Any) -> Callable[[], float]:
        def call() -> float:
            start = time.perf_counter()
            first = 0.0
            messages = {"messages": [("user", "hi")]}
            for chunk, _meta in graph.stream(messages, stream_mode="messages"):
                if not first and chunk.additional_kwargs.get("reasoning_content"):
                    first = time.perf_counter() - start
            return first

        return call

    # The same graph around the minimal LangChain model: what LangGraph itself adds.
    lc_floor = LangChainFloor(base_url, api_key, expected).make(streaming=False)

    from llama_index.core.agent.workflow import AgentStream, FunctionAgent
    from llama_index.core.llms import ChatMessage

    def li_stream() -> float:
        start = time.perf_counter()
        first = 0.0
        for response in li.stream_chat([ChatMessage(role="user", content="hi")]):
            if not first and response.additional_kwargs.get("thinking_delta"):
                first = time.perf_counter() - start
        return first

    async def li_astream() -> float:
        start = time.perf_counter()
        first = 0.0
        async for response in await li.astream_chat([ChatMessage(role="user", content="hi")]):
            if not first and response.additional_kwargs.get("thinking_delta"):
                first = time.perf_counter() - start
        return first

    async def function_agent() -> float:
        agent = FunctionAgent(tools=[], llm=li, streaming=True)
        start = time.perf_counter()
        first = 0.0
        handler = agent.run("hi")
        async for event in handler.stream_events():
            if not first and isinstance(event, AgentStream) and event.thinking_delta:
                first = time.perf_counter() - start
        await handler
        return first

    return {
        "raw SDK stream": (True, sdk_stream),
        "raw SDK async stream": (False, sdk_astream),
        "ChatKimi.stream": (True, lc_stream),
        "ChatKimi.astream": (False, lc_astream),
        'LangGraph stream_mode="messages" (ChatKimi)': (True, langgraph_messages(graph_of(lc))),
        'LangGraph stream_mode="messages" (LangChain floor)': (
            True,
            langgraph_messages(graph_of(lc_floor)),
        ),
        "Kimi.stream_chat": (True, li_stream),
        "Kimi.astream_chat": (False, li_astream),
        "LlamaIndex FunctionAgent stream (Kimi)": (False, function_agent),
    }


def run_ttft(
    base_url: str, api_key: str, delay: float, samples: int, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Median time to first reasoning delta per path, and its difference to the raw SDK."""
    expected = Expected(*_SIZE, pace=_PACE, delay=delay)
    paths = _paths(base_url, api_key, expected)
    loop = asyncio.new_event_loop()

    def once(sync: bool, call: Any) -> float:
        if sync:
            return float(call())
        result: Awaitable[float] = call()
        return float(loop.run_until_complete(result))

    times: dict[str, list[float]] = {name: [] for name in paths}
    try:
        for sync, call in paths.values():  # warm-up: imports, pools, first connection
            once(sync, call)
        for rep in range(samples):
            names = list(paths)
            names = names[rep % len(names) :] + names[: rep % len(names)]
            for name in names:
                sync, call = paths[name]
                times[name].append(once(sync, call))
    finally:
        loop.close()
    medians = {name: statistics.median(values) for name, values in times.items()}
    rows = {}
    for name, (sync, _call) in paths.items():
        base = medians["raw SDK stream" if sync else "raw SDK async stream"]
        rows[name] = {
            "ms": medians[name] * 1000,
            "over_sdk_ms": (medians[name] - base) * 1000,
            "samples": times[name],
        }
        log(f"    {name}: {medians[name] * 1000:.1f} ms ({(medians[name] - base) * 1000:+.2f})")
    return {
        "title": (
            f"S8 time to first reasoning delta, server waits {delay * 1000:g} ms, then paced "
            f"{_PACE * 1000:g} ms per event (wall)"
        ),
        "delay": delay,
        "samples": samples,
        "paths": rows,
    }


def ttft_table(result: dict[str, Any]) -> str:
    """The S8 rows as Markdown."""
    lines = [
        f"### {result['title']}, median of {result['samples']}",
        "",
        "| path | to first reasoning delta (ms) | over the raw SDK (ms) |",
        "|---|---|---|",
    ]
    for name, row in result["paths"].items():
        lines.append(f"| {name} | {row['ms']:.1f} | {row['over_sdk_ms']:+.2f} |")
    return "\n".join(lines)
