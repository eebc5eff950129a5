"""Image, video, audio and document blocks."""

from __future__ import annotations

import base64

import pytest
from kimi_core import MediaPolicy
from llama_index.core.base.llms.types import (
    AudioBlock,
    ChatMessage,
    DocumentBlock,
    ImageBlock,
    TextBlock,
    VideoBlock,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 32


def _parts(kimi_emulator) -> list[dict]:
    return kimi_emulator.chat_requests[-1]["messages"][0]["content"]


def _ask(llm, *blocks) -> None:
    llm.chat([ChatMessage(role="user", blocks=[TextBlock(text="Describe this."), *blocks])])


def test_image_bytes_path_and_ms_url(llm, kimi_emulator, tmp_path) -> None:
    path = tmp_path / "pic.png"
    path.write_bytes(PNG)
    uploaded = llm.client.files.upload(PNG, purpose="image", filename="pic.png")
    _ask(llm, ImageBlock(image=PNG), ImageBlock(path=path), ImageBlock(url=f"ms://{uploaded.id}"))
    text, from_bytes, from_path, from_file = _parts(kimi_emulator)
    assert text == {"type": "text", "text": "Describe this."}
    expected = f"data:image/png;base64,{base64.b64encode(PNG).decode()}"
    assert from_bytes == {"type": "image_url", "image_url": {"url": expected}}
    assert from_path == from_bytes
    assert from_file == {"type": "image_url", "image_url": {"url": f"ms://{uploaded.id}"}}


def test_image_data_url_passes_through(llm, kimi_emulator) -> None:
    url = f"data:image/png;base64,{base64.b64encode(PNG).decode()}"
    _ask(llm, ImageBlock(url=url))
    assert _parts(kimi_emulator)[1]["image_url"]["url"] == url


def test_video_bytes_path_default_mime_and_ms_url(llm, kimi_emulator, tmp_path) -> None:
    unknown = b"not a known container" * 4
    path = tmp_path / "clip.mov"
    path.write_bytes(MP4)
    uploaded = llm.client.files.upload(MP4, purpose="video", filename="clip.mp4")
    _ask(
        llm,
        VideoBlock(video=MP4),
        VideoBlock(video=unknown),
        VideoBlock(url=f"ms://{uploaded.id}"),
        VideoBlock(path=path),
    )
    _, mp4, fallback, ms, from_path = _parts(kimi_emulator)
    assert mp4["video_url"]["url"].startswith("data:video/mp4;base64,")
    assert from_path["video_url"]["url"] == (
        f"data:video/quicktime;base64,{base64.b64encode(MP4).decode()}"
    )
    assert fallback["video_url"]["url"] == (
        f"data:video/mp4;base64,{base64.b64encode(unknown).decode()}"
    )
    assert ms == {"type": "video_url", "video_url": {"url": f"ms://{uploaded.id}"}}


def test_media_on_a_text_only_model_is_a_clear_error(make_llm, kimi_emulator) -> None:
    with pytest.raises(ValueError, match="does not accept image input"):
        _ask(make_llm(model="kimi-k2-0905-preview"), ImageBlock(image=PNG))
    assert kimi_emulator.chat_requests == []


def test_audio_is_a_clear_error(llm, kimi_emulator) -> None:
    with pytest.raises(ValueError, match=r"AudioBlock.*no audio input"):
        _ask(llm, AudioBlock(audio=b"RIFF0000WAVEfmt "))
    assert kimi_emulator.chat_requests == []


def test_document_is_a_clear_error_by_default(llm, kimi_emulator) -> None:
    with pytest.raises(ValueError, match="DocumentBlock"):
        _ask(llm, DocumentBlock(data=b"%PDF-1.4 hello"))
    assert kimi_emulator.chat_requests == []


def _uploads(kimi_emulator) -> list:
    return [r for r in kimi_emulator.requests if r.method == "POST" and r.path == "/v1/files"]


def test_documents_through_file_extract_once_per_document(
    make_llm, kimi_emulator, tmp_path
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("The launch code is 1234.")
    llm = make_llm(documents="file-extract")
    history = [
        ChatMessage(role="user", blocks=[TextBlock(text="Summarise:"), DocumentBlock(path=path)])
    ]
    llm.chat(history)
    llm.chat(history)  # an agent resends its history: the document is not uploaded again
    assert len(_uploads(kimi_emulator)) == 1
    for body in kimi_emulator.chat_requests:
        text, extracted = body["messages"][0]["content"].split("\n", 1)
        assert text == "Summarise:"
        assert "The launch code is 1234." in extracted
    assert isinstance(history[0].blocks[1], DocumentBlock)  # the caller's history is untouched


async def test_documents_through_file_extract_async(make_llm, kimi_emulator) -> None:
    llm = make_llm(documents="file-extract")
    message = ChatMessage(
        role="user",
        blocks=[DocumentBlock(data=b"Quarterly revenue rose 12%.", title="report.txt")],
    )
    chunks = [c async for c in await llm.astream_chat([message])]
    assert chunks[-1].message.content
    assert len(_uploads(kimi_emulator)) == 1
    assert "Quarterly revenue rose 12%." in kimi_emulator.chat_requests[0]["messages"][0]["content"]


async def test_http_image_url_is_downloaded_and_inlined(make_llm, kimi_emulator, replay) -> None:
    # Loopback is refused by default; the test server is a host this app trusts.
    llm = make_llm(media=MediaPolicy(allowed_hosts={"127.0.0.1"}))
    replay.files["/cat.png"] = ("image/png", PNG)
    url = replay.base_url.removesuffix("/v1") + "/cat.png"
    _ask(llm, ImageBlock(url=url))
    await llm.achat([ChatMessage(role="user", blocks=[ImageBlock(url=url)])])
    expected = f"data:image/png;base64,{base64.b64encode(PNG).decode()}"
    for body in kimi_emulator.chat_requests:
        (image,) = [p for p in body["messages"][0]["content"] if p["type"] == "image_url"]
        assert image["image_url"]["url"] == expected
