"""Property tests: any neutral history becomes a body the emulator accepts, or a clear error,
and nothing (text, media part, tool call) is dropped on the way."""

from __future__ import annotations

import json
from typing import Any

import kimi_core
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from kimi_core import (
    ChatSettings,
    ImagePart,
    KimiClient,
    Message,
    StreamAccumulator,
    TextPart,
    ToolCall,
    VideoPart,
    build_chat_request,
    normalize_schema,
)

PNG_URL = "data:image/png;base64,iVBORw0KGgo="
MP4_URL = "data:video/mp4;base64,AAAAIGZ0eXBpc29t"
# Unknown ids are covered by the builder tests; the emulator (rightly) 404s them.
MODELS = ["kimi-k2.6", "kimi-k2.7-code", "kimi-k2.7-code-highspeed", "kimi-k3"]

# Mostly ordinary text; sometimes a lone surrogate (invalid Unicode some decoders produce).
text = st.one_of(st.text(max_size=40), st.just("broken \ud800 text"))
media = st.sampled_from(
    [
        ImagePart(url=PNG_URL),
        ImagePart(data=b"\x89PNG\r\n", mime_type="image/png"),
        ImagePart(file_id="FILE_ID"),
        VideoPart(url=MP4_URL),
        VideoPart(data=b"\x00\x00\x00 ftyp", mime_type="video/mp4"),
        ImagePart(data=b"<svg/>", mime_type="image/svg+xml"),  # always refused, with a reason
        ImagePart(),  # empty: refused, with a reason
    ]
)
part = st.one_of(text.map(TextPart), media)
content = st.one_of(text, st.lists(part, max_size=4), st.none())
call_ids = st.sampled_from(["c1", "c2", "t-web_search-1"])


@st.composite
def tool_calls(draw: st.DrawFn) -> list[ToolCall]:
    calls = []
    for call_id in draw(st.lists(call_ids, max_size=2, unique=True)):
        builtin = call_id.startswith("t-web")
        calls.append(
            ToolCall(
                call_id,
                "$web_search" if builtin else draw(st.sampled_from(["f", "g"])),
                json.dumps({"q": draw(text)}),
                type="builtin_function" if builtin else "function",
            )
        )
    return calls


@st.composite
def messages(draw: st.DrawFn) -> Message:
    role = draw(st.sampled_from(["system", "user", "assistant", "tool"]))
    if role == "assistant":
        return Message(
            "assistant",
            draw(content),
            reasoning=draw(st.one_of(st.none(), text)),
            tool_calls=draw(tool_calls()),
            partial=draw(st.booleans()),
            name=draw(st.one_of(st.none(), st.just("Kimi"))),
        )
    if role == "tool":
        return Message("tool", draw(content), tool_call_id=draw(call_ids))
    return Message(role, draw(content))


safe_media = st.sampled_from(
    [
        ImagePart(url=PNG_URL),
        ImagePart(data=b"\x89PNG\r\n", mime_type="image/png"),
        ImagePart(file_id="FILE_ID"),
        VideoPart(url=MP4_URL),
    ]
)
user_content = st.one_of(
    text.filter(str.strip),
    st.lists(st.one_of(text.map(TextPart), safe_media), min_size=1, max_size=4),
)


@st.composite
def conversations(draw: st.DrawFn) -> list[Message]:
    """Plausible agent histories: user turns, assistant turns with calls, their results."""
    history: list[Message] = []
    if draw(st.booleans()):
        history.append(Message.system(draw(text)))
    for turn in range(draw(st.integers(1, 3))):
        history.append(Message.user(draw(user_content)))
        calls = []
        for i in range(draw(st.integers(0, 2))):
            builtin = draw(st.booleans())
            calls.append(
                ToolCall(
                    f"t{turn}_{i}",
                    "$web_search" if builtin else "f",
                    json.dumps({"q": draw(text)}),
                    type="builtin_function" if builtin else "function",
                )
            )
        reply = draw(text) if calls else draw(text.filter(str.strip))
        history.append(
            Message.assistant(reply, reasoning=draw(st.one_of(st.none(), text)), tool_calls=calls)
        )
        for call in calls:
            if call.is_builtin:
                if draw(st.booleans()):  # else left for kimi-core to echo
                    history.append(Message.tool(call.id, call.arguments))
            else:
                history.append(Message.tool(call.id, draw(st.one_of(text, user_content))))
    history.append(Message.user(draw(user_content)))
    if draw(st.booleans()):
        history.append(Message.assistant(draw(text), partial=True))
    return history


histories = st.one_of(conversations(), st.lists(messages(), min_size=1, max_size=6))
knobs = st.fixed_dictionaries(
    {
        "model": st.sampled_from(MODELS),
        "thinking": st.sampled_from([None, True, False]),
        "preserve_thinking": st.booleans(),
    }
)


def _texts(history: list[Message]) -> list[str]:
    out: list[str] = []
    for message in history:
        if isinstance(message.content, str):
            out.append(message.content)
        elif isinstance(message.content, list):
            out.extend(p.text for p in message.content if isinstance(p, TextPart))
        for call in message.tool_calls:
            out.append(call.arguments)
    return [t for t in out if t.strip()]


def _count_media(history: list[Message]) -> int:
    return sum(
        isinstance(p, ImagePart | VideoPart)
        for m in history
        if isinstance(m.content, list)
        for p in m.content
    )


def _wire_media(body: dict[str, Any]) -> int:
    return sum(
        p.get("type") in ("image_url", "video_url")
        for m in body["messages"]
        if isinstance(m.get("content"), list)
        for p in m["content"]
    )


def _wire_text(body: dict[str, Any]) -> str:
    return json.dumps(body["messages"], ensure_ascii=False)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories, knob=knobs)
def test_any_history_is_accepted_or_clearly_refused(kimi_emulator, history, knob):
    client = KimiClient(api_key=kimi_emulator.api_key, base_url=kimi_emulator.base_url)
    file_id = kimi_emulator_file(client)
    for message in history:
        if isinstance(message.content, list):
            for p in message.content:
                if isinstance(p, ImagePart) and p.file_id == "FILE_ID":
                    p.file_id = file_id
    refused = None
    try:
        request = build_chat_request(history, ChatSettings(**knob))
    except (ValueError, TypeError) as exc:
        refused = str(exc)
    if refused is not None:
        assert refused  # a reason is always given
        event("refused before sending")
        return
    event("sent")
    body = request.body
    # Nothing dropped: every text, tool-call argument string and media part made it to the wire.
    wire = _wire_text(body)
    for piece in _texts(history):
        assert json.dumps(piece, ensure_ascii=False)[1:-1] in wire
    assert _wire_media(body) == _count_media(history)
    sent_calls = sum(len(m.get("tool_calls", ())) for m in body["messages"])
    assert sent_calls == sum(len(m.tool_calls) for m in history)
    # And the server accepts it (any 400 here is a rule kimi-core failed to apply).
    before = len(kimi_emulator.chat_requests)
    result = client.complete(request)
    assert result.finish_reason
    assert kimi_emulator.chat_requests[before] == body


_uploaded: dict[str, str] = {}


def kimi_emulator_file(client: KimiClient) -> str:
    """One uploaded image per emulator (the per-test reset clears the file store)."""
    key = client.base_url
    if key not in _uploaded or _uploaded[key] not in [f.id for f in client.files.list()]:
        _uploaded[key] = client.files.upload(b"\x89PNG\r\n", purpose="image", filename="p.png").id
    return _uploaded[key]


# -- schemas -------------------------------------------------------------------------------

leaf = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["string", "integer", "number", "boolean", ["string", "null"]]),
        "enum": st.lists(st.integers(0, 5), min_size=1, max_size=3),
        "description": st.text(max_size=20),
        "format": st.just("date"),
        "minimum": st.integers(0, 3),
        "title": st.text(max_size=20),
    },
)
names = st.from_regex(r"[a-z]{1,6}", fullmatch=True)
schemas = st.recursive(
    leaf,
    lambda children: st.one_of(
        st.fixed_dictionaries(
            {
                "properties": st.dictionaries(
                    st.from_regex(r"[a-z]{1,6}", fullmatch=True), children, max_size=3
                )
            },
            optional={"type": st.just("object"), "required": st.just([])},
        ),
        st.fixed_dictionaries({"items": children}, optional={"type": st.just("array")}),
        st.fixed_dictionaries({"anyOf": st.lists(children, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"oneOf": st.lists(children, min_size=1, max_size=3)}),
    ),
    max_leaves=8,
)


def _every_node_typed(node: Any) -> bool:
    if not isinstance(node, dict):
        return True
    if "anyOf" in node:
        return all(_every_node_typed(b) for b in node["anyOf"])
    if not isinstance(node.get("type"), str):
        return False
    children = list(node.get("properties", {}).values())
    if isinstance(node.get("items"), dict):
        children.append(node["items"])
    return all(_every_node_typed(c) for c in children)


@settings(max_examples=200, deadline=None)
@given(schema=schemas)
def test_normalized_schemas_are_mfjs(schema):
    out = normalize_schema(schema)
    assert _every_node_typed(out)
    dumped = json.dumps(out)
    assert '"title"' not in dumped
    assert '"oneOf"' not in dumped
    assert '"format"' not in dumped
    assert normalize_schema(out) == out  # idempotent


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(schema=schemas)
def test_normalized_tool_schemas_are_accepted(kimi_emulator, schema):
    client = KimiClient(api_key=kimi_emulator.api_key, base_url=kimi_emulator.base_url)
    params = {"type": "object", "properties": {"arg": schema}}
    tool = kimi_core.FunctionTool("probe", "p", params)
    fmt = {"type": "json_schema", "json_schema": {"name": "out", "schema": params}}
    request = build_chat_request(
        [Message.user("x")], ChatSettings(), tools=[tool], response_format=fmt
    )
    assert client.complete(request).finish_reason


# -- stream accumulator --------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    reasoning=st.lists(st.text(max_size=5), max_size=20),
    answer=st.lists(st.text(max_size=5), max_size=20),
    args=st.lists(st.lists(st.text(max_size=4), max_size=5), max_size=3),
    indexed=st.booleans(),
)
def test_accumulator_reassembles_any_split(reasoning, answer, args, indexed):
    acc = StreamAccumulator()
    for piece in reasoning:
        acc.feed({"choices": [{"index": 0, "delta": {"reasoning_content": piece}}]})
    for piece in answer:
        acc.feed({"choices": [{"index": 0, "delta": {"content": piece}}]})
    starts = [
        {"id": f"call_{i}", "type": "function", "function": {"name": f"f{i}", "arguments": ""}}
        | ({"index": i} if indexed else {})
        for i in range(len(args))
    ]
    if starts:
        acc.feed({"choices": [{"index": 0, "delta": {"tool_calls": starts}}]})
    for step in range(max((len(a) for a in args), default=0)):
        fragments = [
            {"function": {"arguments": a[step] if step < len(a) else ""}}
            | ({"index": i} if indexed else {})
            for i, a in enumerate(args)
        ]
        acc.feed({"choices": [{"index": 0, "delta": {"tool_calls": fragments}}]})
    acc.feed({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    acc.mark_done()
    result = acc.result()
    assert result.text == "".join(answer)
    assert result.reasoning == ("".join(reasoning) or None)
    assert [c.arguments for c in result.tool_calls] == ["".join(a) for a in args]
    assert [c.name for c in result.tool_calls] == [f"f{i}" for i in range(len(args))]


# -- settings x tools x formats, cross-checked against the emulator's own model table ---------

WEATHER = kimi_core.FunctionTool(
    "get_weather", "Weather", {"type": "object", "properties": {"city": {"type": "string"}}}
)
SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "answer", "schema": {"properties": {"a": {"type": "string"}}}},
}


def _mostly_unset(*values: object) -> st.SearchStrategy:
    # Users set few knobs at once; mostly-None keeps the accepted share of examples useful.
    return st.one_of(st.none(), st.none(), st.none(), st.sampled_from(values))


request_knobs = st.fixed_dictionaries(
    {
        "model": st.sampled_from(MODELS),
        "thinking": _mostly_unset(True, False),
        "preserve_thinking": st.sampled_from([False, False, True]),
        "reasoning_effort": _mostly_unset("low", "high", "max", "medium"),
        "temperature": _mostly_unset(0.6, 1.0, 0.3),
        "top_p": _mostly_unset(0.95, 0.5),
        "n": _mostly_unset(1, 2),
        "presence_penalty": _mostly_unset(0, 0.5),
        "max_tokens": _mostly_unset(64, 10**7),
        "stop": _mostly_unset("END", ["a", "b"]),
        "tool_choice_policy": st.sampled_from(["downgrade", "error"]),
    }
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    knob=request_knobs,
    tools=st.sampled_from([None, [WEATHER], [WEATHER, kimi_core.WEB_SEARCH]]),
    tool_choice=st.sampled_from([None, "auto", "none", "required", "get_weather"]),
    response_format=st.sampled_from([None, {"type": "json_object"}, SCHEMA_FORMAT]),
    stream=st.booleans(),
)
def test_any_settings_are_accepted_or_clearly_refused(
    kimi_emulator, knob, tools, tool_choice, response_format, stream
):
    client = KimiClient(api_key=kimi_emulator.api_key, base_url=kimi_emulator.base_url)
    refused = None
    try:
        request = build_chat_request(
            [Message.user("What is the weather in Paris? Answer in JSON.")],
            ChatSettings(**knob),
            tools=tools,
            tool_choice=tool_choice,
            response_format=response_format,
            stream=stream,
        )
    except (ValueError, TypeError) as exc:
        refused = str(exc)
    if refused is not None:
        assert refused
        event("refused before sending")
        return
    event("sent")
    # Whatever kimi-core lets through, the emulator (its own, independent model table) accepts.
    result = list(client.stream(request))[-1].result if stream else client.complete(request)
    assert result is not None
    assert result.finish_reason
