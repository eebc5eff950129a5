"""Images and videos: standard blocks and OpenAI-style dicts become Kimi media parts."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from kimi_core import MediaPolicy
from kimi_emulator import KimiEmulator
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_kimi import ChatKimi

# A 1x1 PNG and a few bytes standing in for an MP4 (the emulator does not decode media).
_PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()
_MP4 = base64.b64encode(b"\x00\x00\x00\x18ftypmp42fake-video").decode()


def _model(emu: KimiEmulator, **kwargs: Any) -> ChatKimi:
    return ChatKimi(base_url=emu.base_url, api_key=emu.api_key, **kwargs)


def _sent_user_content(emu: KimiEmulator) -> Any:
    return emu.chat_requests[-1]["messages"][-1]["content"]


def _upload_video(model: ChatKimi) -> str:
    return model.client.files.upload(
        base64.b64decode(_MP4), purpose="video", filename="clip.mp4", mime_type="video/mp4"
    ).id


def test_standard_image_and_video_blocks(kimi_emulator: KimiEmulator) -> None:
    model = _model(kimi_emulator)
    file_id = _upload_video(model)
    message = HumanMessage(
        [
            {"type": "text", "text": "Describe both."},
            {"type": "image", "base64": _PNG, "mime_type": "image/png"},
            {"type": "video", "base64": _MP4, "mime_type": "video/mp4"},
            {"type": "video", "file_id": file_id},
            {"type": "image", "url": f"data:image/png;base64,{_PNG}"},
        ]
    )
    model.invoke([message])
    assert _sent_user_content(kimi_emulator) == [
        {"type": "text", "text": "Describe both."},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{_PNG}"}},
        {"type": "video_url", "video_url": {"url": f"data:video/mp4;base64,{_MP4}"}},
        {"type": "video_url", "video_url": {"url": f"ms://{file_id}"}},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{_PNG}"}},
    ]


def test_openai_style_dicts(kimi_emulator: KimiEmulator) -> None:
    model = _model(kimi_emulator)
    url = f"ms://{_upload_video(model)}"
    message = HumanMessage(
        [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{_PNG}"}},
            {"type": "video_url", "video_url": {"url": url}},
        ]
    )
    model.invoke([message])
    assert _sent_user_content(kimi_emulator)[1:] == [
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{_PNG}"}},
        {"type": "video_url", "video_url": {"url": url}},
    ]


def test_legacy_v0_data_blocks_are_normalised_first(kimi_emulator: KimiEmulator) -> None:
    message = HumanMessage(
        [
            {"type": "text", "text": "See"},
            {"type": "image", "source_type": "base64", "data": _PNG, "mime_type": "image/png"},
        ]
    )
    # Loopback is refused by default; the test server is a host this app trusts.
    _model(kimi_emulator, media=MediaPolicy(allowed_hosts={"127.0.0.1"})).invoke([message])
    assert _sent_user_content(kimi_emulator)[1] == {
        "type": "image_url",
        "image_url": {"url": f"data:image/png;base64,{_PNG}"},
    }


class _PngHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = base64.b64decode(_PNG)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def image_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PngHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cat.png"
    server.shutdown()
    server.server_close()


def test_http_image_urls_are_downloaded_and_inlined(
    kimi_emulator: KimiEmulator, image_server: str
) -> None:
    # Kimi rejects public URLs; kimi-core's media policy fetches the image and sends a data URL.
    message = HumanMessage(
        [{"type": "text", "text": "What is this?"}, {"type": "image", "url": image_server}]
    )
    # Loopback is refused by default; the test server is a host this app trusts.
    _model(kimi_emulator, media=MediaPolicy(allowed_hosts={"127.0.0.1"})).invoke([message])
    assert _sent_user_content(kimi_emulator)[1] == {
        "type": "image_url",
        "image_url": {"url": f"data:image/png;base64,{_PNG}"},
    }


def test_image_in_a_tool_message(kimi_emulator: KimiEmulator) -> None:
    call = {"id": "shot:0", "name": "screenshot", "args": {}}
    history = [
        HumanMessage("Take a screenshot"),
        AIMessage("", tool_calls=[call], additional_kwargs={"reasoning_content": "Shoot."}),
        ToolMessage(
            [{"type": "image", "base64": _PNG, "mime_type": "image/png"}],
            tool_call_id="shot:0",
            name="screenshot",
        ),
    ]
    _model(kimi_emulator).invoke(history)
    assert kimi_emulator.chat_requests[-1]["messages"][-1]["content"] == [
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{_PNG}"}}
    ]


def test_text_only_lists_are_sent_as_a_string(kimi_emulator: KimiEmulator) -> None:
    _model(kimi_emulator).invoke([HumanMessage([{"type": "text", "text": "a"}, "b"])])
    assert _sent_user_content(kimi_emulator) == "ab"


@pytest.mark.parametrize(
    ("block", "match"),
    [
        ({"type": "file", "base64": "JVBERi0=", "mime_type": "application/pdf"}, "file-extract"),
        ({"type": "audio", "base64": "UklGRg==", "mime_type": "audio/wav"}, "'audio'"),
        ({"type": "image", "base64": _PNG}, "mime_type"),
        ({"type": "image", "base64": "PHN2Zz4=", "mime_type": "image/svg+xml"}, "SVG"),
        ({"type": "hologram"}, "Unsupported content block type 'hologram'"),
    ],
)
def test_unsupported_media_fails_before_sending(
    kimi_emulator: KimiEmulator, block: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        _model(kimi_emulator).invoke([HumanMessage([{"type": "text", "text": "x"}, block])])
    assert kimi_emulator.chat_requests == []


def test_models_without_video_input_refuse_video(kimi_emulator: KimiEmulator) -> None:
    video = {"type": "video", "base64": _MP4, "mime_type": "video/mp4"}
    with pytest.raises(ValueError, match="does not accept video"):
        _model(kimi_emulator, model="moonshot-v1-8k-vision-preview").invoke(
            [HumanMessage([{"type": "text", "text": "x"}, video])]
        )
    assert kimi_emulator.chat_requests == []
