"""Hostile histories through both converters: accepted by the emulator, or a clear refusal.

Arbitrary LangChain and LlamaIndex histories (empty, huge and odd unicode text, lone surrogates,
tool messages without a matching call, assistant turns with only reasoning, images and videos in
every form, unknown block types, None where strings belong, malformed tool-call records) go
through the public call path against the emulator. Each either reaches the emulator and is
accepted with every text, media part and tool call on the wire, or is refused with a
ValueError/TypeError before any request. Nothing else (KeyError, AttributeError, IndexError, a
server-side 400) may come out.
"""

from __future__ import annotations

import json
from typing import Any

import kimi_core
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from kimi_core import KimiClient
from kimi_emulator import KimiEmulator
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_kimi import ChatKimi
from llama_index.core.base.llms.types import (
    AudioBlock,
    ChatMessage,
    DocumentBlock,
    ImageBlock,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    VideoBlock,
)
from llama_index.llms.kimi import Kimi

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
PNG_B64 = "iVBORw0KGgoAAAAAAAAAAAAAAAAAAAAA"
PNG_URL = f"data:image/png;base64,{PNG_B64}"
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 8
MP4_URL = "data:video/mp4;base64,AAAAGGZ0eXBtcDQyAAAAAAAAAAA="
FILE = "FILE_ID"  # replaced by a real uploaded file id
REFUSALS = (ValueError, TypeError)  # pydantic's ValidationError is a ValueError

# A 200,000-character text makes Hypothesis warn when it prints a falsifying example.
LARGE_REPR = pytest.mark.filterwarnings("ignore:Generating overly large repr")
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

odd_text = st.sampled_from(
    [
        "",
        " ",
        "\ud800 lone surrogate",
        "pair \U0001f600 and \u202e rtl",
        "nul \x00 byte",
        "x" * 200_000,
        "None",
        '{"json": "lookalike"}',
    ]
)
texts = st.one_of(st.text(max_size=30), odd_text)
maybe_text = st.one_of(texts, st.none())
call_ids = st.sampled_from(["c1", "c2", "zz"])


# -- LangChain -----------------------------------------------------------------------------

lc_media = st.sampled_from(
    [
        {"type": "image", "base64": PNG_B64, "mime_type": "image/png"},
        {"type": "image", "url": PNG_URL},
        {"type": "image", "file_id": FILE},
        {"type": "image_url", "image_url": {"url": PNG_URL}},
        {"type": "image_url", "image_url": PNG_URL},
        {"type": "video", "url": MP4_URL},
        {"type": "video", "base64": "AAAAGGZ0eXBtcDQy", "mime_type": "video/mp4"},
        {"type": "video_url", "video_url": {"url": MP4_URL}},
        # refused, each with its reason
        {"type": "image", "base64": PNG_B64},
        {"type": "image", "base64": "PHN2Zy8+", "mime_type": "image/svg+xml"},
        {"type": "image"},
        {"type": "image_url", "image_url": None},
        {"type": "video", "url": None},
    ]
)
lc_odd_block = st.sampled_from(
    [
        {"type": "weird"},
        {"type": None},
        {"text": "a block without a type"},
        {"type": "file", "file_id": "f"},
        {"type": "audio", "base64": "AAAA", "mime_type": "audio/wav"},
        {"type": "text-plain", "text": "plain"},
    ]
)
lc_text_block = maybe_text.map(lambda t: {"type": "text", "text": t})
lc_user_content = st.one_of(
    texts, st.lists(st.one_of(texts, lc_text_block, lc_media, lc_odd_block), max_size=4)
)


@st.composite
def lc_ai(draw: st.DrawFn) -> AIMessage:
    blocks = st.one_of(
        lc_text_block,
        maybe_text.map(lambda r: {"type": "reasoning", "reasoning": r}),
        lc_odd_block,
    )
    content = draw(st.one_of(texts, st.lists(blocks, max_size=3)))
    extra: dict[str, Any] = {}
    if draw(st.booleans()):
        extra["reasoning_content"] = draw(st.one_of(maybe_text, st.integers()))
    if draw(st.integers(0, 4)) == 0:
        extra["builtin_tool_calls"] = draw(
            st.sampled_from(
                [
                    [{"id": "b1", "function": {"name": "$web_search", "arguments": "{}"}}],
                    [{}],
                    "not a list",
                    [{"id": "b1"}],
                    [{"id": "b1", "function": None}],
                ]
            )
        )
    calls = [
        {"name": draw(st.sampled_from(["f", "g"])), "args": {"q": draw(texts)}, "id": call_id}
        for call_id in draw(st.lists(st.one_of(call_ids, st.none()), max_size=2, unique=True))
    ]
    return AIMessage(content=content, additional_kwargs=extra, tool_calls=calls)


lc_message = st.one_of(
    lc_user_content.map(lambda c: HumanMessage(content=c)),
    texts.map(SystemMessage),
    lc_ai(),
    st.builds(
        lambda content, call_id: ToolMessage(content=content, tool_call_id=call_id),
        st.one_of(texts, st.lists(st.one_of(lc_text_block, lc_media), max_size=2)),
        call_ids,
    ),
)


@st.composite
def lc_conversation(draw: st.DrawFn) -> list[Any]:
    """A plausible agent turn (user, assistant with calls, tool results, user) plus noise."""
    ids = draw(st.lists(st.sampled_from(["c1", "c2"]), max_size=2, unique=True))
    history: list[Any] = [HumanMessage(content=draw(lc_user_content))]
    calls = [{"name": "f", "args": {"q": draw(texts)}, "id": i} for i in ids]
    history.append(AIMessage(content=draw(texts), tool_calls=calls))
    history += [ToolMessage(content=draw(texts), tool_call_id=i) for i in ids]
    history.append(HumanMessage(content=draw(lc_user_content)))
    return history + draw(st.lists(lc_message, max_size=2))


# -- LlamaIndex ----------------------------------------------------------------------------

li_media = st.sampled_from(
    [
        lambda: ImageBlock(url=PNG_URL),
        lambda: ImageBlock(image=PNG, image_mimetype="image/png"),
        lambda: ImageBlock(image=PNG),
        lambda: ImageBlock(url=f"ms://{FILE}"),
        lambda: VideoBlock(url=MP4_URL),
        lambda: VideoBlock(video=MP4, video_mimetype="video/mp4"),
        # refused, each with its reason
        lambda: ImageBlock(image=b"<svg/>", image_mimetype="image/svg+xml"),
        lambda: AudioBlock(audio=b"RIFF0000WAVE", format="wav"),
        lambda: DocumentBlock(data=b"%PDF-1.4", document_mimetype="application/pdf"),
    ]
)
li_text = texts.map(lambda t: TextBlock(text=t))
li_legacy_calls = st.sampled_from(
    [
        [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        ["not a call"],
        [{"id": "c1", "function": None}],
        [{"id": "c1", "function": "f"}],
        5,
        [{"function": {"name": "f", "arguments": {"q": 1}}}],
    ]
)


@st.composite
def li_message(draw: st.DrawFn) -> ChatMessage:
    role = draw(st.sampled_from(["system", "developer", "user", "assistant", "tool"]))
    extra: dict[str, Any] = {}
    if role in ("user", "system", "developer"):
        blocks = draw(st.lists(st.one_of(li_text, li_media.map(lambda f: f())), max_size=4))
        if draw(st.booleans()):
            extra["name"] = draw(st.one_of(texts, st.integers()))
        return ChatMessage(role=role, blocks=blocks, additional_kwargs=extra)
    if role == "tool":
        extra["tool_call_id"] = draw(st.one_of(call_ids, st.none(), st.integers()))
        return ChatMessage(role=role, content=draw(texts), additional_kwargs=extra)
    blocks = draw(
        st.lists(
            st.one_of(
                li_text,
                maybe_text.map(lambda r: ThinkingBlock(content=r)),
                st.builds(
                    lambda i, k: ToolCallBlock(tool_call_id=i, tool_name="f", tool_kwargs=k),
                    st.one_of(call_ids, st.none()),
                    st.one_of(st.dictionaries(st.just("q"), texts), texts),
                ),
            ),
            max_size=3,
        )
    )
    if draw(st.integers(0, 3)) == 0:
        extra["tool_calls"] = draw(li_legacy_calls)
    return ChatMessage(role=role, blocks=blocks, additional_kwargs=extra)


@st.composite
def li_conversation(draw: st.DrawFn) -> list[ChatMessage]:
    ids = draw(st.lists(st.sampled_from(["c1", "c2"]), max_size=2, unique=True))
    history = [ChatMessage(role="user", blocks=[draw(li_text)])]
    calls = [
        ToolCallBlock(tool_call_id=i, tool_name="f", tool_kwargs={"q": draw(texts)}) for i in ids
    ]
    history.append(ChatMessage(role="assistant", blocks=[draw(li_text), *calls]))
    history += [
        ChatMessage(role="tool", content=draw(texts), additional_kwargs={"tool_call_id": i})
        for i in ids
    ]
    history.append(ChatMessage(role="user", blocks=[draw(li_text)]))
    return history + draw(st.lists(li_message(), max_size=2))


# -- the property ----------------------------------------------------------------------------

_files: dict[str, str] = {}


def _file_id(emu: KimiEmulator) -> str:
    client = KimiClient(api_key=emu.api_key, base_url=emu.base_url)
    if emu.base_url not in _files or _files[emu.base_url] not in [
        f.id for f in client.files.list()
    ]:
        _files[emu.base_url] = client.files.upload(PNG, purpose="image", filename="p.png").id
    return _files[emu.base_url]


def _with_file(value: Any, file_id: str) -> Any:
    """The history with the placeholder file id replaced by a real one (deep, in place)."""
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = file_id if item == FILE else _with_file(item, file_id)
    elif isinstance(value, list):
        value[:] = [_with_file(item, file_id) for item in value]
    return value


def _wire_media(body: dict[str, Any]) -> int:
    return sum(
        part.get("type") in ("image_url", "video_url")
        for message in body["messages"]
        if isinstance(message.get("content"), list)
        for part in message["content"]
    )


def _refusal(send: Any) -> Exception | None:
    """The ValueError/TypeError ``send`` raised, or None when the call went through.

    Anything else propagates and fails the test, a server-side 400 included: that would be a
    body kimi-core should have fixed or refused.
    """
    try:
        send()
    except REFUSALS as refusal:
        return refusal
    except kimi_core.ContextOverflowError:
        # Several 200,000-character turns: a well-formed body the server refuses for its length,
        # as the real API would (there is no local tokenizer to know beforehand).
        event("sent, too long for the context window")
    return None


def _check_outcome(
    emu: KimiEmulator,
    send: Any,
    texts_in: list[str],
    media_in: int,
    call_ids_in: list[str],
    none_text: bool,
) -> None:
    before = len(emu.chat_requests)
    refusal = _refusal(send)
    if refusal is not None:
        assert str(refusal).strip(), "a refusal must say why"
        assert len(emu.chat_requests) == before, "refused, but only after sending"
        event(f"refused: {type(refusal).__name__}")
        return
    event("accepted")
    assert not none_text, "a None where text belongs went out instead of being refused"
    body = emu.chat_requests[-1]
    wire = json.dumps(body["messages"], ensure_ascii=False)
    for text in texts_in:
        if text.strip():
            assert json.dumps(text, ensure_ascii=False)[1:-1] in wire, f"dropped {text[:40]!r}"
    assert _wire_media(body) == media_in
    sent_ids = [c["id"] for m in body["messages"] for c in m.get("tool_calls", ())]
    for call_id in call_ids_in:
        assert call_id in sent_ids


def _lc_inventory(history: list[Any]) -> tuple[list[str], int, list[str], bool]:
    texts_in: list[str] = []
    media = 0
    none_text = False
    ids: list[str] = []
    for message in history:
        content = message.content
        blocks = [content] if isinstance(content, str) else content
        for block in blocks:
            if isinstance(block, str):
                texts_in.append(block)
            elif block.get("type") == "text":
                none_text |= block.get("text") is None
                texts_in.append(block.get("text") or "")
            elif block.get("type") in ("image", "video", "image_url", "video_url"):
                media += 1
        ids += [c["id"] for c in getattr(message, "tool_calls", ()) if c.get("id")]
    return texts_in, media, ids, none_text


@LARGE_REPR
@pytest.mark.parametrize("thinking", [None, False])
@SETTINGS
@given(history=st.one_of(lc_conversation(), st.lists(lc_message, min_size=1, max_size=5)))
def test_langchain_histories_are_accepted_or_clearly_refused(
    kimi_emulator: KimiEmulator, thinking, history
):
    _with_file([m.content for m in history], _file_id(kimi_emulator))
    model = ChatKimi(
        api_key=kimi_emulator.api_key, base_url=kimi_emulator.base_url, thinking=thinking
    )
    _check_outcome(kimi_emulator, lambda: model.invoke(history), *_lc_inventory(history))


def _li_inventory(history: list[ChatMessage]) -> tuple[list[str], int, list[str], bool]:
    texts_in: list[str] = []
    media = 0
    ids: list[str] = []
    for message in history:
        for block in message.blocks:
            if isinstance(block, TextBlock):
                texts_in.append(block.text)
            elif isinstance(block, ImageBlock | VideoBlock):
                media += 1
            elif isinstance(block, ToolCallBlock) and block.tool_call_id:
                ids.append(block.tool_call_id)
    return texts_in, media, ids, False


@LARGE_REPR
@pytest.mark.parametrize("thinking", [None, False])
@SETTINGS
@given(history=st.one_of(li_conversation(), st.lists(li_message(), min_size=1, max_size=5)))
def test_llamaindex_histories_are_accepted_or_clearly_refused(
    kimi_emulator: KimiEmulator, thinking, history
):
    file_id = _file_id(kimi_emulator)
    for message in history:
        for block in message.blocks:
            if isinstance(block, ImageBlock) and block.url and FILE in str(block.url):
                block.url = f"ms://{file_id}"  # type: ignore[assignment]
    llm = Kimi(api_key=kimi_emulator.api_key, base_url=kimi_emulator.base_url, thinking=thinking)
    _check_outcome(kimi_emulator, lambda: llm.chat(history), *_li_inventory(history))


# -- the defects these properties found, pinned ------------------------------------------------

LC_REFUSED = {
    "text None (was sent as the word 'None')": [
        HumanMessage(content=[{"type": "text", "text": None}])
    ],
    "assistant text None": [
        HumanMessage("hi"),
        AIMessage(content=[{"type": "text", "text": None}]),
        HumanMessage("again"),
    ],
    "builtin call record without fields (was KeyError)": [
        HumanMessage("hi"),
        AIMessage(content="a", additional_kwargs={"builtin_tool_calls": [{}]}),
        HumanMessage("again"),
    ],
    "builtin calls not a list (was TypeError on str indices)": [
        HumanMessage("hi"),
        AIMessage(content="a", additional_kwargs={"builtin_tool_calls": "zz"}),
        HumanMessage("again"),
    ],
    "reasoning_content not text (was silently dropped)": [
        HumanMessage("hi"),
        AIMessage(content="a", additional_kwargs={"reasoning_content": 5}),
        HumanMessage("again"),
    ],
}


@pytest.mark.parametrize("history", list(LC_REFUSED.values()), ids=list(LC_REFUSED))
def test_langchain_malformed_histories_are_refused_before_sending(kimi_emulator, history):
    model = ChatKimi(api_key=kimi_emulator.api_key, base_url=kimi_emulator.base_url)
    with pytest.raises(REFUSALS, match=r"must be a (string|list)"):
        model.invoke(history)
    assert kimi_emulator.chat_requests == []


LI_LEGACY = {
    "a string (was AttributeError)": ["not a call"],
    "function is a string (was AttributeError)": [{"id": "c1", "function": "f"}],
    "not a list (was TypeError)": 5,
}


@pytest.mark.parametrize("calls", list(LI_LEGACY.values()), ids=list(LI_LEGACY))
def test_llamaindex_malformed_tool_call_records_are_refused_before_sending(kimi_emulator, calls):
    llm = Kimi(api_key=kimi_emulator.api_key, base_url=kimi_emulator.base_url)
    history = [
        ChatMessage(role="user", content="hi"),
        ChatMessage(role="assistant", content="", additional_kwargs={"tool_calls": calls}),
    ]
    with pytest.raises(ValueError, match="OpenAI-style"):
        llm.chat(history)
    assert kimi_emulator.chat_requests == []
