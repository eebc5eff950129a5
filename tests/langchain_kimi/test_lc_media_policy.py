"""`ChatKimi` and media URLs: refused address classes, the allow path, and the policy per call.

Refusals must come before any connection: `guard_connections` fails a test that dials anything
outside loopback, and records every dial so none but the emulator's is allowed. The loopback
server stands for an internal host and must see no request unless the policy allows it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from kimi_core import MediaPolicy
from kimi_emulator import KimiEmulator
from langchain_core.load import dumps
from langchain_core.messages import HumanMessage
from langchain_kimi import ChatKimi
from media_servers import (
    PNG,
    REFUSED,
    MediaServer,
    Route,
    guard_connections,
    running_media_server,
)

PNG_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()
TRUST_LOOPBACK = MediaPolicy(allowed_hosts={"127.0.0.1"})


@pytest.fixture
def server() -> Iterator[MediaServer]:
    with running_media_server() as state:
        state.routes["/cat.png"] = Route()
        yield state


def _model(emu: KimiEmulator, **kwargs: Any) -> ChatKimi:
    return ChatKimi(api_key=emu.api_key, base_url=emu.base_url, max_retries=0, **kwargs)


def _image(url: str, *, openai_style: bool = False) -> list[HumanMessage]:
    block: dict[str, Any] = (
        {"type": "image_url", "image_url": {"url": url}}
        if openai_style
        else {"type": "image", "url": url}
    )
    return [HumanMessage([{"type": "text", "text": "What is this?"}, block])]


def _sent_image(emu: KimiEmulator) -> Any:
    return emu.chat_requests[-1]["messages"][-1]["content"][1]


@pytest.mark.parametrize("use_async", [False, True], ids=["invoke", "ainvoke"])
@pytest.mark.parametrize("name", list(REFUSED))
async def test_refused_before_any_connection(kimi_emulator, server, name, use_async):
    case = REFUSED[name]
    url = case.url.format(port=server.port)
    model = _model(kimi_emulator, media=MediaPolicy(resolver=case.resolver()))
    messages = _image(url, openai_style=name.endswith("dns"))
    with guard_connections() as seen, pytest.raises(ValueError) as error:
        await (model.ainvoke(messages) if use_async else _sync(model.invoke, messages))
    message = str(error.value)
    assert case.reason in message
    assert "MediaPolicy(allowed_hosts=" in message
    assert seen.other_than(kimi_emulator.port) == []
    assert server.requests == []
    assert kimi_emulator.chat_requests == []


async def _sync(call: Any, *args: Any) -> Any:
    return call(*args)


@pytest.mark.parametrize("mode", ["invoke", "ainvoke", "stream", "astream"])
async def test_an_allowed_internal_host_reaches_the_request_body(kimi_emulator, server, mode):
    model = _model(kimi_emulator, media=TRUST_LOOPBACK)
    messages = _image(server.url("/cat.png"))
    if mode == "invoke":
        model.invoke(messages)
    elif mode == "ainvoke":
        await model.ainvoke(messages)
    elif mode == "stream":
        list(model.stream(messages))
    else:
        [chunk async for chunk in model.astream(messages)]
    assert _sent_image(kimi_emulator) == {"type": "image_url", "image_url": {"url": PNG_URL}}
    assert [path for path, _ in server.requests] == ["/cat.png"]


def test_per_call_download_off_is_refused_before_downloading(kimi_emulator, server):
    # It used to download the image, then fail to JSON-encode the policy into the body.
    model = _model(kimi_emulator, media=TRUST_LOOPBACK)
    with pytest.raises(ValueError, match=r"download is disabled") as error:
        model.invoke(_image(server.url("/cat.png")), media=MediaPolicy(download=False))
    assert "base64" in str(error.value)
    assert "Files API" in str(error.value)
    assert server.requests == []
    assert kimi_emulator.chat_requests == []


def test_download_off_on_the_model(kimi_emulator, server):
    model = _model(kimi_emulator, media=MediaPolicy(download=False))
    with pytest.raises(ValueError, match=r"ms://<file_id>"):
        model.invoke(_image(server.url("/cat.png")))
    assert server.requests == []


def test_per_call_policy_replaces_the_model_policy(kimi_emulator, server):
    model = _model(kimi_emulator)
    with pytest.raises(ValueError, match="loopback"):
        model.invoke(_image(server.url("/cat.png")))
    model.invoke(_image(server.url("/cat.png")), media=TRUST_LOOPBACK)
    model.bind(media=TRUST_LOOPBACK).invoke(_image(server.url("/cat.png")))
    assert len(server.requests) == 2
    assert _sent_image(kimi_emulator)["image_url"]["url"] == PNG_URL


def test_a_redirect_into_the_network_is_refused(kimi_emulator, server):
    server.routes["/cat.png"] = Route(status=302, location="http://10.0.0.5/secret", body=b"")
    model = _model(kimi_emulator, media=TRUST_LOOPBACK)
    with guard_connections() as seen, pytest.raises(ValueError, match="refused to follow"):
        model.invoke(_image(server.url("/cat.png")))
    assert seen.other_than(kimi_emulator.port) == [("127.0.0.1", server.port)]
    assert kimi_emulator.chat_requests == []


def test_the_policy_is_not_serialized(kimi_emulator):
    model = _model(kimi_emulator, media=MediaPolicy(url_hook=lambda url: None))
    assert "media" not in dumps(model)
