"""Malformed server output through ChatKimi and Kimi: a typed error or a documented recovery.

Bodies are served verbatim by a loopback replay server (the recordings with malformed tool calls
and in-stream errors, plus hand-made breakage: invalid JSON, missing fields, unknown finish
reasons, non-JSON bodies). Never an exception from deep inside a parser.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import kimi_core
import pytest
from langchain_core import exceptions as lc
from langchain_kimi import ChatKimi
from llama_index.core.base.llms.types import ChatMessage, ToolCallBlock
from llama_index.llms.kimi import Kimi
from moonshot_recordings import RECORDINGS
from rel_helpers import sse
from replay_http import Canned, ReplayServer

FRAMEWORKS = ("langchain", "llamaindex")
SSE = "text/event-stream"


def _recording(name: str) -> Canned:
    lines = [line for line in (RECORDINGS / name).read_text().splitlines() if line.strip()]
    return Canned(body=sse(*lines), content_type=SSE)


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return json.dumps({"id": "c1", "model": "kimi-k2.6", "choices": [choice]})


def _completion(message: dict[str, Any], finish: str = "stop") -> Canned:
    body = {
        "id": "c1",
        "object": "chat.completion",
        "model": "kimi-k2.6",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }
    return Canned(body=json.dumps(body).encode())


def _run(framework: str, server: ReplayServer, mode: str, **kwargs: Any) -> tuple[Any, list[str]]:
    """(final message or response, streamed text pieces); errors propagate after the pieces."""
    pieces: list[str] = []
    settings: dict[str, Any] = {"api_key": "sk-test", "base_url": server.base_url, **kwargs}
    if framework == "langchain":
        model = ChatKimi(**settings)
        if mode == "invoke":
            return model.invoke("Hi"), pieces
        last = None
        for chunk in model.stream("Hi"):
            pieces.append(chunk.text)
            last = chunk if last is None else last + chunk
        return last, pieces
    llm = Kimi(**settings)
    user = [ChatMessage(role="user", content="Hi")]
    if mode == "invoke":
        return llm.chat(user), pieces
    response = None
    for response in llm.stream_chat(user):
        pieces.append(response.delta or "")
    return response, pieces


def _typed(error: BaseException, framework: str, cls: type[kimi_core.KimiError]) -> None:
    assert isinstance(error, cls), f"{type(error).__name__}: {error}"
    if framework == "langchain":
        assert isinstance(error, lc.ModelError)


@pytest.mark.parametrize(
    "name",
    [
        "moonshotai-stream-malformed-tool-call.chunks.txt",
        "moonshotai-issue-19546-malformed.chunks.txt",
    ],
)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_recorded_malformed_tool_call_streams_give_a_typed_error(replay_server, framework, name):
    replay_server.serve(_recording(name))
    with pytest.raises(kimi_core.KimiError) as caught:
        _run(framework, replay_server, "stream", max_retries=0)
    _typed(caught.value, framework, kimi_core.MalformedResponseError)
    assert "index" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("moonshotai-stream-error.chunks.txt", "Stream failed"),
        ("moonshotai-error.chunks.txt", "Internal server error"),
        ("moonshotai-error-metadata.chunks.txt", "Coded stream failure"),
        ("moonshotai-stream-error-message-only.chunks.txt", "Stream failed without details"),
        ("moonshotai-stream-error-null-code.chunks.txt", ""),
    ],
)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_recorded_error_events_give_a_typed_error_after_the_text(
    replay_server, framework, name, message
):
    replay_server.serve(_recording(name))
    pieces: list[str] = []
    with pytest.raises(kimi_core.KimiError) as caught:
        pieces = _stream_pieces(framework, replay_server)
    _typed(caught.value, framework, kimi_core.ServerError)
    assert message in str(caught.value)
    assert pieces in ([], ["Partial"])


def _stream_pieces(framework: str, server: ReplayServer) -> list[str]:
    pieces: list[str] = []
    settings = {"api_key": "sk-test", "base_url": server.base_url, "max_retries": 0}
    if framework == "langchain":
        pieces.extend(chunk.text for chunk in ChatKimi(**settings).stream("Hi"))
    else:
        user = [ChatMessage(role="user", content="Hi")]
        pieces.extend(r.delta or "" for r in Kimi(**settings).stream_chat(user))
    return pieces


BAD_ARGUMENTS = '{"city": "Par'  # cut mid-string: invalid JSON


@pytest.mark.parametrize("mode", ["invoke", "stream"])
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_invalid_json_tool_arguments_are_kept_verbatim(replay_server, framework, mode):
    call = {"id": "call-1", "type": "function", "function": {"name": "weather"}}
    if mode == "invoke":
        call["function"]["arguments"] = BAD_ARGUMENTS
        replay_server.serve(_completion({"role": "assistant", "tool_calls": [call]}, "tool_calls"))
    else:
        first = {**call, "index": 0, "function": {"name": "weather", "arguments": BAD_ARGUMENTS}}
        replay_server.serve(
            Canned(
                body=sse(_chunk({"tool_calls": [first]}), _chunk({}, "tool_calls")),
                content_type=SSE,
            )
        )
    final, _ = _run(framework, replay_server, mode)
    if framework == "langchain" and mode == "stream":
        # The chunks carry the raw text verbatim. Adding chunks up is langchain-core's business:
        # it parses partial JSON leniently for every provider (documented in reliability.md).
        assert "".join(c["args"] or "" for c in final.tool_call_chunks) == BAD_ARGUMENTS
    elif framework == "langchain":
        # Recovery: LangChain's own convention, an invalid_tool_call with the raw text and why.
        assert final.tool_calls == []
        [bad] = final.invalid_tool_calls
        assert (bad["name"], bad["id"], bad["args"]) == ("weather", "call-1", BAD_ARGUMENTS)
        assert bad["error"]
    else:
        # Recovery: the raw string stays in the ToolCallBlock; get_tool_calls_from_response
        # parses it leniently (LlamaIndex's convention, as in its OpenAI integration).
        [block] = [b for b in final.message.blocks if isinstance(b, ToolCallBlock)]
        assert (block.tool_name, block.tool_call_id) == ("weather", "call-1")
        assert block.tool_kwargs == BAD_ARGUMENTS


def test_langchain_invoke_over_a_stream_keeps_invalid_arguments_invalid(replay_server):
    # invoke() on a streaming model (agents stream through callbacks) aggregates in kimi-core,
    # so truncated arguments stay an invalid_tool_call instead of being "repaired".
    first = {
        "index": 0,
        "id": "call-1",
        "function": {"name": "weather", "arguments": BAD_ARGUMENTS},
    }
    replay_server.serve(
        Canned(
            body=sse(_chunk({"tool_calls": [first]}), _chunk({}, "tool_calls")), content_type=SSE
        )
    )
    model = ChatKimi(api_key="sk-test", base_url=replay_server.base_url, streaming=True)
    message = model.invoke("Hi")
    assert message.tool_calls == []
    assert [c["args"] for c in message.invalid_tool_calls] == [BAD_ARGUMENTS]
    assert json.loads(replay_server.requests[0][2])["stream"] is True


@pytest.mark.parametrize("mode", ["invoke", "stream"])
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_unknown_finish_reason_is_surfaced_verbatim(replay_server, framework, mode):
    if mode == "invoke":
        replay_server.serve(_completion({"role": "assistant", "content": "Hi!"}, "brand_new"))
    else:
        replay_server.serve(
            Canned(body=sse(_chunk({"content": "Hi!"}), _chunk({}, "brand_new")), content_type=SSE)
        )
    final, _ = _run(framework, replay_server, mode)
    if framework == "langchain":
        assert final.text == "Hi!"
        assert final.response_metadata["finish_reason"] == "brand_new"
    else:
        assert final.message.content == "Hi!"
        assert final.additional_kwargs["finish_reason"] == "brand_new"


MALFORMED_BODIES = {
    "no choices": Canned(body=b'{"id": "c1", "object": "chat.completion"}'),
    "choices not a list": Canned(body=b'{"id": "c1", "choices": {"0": {}}}'),
    "message missing": Canned(body=b'{"id": "c1", "choices": [{"index": 0}]}'),
    "tool call without a name": _completion(
        {"role": "assistant", "tool_calls": [{"id": "x", "function": {"arguments": "{}"}}]}
    ),
    "200 with an HTML page": Canned(body=b"<html>proxy login</html>", content_type="text/html"),
    "200 with truncated JSON": Canned(body=b'{"id": "c1", "choices": [{"mess'),
}


@pytest.mark.parametrize("name", list(MALFORMED_BODIES))
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_malformed_completion_bodies_give_a_typed_error(replay_server, framework, name):
    replay_server.serve(MALFORMED_BODIES[name])
    with pytest.raises(kimi_core.KimiError) as caught:
        _run(framework, replay_server, "invoke", max_retries=2)
    _typed(caught.value, framework, kimi_core.MalformedResponseError)
    assert len(replay_server.requests) == 1  # the server answered; asking again would not help


MALFORMED_STREAMS = {
    "delta is a string": [json.dumps({"id": "c", "choices": [{"delta": "Hi"}]})],
    "content is a number": [_chunk({"content": 42})],
    "choices is an object": [json.dumps({"id": "c", "choices": {"delta": {}}})],
    "tool call name is a number": [
        _chunk({"tool_calls": [{"index": 0, "id": "a", "function": {"name": 7}}]})
    ],
    "not JSON at all": ["{broken"],
}


@pytest.mark.parametrize("name", list(MALFORMED_STREAMS))
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_malformed_stream_chunks_give_a_typed_error(replay_server, framework, name):
    payloads = [_chunk({"content": "Hel"}), *MALFORMED_STREAMS[name], _chunk({}, "stop")]
    replay_server.serve(Canned(body=sse(*payloads), content_type=SSE))
    pieces: list[str] = []
    with pytest.raises(kimi_core.KimiError) as caught:
        pieces = _stream_pieces(framework, replay_server)
    _typed(caught.value, framework, kimi_core.MalformedResponseError)
    assert pieces in ([], ["Hel"])


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_stream_ending_without_finish_reason_is_incomplete_not_complete(replay_server, framework):
    replay_server.serve(Canned(body=sse(_chunk({"content": "Half an ans"})), content_type=SSE))
    with pytest.raises(kimi_core.KimiError) as caught:
        _run(framework, replay_server, "stream", max_retries=2)
    _typed(caught.value, framework, kimi_core.IncompleteStreamError)
    assert not caught.value.retryable
    assert len(replay_server.requests) == 1  # text reached the caller: never asked again


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_async_stream_of_a_malformed_recording_gives_a_typed_error(replay_server, framework):
    replay_server.serve(_recording("moonshotai-stream-malformed-tool-call.chunks.txt"))
    settings = {"api_key": "sk-test", "base_url": replay_server.base_url, "max_retries": 0}

    async def consume() -> None:
        if framework == "langchain":
            async for _ in ChatKimi(**settings).astream("Hi"):
                pass
        else:
            user = [ChatMessage(role="user", content="Hi")]
            async for _ in await Kimi(**settings).astream_chat(user):
                pass

    with pytest.raises(kimi_core.KimiError) as caught:
        asyncio.run(consume())
    _typed(caught.value, framework, kimi_core.MalformedResponseError)
