"""``KimiClient.stream(coalesce=True)``: events from one network read become one delta.

Guards the issue-6 fix for consumers that rebuild the whole message per delta (LlamaIndex): the
merged stream says exactly what the per-event stream says, in the same order, with fewer deltas.
"""

from __future__ import annotations

import json

import kimi_core
import pytest
from kimi_core import ChatSettings, KimiClient, Message, StreamDelta, ToolCallChunk
from kimi_core.stream import coalesce_deltas
from replay_http import Canned, ReplayServer


def test_runs_of_one_kind_merge_and_everything_else_passes_through():
    call = StreamDelta(tool_call_chunks=[ToolCallChunk(index=0, name="f", arguments="{")])
    both = StreamDelta(text="t", reasoning="r")
    deltas = [
        StreamDelta(reasoning="a"),
        StreamDelta(reasoning="b"),
        StreamDelta(text="c"),
        StreamDelta(text="d"),
        call,
        StreamDelta(text="e"),
        both,
        StreamDelta(reasoning="f"),
        StreamDelta(text="g"),
    ]
    assert coalesce_deltas(deltas) == [
        StreamDelta(reasoning="ab"),
        StreamDelta(text="cd"),
        call,
        StreamDelta(text="e"),
        both,
        StreamDelta(reasoning="f"),
        StreamDelta(text="g"),
    ]
    single = [StreamDelta(text="x")]
    assert coalesce_deltas(single) is single


def _chunk(**delta: object) -> str:
    body = {"id": "c1", "object": "chat.completion.chunk", "model": "kimi-k2.6"}
    body["choices"] = [{"index": 0, "delta": delta, "finish_reason": None}]
    return f"data: {json.dumps(body)}\n\n"


def _stream_body(reasoning: int, text: int, *, error: bool = False) -> bytes:
    parts = [_chunk(role="assistant", content="")]
    parts += [_chunk(reasoning_content=f"r{i} ") for i in range(reasoning)]
    parts += [_chunk(content=f"t{i} ") for i in range(text)]
    if error:
        message = "The engine is currently overloaded"
        err = {"error": {"type": "engine_overloaded_error", "message": message}}
        parts.append(f"data: {json.dumps(err)}\n\n")
        return "".join(parts).encode()
    end = {"id": "c1", "object": "chat.completion.chunk", "model": "kimi-k2.6"}
    end["choices"] = [
        {
            "index": 0,
            "delta": {},
            "finish_reason": "stop",
            "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14},
        }
    ]
    parts.append(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n")
    return "".join(parts).encode()


def _request() -> kimi_core.ChatRequest:
    return kimi_core.build_chat_request(
        [Message.user("hi")], ChatSettings(model="kimi-k2.6"), stream=True
    )


def test_a_body_written_at_once_arrives_in_few_deltas_saying_the_same(
    replay_server: ReplayServer,
):
    # 300 events written in one piece (about 40 kB): a handful of network reads at most.
    replay_server.serve(Canned(body=_stream_body(200, 100), content_type="text/event-stream"))
    client = KimiClient(api_key="sk-test", base_url=replay_server.base_url, max_retries=0)
    plain = list(client.stream(_request()))
    merged = list(client.stream(_request(), coalesce=True))
    assert len(plain) == 301  # one per event, then the final delta
    assert len(merged) < 30
    for deltas in (plain, merged):
        assert "".join(d.reasoning or "" for d in deltas) == "".join(f"r{i} " for i in range(200))
        assert "".join(d.text or "" for d in deltas) == "".join(f"t{i} " for i in range(100))
        # All reasoning comes before any text, and the end is reported once.
        first_text = next(i for i, d in enumerate(deltas) if d.text)
        assert not any(d.reasoning for d in deltas[first_text:])
        assert [d.finish_reason for d in deltas].count("stop") == 1
        assert deltas[-1].result is not None
        assert deltas[-1].result.usage == deltas[-1].usage


async def test_async_streams_merge_the_same_way(replay_server: ReplayServer):
    replay_server.serve(Canned(body=_stream_body(50, 50), content_type="text/event-stream"))
    client = KimiClient(api_key="sk-test", base_url=replay_server.base_url, max_retries=0)
    merged = [d async for d in client.astream(_request(), coalesce=True)]
    assert len(merged) < 20
    assert "".join(d.text or "" for d in merged) == "".join(f"t{i} " for i in range(50))
    assert merged[-1].result is not None


def test_text_before_an_error_in_the_same_read_is_still_delivered(replay_server: ReplayServer):
    replay_server.serve(
        Canned(body=_stream_body(0, 20, error=True), content_type="text/event-stream")
    )
    client = KimiClient(api_key="sk-test", base_url=replay_server.base_url, max_retries=0)
    received: list[str] = []

    def drain() -> None:
        for delta in client.stream(_request(), coalesce=True):
            received.append(delta.text or "")

    with pytest.raises(kimi_core.EngineOverloadedError):
        drain()
    assert "".join(received) == "".join(f"t{i} " for i in range(20))


def test_the_first_event_goes_out_alone_before_the_rest_of_its_read_is_merged(
    replay_server: ReplayServer,
):
    # Merging waits for the whole read to be parsed; the first token must not wait for it.
    replay_server.serve(Canned(body=_stream_body(200, 100), content_type="text/event-stream"))
    client = KimiClient(api_key="sk-test", base_url=replay_server.base_url, max_retries=0)
    merged = list(client.stream(_request(), coalesce=True))
    assert merged[0] == StreamDelta(reasoning="r0 ")
    assert len(merged[1].reasoning or "") > len("r1 ")  # the rest of the read is merged again


async def test_async_first_event_goes_out_alone(replay_server: ReplayServer):
    replay_server.serve(Canned(body=_stream_body(50, 50), content_type="text/event-stream"))
    client = KimiClient(api_key="sk-test", base_url=replay_server.base_url, max_retries=0)
    merged = [d async for d in client.astream(_request(), coalesce=True)]
    assert merged[0] == StreamDelta(reasoning="r0 ")
    assert "".join(d.reasoning or "" for d in merged) == "".join(f"r{i} " for i in range(50))


def test_an_error_before_the_first_event_is_raised_when_merging(replay_server: ReplayServer):
    err = {"error": {"type": "engine_overloaded_error", "message": "overloaded"}}
    body = f"data: {json.dumps(err)}\n\n".encode()
    replay_server.serve(Canned(body=body, content_type="text/event-stream"))
    client = KimiClient(api_key="sk-test", base_url=replay_server.base_url, max_retries=0)
    with pytest.raises(kimi_core.EngineOverloadedError):
        list(client.stream(_request(), coalesce=True))
