"""Async calls from many event loops (issue 12 §2): pools are released with their loop.

Workers, notebooks, Celery tasks and sync wrappers call ``asyncio.run(model.ainvoke(...))`` once
per job. Each run makes a new loop; a pool kept for a dead loop holds the loop and a socket.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from kimi_emulator import KimiEmulator
from langchain_kimi import ChatKimi
from llama_index.core.base.llms.types import ChatMessage
from llama_index.llms.kimi import Kimi

RUNS = 50
WARM_UP = 3


def open_fds() -> int:
    """Open file descriptors of this process (sockets included)."""
    return len(os.listdir("/proc/self/fd"))


def live_loops() -> int:
    """Event loops still in memory after a full collection."""
    gc.collect()
    return sum(isinstance(o, asyncio.AbstractEventLoop) for o in gc.get_objects())


def _call(framework: str, emu: KimiEmulator) -> Callable[[], Coroutine[Any, Any, str]]:
    if framework == "langchain":
        chat = ChatKimi(api_key=emu.api_key, base_url=emu.base_url, max_retries=0)

        async def lc() -> str:
            return str((await chat.ainvoke("hi")).content)

        return lc
    llm = Kimi(api_key=emu.api_key, base_url=emu.base_url, max_retries=0)

    async def li() -> str:
        return str((await llm.achat([ChatMessage(role="user", content="hi")])).message.content)

    return li


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts fds in /proc")
@pytest.mark.parametrize("framework", ["langchain", "llamaindex"])
def test_sequential_asyncio_runs_keep_fds_and_loops_flat(
    framework: str, kimi_emulator: KimiEmulator
) -> None:
    call = _call(framework, kimi_emulator)
    for _ in range(WARM_UP):
        assert asyncio.run(call())
    fds, loops = open_fds(), live_loops()
    for _ in range(RUNS):
        assert asyncio.run(call())
    loops_after = live_loops()
    fds_after = open_fds()
    print(f"{framework}: fds {fds} -> {fds_after}, loops {loops} -> {loops_after}")
    # The emulator's keep-alive side of a closed connection may still be winding down: at most
    # one connection's pair of descriptors, never one per run.
    assert fds_after - fds <= 2, f"{RUNS} runs leaked {fds_after - fds} file descriptors"
    assert loops_after <= loops, f"{RUNS} runs left {loops_after - loops} event loops alive"


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts fds in /proc")
# Such a loop never ran the shutdown hook, so its sockets are closed by the transports' finalizers,
# which warn "unclosed transport"; pytest's recorded warnings would keep each transport (and loop).
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_loops_closed_without_shutdown_are_released_by_the_next_lookup(
    kimi_emulator: KimiEmulator,
) -> None:
    # loop.close() without shutdown_asyncgens() (hand-rolled runners): no hook runs, so the next
    # pool lookup forgets the closed loop's pools.
    call = _call("llamaindex", kimi_emulator)

    def run_once() -> None:
        loop = asyncio.new_event_loop()
        try:
            assert loop.run_until_complete(call())
        finally:
            loop.close()

    for _ in range(WARM_UP):
        run_once()
    fds, loops = open_fds(), live_loops()
    for _ in range(20):
        run_once()
    assert live_loops() <= loops + 1  # the last closed loop waits for the next lookup
    assert open_fds() - fds <= 4
