"""The $web_search loop, formulas, files, token estimate, models and balance, over HTTP."""

from __future__ import annotations

import json

import kimi_core
import pytest
from kimi_core import (
    WEB_SEARCH,
    ChatSettings,
    FunctionTool,
    ImagePart,
    Message,
    ToolCall,
    build_chat_request,
)
from kimi_emulator import Reply, ScriptedToolCall


def _search_request(stream: bool = False, **settings) -> kimi_core.ChatRequest:
    return build_chat_request(
        [Message.user("What happened today?")],
        ChatSettings(thinking=False, **settings),
        tools=[WEB_SEARCH],
        stream=stream,
    )


def _check_echo_round(sent: dict, search: kimi_core.WebSearch) -> None:
    assistant, echo = sent["messages"][-2:]
    assert assistant["tool_calls"][0]["type"] == "builtin_function"
    assert assistant["tool_calls"][0]["function"]["name"] == "$web_search"
    assert echo == {
        "role": "tool",
        "tool_call_id": search.call_id,
        "name": "$web_search",
        "content": search.arguments,
    }


def test_web_search_loop_complete(client, kimi_emulator):
    kimi_emulator.script(Reply.web_search("today", total_tokens=1200))
    kimi_emulator.script(Reply(content="Here is the news."))
    result = client.complete(_search_request())
    assert result.text == "Here is the news."
    assert result.tool_calls == []
    assert result.builtin_calls == []
    [search] = result.web_searches
    assert search.search_tokens == 1200
    assert search.round == 1
    assert json.loads(search.arguments)["usage"] == {"total_tokens": 1200}
    first, second = kimi_emulator.chat_requests
    assert len(second["messages"]) == len(first["messages"]) + 2
    assert second["tools"] == first["tools"]
    _check_echo_round(second, search)


def test_web_search_usage_is_summed_over_rounds(client, kimi_emulator):
    usage_a = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    usage_b = {"prompt_tokens": 1210, "completion_tokens": 7, "total_tokens": 1217}
    search = Reply.web_search("q")
    kimi_emulator.script(Reply(tool_calls=search.tool_calls, search_query="q", usage=usage_a))
    kimi_emulator.script(Reply(content="done", usage=usage_b))
    result = client.complete(_search_request())
    assert result.usage == kimi_core.Usage(1220, 12, 1232, 0, 0)


def test_web_search_loop_stream_emits_events(client, kimi_emulator):
    kimi_emulator.script(Reply.web_search("a"))
    kimi_emulator.script(Reply.web_search("b"))
    kimi_emulator.script(Reply(content="All found.", chunk_size=4))
    deltas = list(client.stream(_search_request(stream=True)))
    events = [d.event for d in deltas if d.event is not None]
    assert [e.round for e in events] == [1, 2]
    assert all(not d.tool_call_chunks for d in deltas)  # builtin calls never reach the caller
    final = deltas[-1].result
    assert final is not None
    assert final.text == "All found."
    assert final.web_searches == events
    assert len(kimi_emulator.chat_requests) == 3
    _check_echo_round(kimi_emulator.chat_requests[2], events[1])


async def test_web_search_loop_async(kimi_emulator, client):
    kimi_emulator.script(Reply.web_search("a"))
    kimi_emulator.script(Reply(content="async news"))
    result = await client.acomplete(_search_request())
    assert result.text == "async news"
    assert len(result.web_searches) == 1
    kimi_emulator.script(Reply.web_search("a"))
    kimi_emulator.script(Reply(content="async stream"))
    stream = client.astream(_search_request(stream=True))
    events = [d.event async for d in stream if d.event is not None]
    assert len(events) == 1
    assert stream.result is not None
    assert stream.result.text == "async stream"


def test_web_search_round_limit(client, kimi_emulator):
    for _ in range(3):
        kimi_emulator.script(Reply.web_search("again"))
    with pytest.raises(kimi_core.WebSearchLoopError, match="after 2 rounds"):
        client.complete(_search_request(web_search_max_rounds=2))
    assert len(kimi_emulator.chat_requests) == 3


def test_web_search_with_thinking_keeps_reasoning_in_the_echo(client, kimi_emulator):
    kimi_emulator.script(Reply.web_search("x", reasoning="I should search."))
    kimi_emulator.script(Reply(content="ok", reasoning="found it"))
    request = build_chat_request([Message.user("x")], ChatSettings(), tools=[WEB_SEARCH])
    result = client.complete(request)
    assert result.text == "ok"
    assert kimi_emulator.chat_requests[1]["messages"][1]["reasoning_content"] == "I should search."


def _script_reasoning_rounds(kimi_emulator) -> None:
    kimi_emulator.script(Reply.web_search("a", reasoning="First I search. "))
    kimi_emulator.script(Reply.web_search("b", reasoning="Then I check. "))
    kimi_emulator.script(Reply(content="ok", reasoning="Now I answer.", chunk_size=4))


def _check_rounds_echo_their_own_reasoning(kimi_emulator) -> None:
    first, second, third = kimi_emulator.chat_requests[-3:]
    assert "reasoning_content" not in first["messages"][-1]
    assert second["messages"][-2]["reasoning_content"] == "First I search. "
    assert third["messages"][-4]["reasoning_content"] == "First I search. "
    assert third["messages"][-2]["reasoning_content"] == "Then I check. "


ALL_ROUNDS = "First I search. Then I check. Now I answer."


def test_web_search_result_keeps_every_rounds_reasoning(client, kimi_emulator):
    _script_reasoning_rounds(kimi_emulator)
    request = build_chat_request([Message.user("x")], ChatSettings(), tools=[WEB_SEARCH])
    result = client.complete(request)
    assert result.reasoning == ALL_ROUNDS
    assert result.text == "ok"
    _check_rounds_echo_their_own_reasoning(kimi_emulator)


def test_web_search_stream_result_reasoning_is_what_was_streamed(client, kimi_emulator):
    _script_reasoning_rounds(kimi_emulator)
    request = build_chat_request(
        [Message.user("x")], ChatSettings(), tools=[WEB_SEARCH], stream=True
    )
    with client.stream(request) as stream:
        streamed = "".join(d.reasoning or "" for d in stream)
    assert streamed == ALL_ROUNDS
    assert stream.result is not None
    assert stream.result.reasoning == ALL_ROUNDS
    _check_rounds_echo_their_own_reasoning(kimi_emulator)


async def test_web_search_async_results_keep_every_rounds_reasoning(client, kimi_emulator):
    _script_reasoning_rounds(kimi_emulator)
    request = build_chat_request([Message.user("x")], ChatSettings(), tools=[WEB_SEARCH])
    result = await client.acomplete(request)
    assert result.reasoning == ALL_ROUNDS
    _check_rounds_echo_their_own_reasoning(kimi_emulator)
    _script_reasoning_rounds(kimi_emulator)
    stream_request = build_chat_request(
        [Message.user("x")], ChatSettings(), tools=[WEB_SEARCH], stream=True
    )
    async with client.astream(stream_request) as stream:
        streamed = "".join([d.reasoning or "" async for d in stream])
    assert streamed == ALL_ROUNDS
    assert stream.result is not None
    assert stream.result.reasoning == ALL_ROUNDS
    _check_rounds_echo_their_own_reasoning(kimi_emulator)


def test_builtin_and_function_call_together_return_to_the_caller(client, kimi_emulator):
    search = Reply.web_search("x").tool_calls[0]
    kimi_emulator.script(Reply(tool_calls=[search, ScriptedToolCall("lookup", {"q": 1})]))
    request = build_chat_request(
        [Message.user("x")],
        ChatSettings(thinking=False),
        tools=[WEB_SEARCH, FunctionTool("lookup")],
    )
    result = client.complete(request)
    assert [c.name for c in result.tool_calls] == ["lookup"]
    assert [c.name for c in result.builtin_calls] == ["$web_search"]
    # Replaying that turn: the builtin echo is inserted, the function result comes from the user.
    history = [
        Message.user("x"),
        Message.assistant(None, tool_calls=result.builtin_calls + result.tool_calls),
        Message.tool(result.tool_calls[0].id, '{"r": 2}'),
    ]
    follow = build_chat_request(
        history, ChatSettings(thinking=False), tools=[WEB_SEARCH, FunctionTool("lookup")]
    )
    client.complete(follow)
    roles = [m["role"] for m in kimi_emulator.chat_requests[-1]["messages"]]
    assert roles == ["user", "assistant", "tool", "tool"]


# -- formulas ------------------------------------------------------------------------------


def test_formula_tools_and_fiber(client, kimi_emulator):
    toolset = client.formulas.load(["moonshot/web-search:latest", "moonshot/date:latest"])
    assert "web_search" in toolset.uris
    assert toolset.uris["web_search"] == "moonshot/web-search:latest"
    kimi_emulator.script(Reply(tool_calls=[ScriptedToolCall("web_search", {"query": "kimi"})]))
    request = build_chat_request([Message.user("search kimi")], ChatSettings(), tools=toolset.tools)
    result = client.complete(request)
    [call] = result.tool_calls
    message = client.formulas.run(toolset, call)
    assert message.role == "tool"
    assert message.tool_call_id == call.id
    assert message.name == "web_search"
    assert isinstance(message.content, str)
    assert message.content
    fiber = kimi_emulator.requests[-1]
    assert fiber.path == "/v1/formulas/moonshot/web-search:latest/fibers"
    assert fiber.body == {"name": "web_search", "arguments": call.arguments}


def test_formula_result_mapping():
    ok = kimi_core.FormulaResult.from_fiber(
        {"id": "fiber-1", "status": "succeeded", "context": {"output": "42"}}
    )
    assert (ok.content, ok.is_error, ok.encrypted) == ("42", False, False)
    secret = "----MOONSHOT ENCRYPTED BEGIN----abc----MOONSHOT ENCRYPTED END----"
    enc = kimi_core.FormulaResult.from_fiber(
        {"status": "succeeded", "context": {"encrypted_output": secret}}
    )
    assert (enc.content, enc.encrypted) == (secret, True)
    failed = kimi_core.FormulaResult.from_fiber(
        {"status": "failed", "context": {"error": "bad query"}}
    )
    assert failed.is_error
    assert failed.content == "Error: bad query"


async def test_formulas_async_and_unknown(client):
    tools = await client.aformulas.tools("moonshot/date:latest")
    assert tools
    assert all(isinstance(t, FunctionTool) for t in tools)
    with pytest.raises(kimi_core.NotFoundError):
        client.formulas.tools("moonshot/no-such-formula:latest")
    with pytest.raises(ValueError, match="formula URI"):
        client.formulas.tools("web-search")


def test_duplicate_formula_function_names_rejected(client):
    with pytest.raises(ValueError, match="names must be unique"):
        client.formulas.load(["moonshot/date:latest", "moonshot/date:latest"])


# -- files ---------------------------------------------------------------------------------

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f00f0004850180848a8c210000000049454e44ae426082"
)


def test_files_lifecycle(client, kimi_emulator):
    uploaded = client.files.upload(b"Kimi is a model.", purpose="file-extract", filename="a.txt")
    assert uploaded.filename == "a.txt"
    assert uploaded.purpose == "file-extract"
    assert client.files.get(uploaded.id).id == uploaded.id
    assert uploaded.id in [f.id for f in client.files.list()]
    assert "Kimi is a model." in client.files.content(uploaded.id)
    assert client.files.delete(uploaded.id)
    assert uploaded.url == f"ms://{uploaded.id}"


def test_media_upload_is_cached_by_content(client, kimi_emulator):
    first = client.files.upload_media(PNG, kind="image", mime_type="image/png")
    second = client.files.upload_media(PNG, kind="image", mime_type="image/png")
    assert isinstance(first, ImagePart)
    assert first == second
    uploads = [r for r in kimi_emulator.requests if r.method == "POST" and r.path == "/v1/files"]
    assert len(uploads) == 1
    request = build_chat_request([Message.user([first])], ChatSettings())
    client.complete(request)
    part = kimi_emulator.chat_requests[-1]["messages"][0]["content"][0]
    assert part == {"type": "image_url", "image_url": {"url": f"ms://{first.file_id}"}}


async def test_files_async(client):
    uploaded = await client.afiles.upload(b"hello", purpose="file-extract", filename="h.txt")
    assert (await client.afiles.get(uploaded.id)).id == uploaded.id
    assert "hello" in await client.afiles.content(uploaded.id)
    assert await client.afiles.delete(uploaded.id)


@pytest.mark.parametrize(
    ("data", "purpose", "message"),
    [
        (b"", "file-extract", "empty"),
        (b"x", "assistants", "purpose must be one of"),
    ],
)
def test_bad_uploads_rejected_before_sending(client, kimi_emulator, data, purpose, message):
    with pytest.raises(ValueError, match=message):
        client.files.upload(data, purpose=purpose)
    assert kimi_emulator.requests == []


def test_ms_url():
    assert kimi_core.ms_url("file_1") == "ms://file_1"
    with pytest.raises(ValueError, match="not a file id"):
        kimi_core.ms_url("ms://file_1")


# -- token estimate, models, balance --------------------------------------------------------


def test_estimate_uses_the_chat_conversion(client, kimi_emulator):
    call = ToolCall("c1", "f", "{}")
    history = [
        Message.user("Hi"),
        Message.assistant("", tool_calls=[call]),
        Message.tool("c1", "result"),
    ]
    request = build_chat_request(history, ChatSettings(), tools=[FunctionTool("f")])
    tokens = client.estimate_tokens(request)
    assert tokens > 0
    sent = kimi_emulator.requests[-1]
    assert sent.path == "/v1/tokenizers/estimate-token-count"
    assert sent.body == {"model": "kimi-k2.6", "messages": request.body["messages"]}


async def test_models_balance_and_refresh(client, kimi_emulator):
    models = client.list_models()
    ids = {m["id"] for m in models}
    assert {"kimi-k2.6", "kimi-k3"} <= ids
    assert (await client.alist_models()) == models
    balance = client.balance()
    assert set(balance) >= {"available_balance", "voucher_balance", "cash_balance"}
    assert (await client.abalance()) == balance
    assert await client.aestimate_tokens(build_chat_request([Message.user("x")], ChatSettings()))
    refreshed = kimi_core.refresh_profiles_from_models(client)
    assert {p.id for p in refreshed} == ids
    from kimi_core.profiles import arefresh_profiles_from_models

    assert await arefresh_profiles_from_models(client) == refreshed


@pytest.mark.parametrize("model", ["kimi-k2.6", "kimi-k2.7-code", "kimi-k3"])
def test_agent_loop_round_trips_reasoning(client, kimi_emulator, model):
    kimi_emulator.script(
        Reply(
            reasoning="I need the weather.", tool_calls=[ScriptedToolCall("get_weather", {"c": 1})]
        )
    )
    kimi_emulator.script(Reply(content="It is sunny.", reasoning="Now answer."))
    tool = FunctionTool("get_weather", "weather", {"type": "object", "properties": {}})
    history = [Message.user("Weather?")]
    first = client.complete(build_chat_request(history, ChatSettings(model), tools=[tool]))
    history.append(first.to_message())
    history.append(Message.tool(first.tool_calls[0].id, "sunny"))
    second = client.complete(build_chat_request(history, ChatSettings(model), tools=[tool]))
    assert second.text == "It is sunny."
    sent = kimi_emulator.chat_requests[-1]["messages"][1]
    assert sent["reasoning_content"] == "I need the weather."
    assert "content" not in sent
