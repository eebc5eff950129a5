"""Oversized media: a clear ValueError before anything is uploaded, through both frameworks.

The API caps a whole request body at 100 MB (kimi-api.md 5); kimi-core caps a single download at
``MediaPolicy.max_bytes`` (20 MB by default). One part over the cap, several parts that only add up
past it, a download over its cap and downloads that add up past the body cap are all refused
before the chat request goes out (the emulator's log stays empty).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from kimi_core.media import MAX_INLINE_BYTES, MediaPolicy
from kimi_emulator import KimiEmulator
from langchain_core.messages import HumanMessage
from langchain_kimi import ChatKimi
from llama_index.core.base.llms.types import ChatMessage, ImageBlock, TextBlock
from llama_index.llms.kimi import Kimi
from replay_http import Canned

FRAMEWORKS = ("langchain", "llamaindex")
MIB = 2**20


def _data_url(size: int) -> str:
    return "data:image/png;base64," + "A" * (size * 4 // 3 + 4)


# The loopback test servers are hosts these apps trust (loopback is refused by default).
TRUST_LOOPBACK = MediaPolicy(allowed_hosts={"127.0.0.1"})


def _ask(framework: str, emu: KimiEmulator, urls: list[str], *, use_async: bool = False) -> Any:
    if framework == "langchain":
        content: list[Any] = [{"type": "image", "url": url} for url in urls]
        model = ChatKimi(api_key=emu.api_key, base_url=emu.base_url, media=TRUST_LOOPBACK)
        message = [HumanMessage(content=[*content, {"type": "text", "text": "Describe."}])]
        return asyncio.run(model.ainvoke(message)) if use_async else model.invoke(message)
    blocks: list[Any] = [ImageBlock(url=url) for url in urls]
    llm = Kimi(api_key=emu.api_key, base_url=emu.base_url, media=TRUST_LOOPBACK)
    history = [ChatMessage(role="user", blocks=[*blocks, TextBlock(text="Describe.")])]
    return asyncio.run(llm.achat(history)) if use_async else llm.chat(history)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_one_inline_part_over_the_body_cap(kimi_emulator, framework):
    with pytest.raises(ValueError, match=r"exceed the API's 104857600-byte request limit.*file"):
        _ask(framework, kimi_emulator, [_data_url(MAX_INLINE_BYTES + MIB)])
    assert kimi_emulator.requests == []


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_inline_parts_that_add_up_past_the_body_cap(kimi_emulator, framework):
    # Each part alone is fine; together they are not (this one used to be uploaded, then 413).
    urls = [_data_url(40 * MIB)] * 3
    with pytest.raises(ValueError, match=r"add up to \d+ bytes, over the API's 104857600-byte"):
        _ask(framework, kimi_emulator, urls)
    assert kimi_emulator.requests == []


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_download_over_its_cap(kimi_emulator, replay_server, framework):
    replay_server.serve(Canned(body=b"\x89PNG" + b"\x00" * (21 * MIB), content_type="image/png"))
    url = replay_server.base_url + "/big.png"
    with pytest.raises(ValueError, match="larger than the 20971520 byte download cap"):
        _ask(framework, kimi_emulator, [url])
    assert kimi_emulator.requests == []


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_downloads_that_add_up_past_the_body_cap(
    kimi_emulator, replay_server, framework, use_async
):
    replay_server.serve(Canned(body=b"\x89PNG" + b"\x00" * (19 * MIB), content_type="image/png"))
    urls = [f"{replay_server.base_url}/part{i}.png" for i in range(6)]
    with pytest.raises(ValueError, match="add up to"):
        _ask(framework, kimi_emulator, urls, use_async=use_async)
    assert len(replay_server.requests) == 6
    assert kimi_emulator.requests == []
