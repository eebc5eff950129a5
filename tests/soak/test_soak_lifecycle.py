"""Abandoned calls give their connections back: early break, async cancel, async break.

Agents stop reading streams all the time (a tool call arrived, the user pressed stop, a task was
cancelled). Sixty abandoned streams per case must not leave sixty sockets behind.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Iterator

import pytest
from kimi_emulator import KimiEmulator, Reply
from langchain_kimi import ChatKimi
from llama_index.core.base.llms.types import ChatMessage
from llama_index.llms.kimi import Kimi
from soak_harness import open_sockets

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="socket figures come from /proc"
)
ROUNDS = 30
LEFT_OVER = 2  # a pooled keep-alive connection or two is fine; one per abandoned call is a leak


@pytest.fixture
def emulator() -> Iterator[KimiEmulator]:
    """A server of this test alone: no other test's pooled connections point at its port."""
    with KimiEmulator() as server:
        yield server


def _long_reply() -> Reply:
    return Reply(content="word " * 200, content_chunks=100)


def _user() -> list[ChatMessage]:
    return [ChatMessage(role="user", content="Tell me a long story")]


def test_sync_streams_left_after_the_first_chunk(emulator: KimiEmulator):
    chat_kimi = ChatKimi(api_key=emulator.api_key, base_url=emulator.base_url)
    kimi = Kimi(api_key=emulator.api_key, base_url=emulator.base_url)
    for _ in range(ROUNDS):
        emulator.script(_long_reply())
        for _chunk in chat_kimi.stream("Tell me a long story"):
            assert open_sockets(emulator.port) >= 1  # the stream is really open
            break
        emulator.script(_long_reply())
        for response in kimi.stream_chat(_user()):
            assert response is not None
            break
    gc.collect()
    assert open_sockets(emulator.port) <= LEFT_OVER
    assert len(emulator.chat_requests) == 2 * ROUNDS  # nothing was retried behind our back


def test_async_streams_cancelled_or_left(emulator: KimiEmulator):
    chat_kimi = ChatKimi(api_key=emulator.api_key, base_url=emulator.base_url)
    kimi = Kimi(api_key=emulator.api_key, base_url=emulator.base_url)

    async def langchain_reader() -> None:
        async for _ in chat_kimi.astream("Tell me a long story"):
            await asyncio.sleep(30)  # a slow consumer, cancelled while it holds the stream

    async def llamaindex_reader() -> None:
        async for _ in await kimi.astream_chat(_user()):
            await asyncio.sleep(30)

    async def leave_early() -> None:
        async for _ in chat_kimi.astream("Tell me a long story"):
            break

    async def run() -> int:
        for _ in range(ROUNDS):
            for reader in (langchain_reader, llamaindex_reader):
                emulator.script(_long_reply())
                task = asyncio.create_task(reader())
                while not task.done() and open_sockets(emulator.port) == 0:
                    await asyncio.sleep(0.005)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
            emulator.script(_long_reply())
            await leave_early()
        gc.collect()
        await asyncio.sleep(0.1)  # let the loop finalise the abandoned async generators
        return open_sockets(emulator.port)

    assert asyncio.run(run()) <= LEFT_OVER
