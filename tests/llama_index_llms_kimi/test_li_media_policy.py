"""`Kimi` and media URLs: refused address classes, the allow path, and the policy per call.

Refusals must come before any connection: `guard_connections` fails a test that dials anything
outside loopback, and records every dial so none but the emulator's is allowed. The loopback
server stands for an internal host and must see no request unless the policy allows it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from kimi_core import MediaPolicy
from llama_index.core.base.llms.types import ChatMessage, ImageBlock, TextBlock, VideoBlock
from llama_index.llms.kimi import Kimi
from media_servers import (
    PNG,
    REFUSED,
    MediaServer,
    Route,
    guard_connections,
    running_media_server,
)

PNG_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 32
TRUST_LOOPBACK = MediaPolicy(allowed_hosts={"127.0.0.1"})


@pytest.fixture
def server() -> Iterator[MediaServer]:
    with running_media_server() as state:
        state.routes["/cat.png"] = Route()
        state.routes["/clip.mp4"] = Route(body=MP4, content_type="video/mp4")
        yield state


def _image(url: str) -> list[ChatMessage]:
    return [ChatMessage(role="user", blocks=[TextBlock(text="What is this?"), ImageBlock(url=url)])]


def _sent_media(kimi_emulator: Any) -> Any:
    return kimi_emulator.chat_requests[-1]["messages"][-1]["content"][1]


async def _chat(llm: Kimi, messages: list[ChatMessage], use_async: bool, **kwargs: Any) -> Any:
    return await llm.achat(messages, **kwargs) if use_async else llm.chat(messages, **kwargs)


@pytest.mark.parametrize("use_async", [False, True], ids=["chat", "achat"])
@pytest.mark.parametrize("name", list(REFUSED))
async def test_refused_before_any_connection(make_llm, kimi_emulator, server, name, use_async):
    case = REFUSED[name]
    llm = make_llm(media=MediaPolicy(resolver=case.resolver()))
    with guard_connections() as seen, pytest.raises(ValueError) as error:
        await _chat(llm, _image(case.url.format(port=server.port)), use_async)
    assert case.reason in str(error.value)
    assert "MediaPolicy(allowed_hosts=" in str(error.value)
    assert seen.other_than(kimi_emulator.port) == []
    assert server.requests == []
    assert kimi_emulator.chat_requests == []


@pytest.mark.parametrize("mode", ["chat", "achat", "stream_chat", "astream_chat"])
async def test_an_allowed_internal_host_reaches_the_request_body(
    make_llm, kimi_emulator, server, mode
):
    llm = make_llm(media=TRUST_LOOPBACK)
    messages = _image(server.url("/cat.png"))
    if mode == "chat":
        llm.chat(messages)
    elif mode == "achat":
        await llm.achat(messages)
    elif mode == "stream_chat":
        list(llm.stream_chat(messages))
    else:
        [r async for r in await llm.astream_chat(messages)]
    assert _sent_media(kimi_emulator) == {"type": "image_url", "image_url": {"url": PNG_URL}}
    assert [path for path, _ in server.requests] == ["/cat.png"]


def test_an_allowed_video_url(make_llm, kimi_emulator, server):
    llm = make_llm(media=MediaPolicy(allowed_hosts={"127.0.0.0/8"}))
    blocks = [TextBlock(text="Summarise."), VideoBlock(url=server.url("/clip.mp4"))]
    llm.chat([ChatMessage(role="user", blocks=blocks)])
    expected = "data:video/mp4;base64," + base64.b64encode(MP4).decode()
    assert _sent_media(kimi_emulator) == {"type": "video_url", "video_url": {"url": expected}}


@pytest.mark.parametrize("use_async", [False, True], ids=["chat", "achat"])
async def test_per_call_download_off(make_llm, kimi_emulator, server, use_async):
    # Per call it used to be refused as an unknown argument; on ChatKimi it downloaded first.
    llm = make_llm(media=TRUST_LOOPBACK)
    messages = _image(server.url("/cat.png"))
    with pytest.raises(ValueError, match=r"download is disabled") as error:
        await _chat(llm, messages, use_async, media=MediaPolicy(download=False))
    assert "ImageBlock(image=...)" in str(error.value)
    assert "ms://<file_id>" in str(error.value)
    assert server.requests == []
    assert kimi_emulator.chat_requests == []


def test_per_call_policy_and_assignment_take_effect(make_llm, kimi_emulator, server):
    llm = make_llm()
    with pytest.raises(ValueError, match="loopback"):
        llm.chat(_image(server.url("/cat.png")))
    llm.chat(_image(server.url("/cat.png")), media=TRUST_LOOPBACK)
    llm.media = TRUST_LOOPBACK
    llm.chat(_image(server.url("/cat.png")))
    llm.media = MediaPolicy(download=False)
    with pytest.raises(ValueError, match="download is disabled"):
        llm.chat(_image(server.url("/cat.png")))
    assert len(server.requests) == 2
    assert len(kimi_emulator.chat_requests) == 2


def test_denied_host_and_hook(make_llm, kimi_emulator, server):
    denied = make_llm(media=MediaPolicy(allowed_hosts={"127.0.0.1"}, denied_hosts={"127.0.0.1"}))
    with pytest.raises(ValueError, match="denied_hosts"):
        denied.chat(_image(server.url("/cat.png")))
    hooked = make_llm(media=MediaPolicy(url_hook=lambda url: url.endswith("/cat.png")))
    hooked.chat(_image(server.url("/cat.png")))
    assert _sent_media(kimi_emulator)["image_url"]["url"] == PNG_URL
    with pytest.raises(ValueError, match="url_hook said no"):
        hooked.chat(_image(server.url("/dog.png")))
    assert [path for path, _ in server.requests] == ["/cat.png"]


def test_the_policy_is_not_serialized(make_llm):
    llm = make_llm(media=MediaPolicy(allowed_hosts={"10.0.0.0/8"}, url_hook=lambda url: None))
    assert "media" not in json.loads(llm.to_json())
    assert "media" not in llm.model_dump()
