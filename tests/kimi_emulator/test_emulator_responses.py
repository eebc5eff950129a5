"""Response features: shapes, usage, streams, tool calls, $web_search, the brain, scripting."""

from __future__ import annotations

import json
import re
from typing import Any

import openai
import pytest
from kimi_emulator import SIZE_HEADER, KimiEmulator, Reply, ScriptedToolCall

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city", "days"],
        },
    },
}
WEB_SEARCH = {"type": "builtin_function", "function": {"name": "$web_search"}}


def ask(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


# ---- non-streaming shape -----------------------------------------------------------------------
def test_non_stream_shape_and_request_id(
    client: openai.OpenAI, kimi_emulator: KimiEmulator
) -> None:
    raw = client.chat.completions.with_raw_response.create(model="kimi-k2.6", messages=ask("hi"))
    assert re.fullmatch(r"[0-9a-f]{32}", raw.headers["Msh-Request-Id"])
    body = json.loads(raw.content)
    assert re.fullmatch(r"chatcmpl-[0-9a-f]{24}", body["id"])
    assert body["object"] == "chat.completion"
    message = body["choices"][0]["message"]
    assert set(message) == {"role", "content", "reasoning_content"}
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert 0 < usage["completion_tokens_details"]["reasoning_tokens"] < usage["completion_tokens"]
    assert kimi_emulator.chat_requests == [{"model": "kimi-k2.6", "messages": ask("hi")}]


def test_k3_ids_are_uuid_style(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model="kimi-k3", messages=ask("hi"))
    assert re.fullmatch(
        r"chatcmpl-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", reply.id
    )


def test_repeated_prompt_reports_cached_tokens_in_both_places(raw: Any) -> None:
    body = {"model": "kimi-k3", "messages": ask("reply with exactly OK")}
    first = raw.chat(body).json()["usage"]
    assert "cached_tokens" not in first
    assert "prompt_tokens_details" not in first
    second = raw.chat(body).json()["usage"]
    assert second["cached_tokens"] == second["prompt_tokens"]
    assert second["prompt_tokens_details"] == {"cached_tokens": second["prompt_tokens"]}


def test_shared_prefix_is_partly_cached(raw: Any) -> None:
    history = [{"role": "system", "content": "You are terse."}]
    raw.chat({"model": "kimi-k3", "messages": [*history, *ask("one")]})
    usage = raw.chat({"model": "kimi-k3", "messages": [*history, *ask("two")]}).json()["usage"]
    assert 0 < usage["cached_tokens"] < usage["prompt_tokens"]


def test_small_max_tokens_ends_with_length_and_empty_content(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="kimi-k2.6", messages=ask("hello there"), max_tokens=3
    )
    assert reply.choices[0].finish_reason == "length"
    assert reply.choices[0].message.content == ""
    assert reply.usage is not None
    assert reply.usage.completion_tokens == 3
    assert reply.usage.completion_tokens_details.reasoning_tokens == 3  # type: ignore[union-attr]


def test_v1_models_send_no_reasoning_fields(august: Any) -> None:
    _, sdk = august
    raw = sdk.chat.completions.with_raw_response.create(model="moonshot-v1-8k", messages=ask("hi"))
    body = json.loads(raw.content)
    assert set(body["choices"][0]["message"]) == {"role", "content"}
    assert "completion_tokens_details" not in body["usage"]


def test_logprobs(august: Any) -> None:
    _, sdk = august
    reply = sdk.chat.completions.create(
        model="moonshot-v1-8k",
        messages=ask("reply with exactly OK!"),
        logprobs=True,
        top_logprobs=1,
    )
    entries = reply.choices[0].logprobs.content  # type: ignore[union-attr]
    assert "".join(e.token for e in entries) == reply.choices[0].message.content  # type: ignore[union-attr]
    assert entries[0].bytes == list(entries[0].token.encode())  # type: ignore[index]


# ---- streams -----------------------------------------------------------------------------------
def test_stream_order_and_usage_placement(raw: Any) -> None:
    events = raw.chat({"model": "kimi-k3", "messages": ask("hi"), "stream": True}).events()
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    kinds = [next(iter(c["choices"][0]["delta"]), "finish") for c in chunks[1:]]
    first_content = kinds.index("content")
    assert set(kinds[:first_content]) == {"reasoning_content"}
    assert chunks[first_content]["choices"][0]["delta"] == {"reasoning_content": ""}
    assert set(kinds[first_content:-1]) == {"content"}
    finish = chunks[-1]
    assert finish["choices"][0]["finish_reason"] == "stop"
    assert finish["choices"][0]["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0
    assert "usage" not in finish
    assert all("usage" not in c and c["object"] == "chat.completion.chunk" for c in chunks)


def test_include_usage_adds_a_top_level_usage_chunk(raw: Any) -> None:
    body = {"model": "kimi-k3", "messages": ask("hi"), "stream": True}
    body["stream_options"] = {"include_usage": True}
    chunks = raw.chat(body).events()[:-1]
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == chunks[-2]["choices"][0]["usage"]


def test_null_usage_switch(make_emulator: Any) -> None:
    emulator, sdk = make_emulator(null_usage_on_chunks="with_include_usage")
    stream = sdk.chat.completions.create(
        model="kimi-k3", messages=ask("hi"), stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk.model_dump(exclude_unset=True) for chunk in stream]
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["usage"]["total_tokens"] > 0
    assert emulator.chat_requests[0]["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize(
    ("placement", "choice_usage", "top_usage"),
    [("top_level", False, True), ("both", True, True)],
)
def test_finish_usage_placement_switch(
    make_emulator: Any, raw_for: Any, placement: str, choice_usage: bool, top_usage: bool
) -> None:
    emulator, _ = make_emulator(finish_usage=placement, null_usage_on_chunks="always")
    events = (
        raw_for(emulator).chat({"model": "kimi-k3", "messages": ask("hi"), "stream": True}).events()
    )
    finish = events[-2]
    assert finish["choices"][0]["finish_reason"] == "stop"
    assert ("usage" in finish["choices"][0]) is choice_usage
    assert (finish["usage"] is not None) is top_usage
    assert all(e["usage"] is None for e in events[:-2])


def test_system_fingerprint_on_k2_streams_only(raw: Any) -> None:
    chunks = raw.chat({"model": "kimi-k2.6", "messages": ask("hi"), "stream": True}).events()[:-1]
    assert all(re.fullmatch(r"fpv0_[0-9a-f]{8}", c["system_fingerprint"]) for c in chunks)
    k3 = raw.chat({"model": "kimi-k3", "messages": ask("hi"), "stream": True}).events()[:-1]
    assert all("system_fingerprint" not in c for c in k3)


def test_tool_call_fragments(raw: Any, kimi_emulator: KimiEmulator) -> None:
    body = {
        "model": "kimi-k3",
        "messages": ask('Use get_weather for "Paris" over 3 days'),
        "tools": [WEATHER],
        "stream": True,
    }
    chunks = raw.chat(body).events()[:-1]
    fragments = [
        c["choices"][0]["delta"]["tool_calls"][0]
        for c in chunks
        if "tool_calls" in c["choices"][0]["delta"]
    ]
    assert fragments[0] == {
        "index": 0,
        "id": "get_weather_0",
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    assert all(
        set(f) == {"index", "function"} and set(f["function"]) == {"arguments"}
        for f in fragments[1:]
    )
    arguments = "".join(f["function"]["arguments"] for f in fragments)
    assert json.loads(arguments) == {"city": "Paris", "days": 3}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert kimi_emulator.chat_requests[0]["tools"] == [WEATHER]


def test_size_header_sets_chunk_counts(raw: Any) -> None:
    body = {"model": "kimi-k3", "messages": ask("hi"), "stream": True}
    chunks = raw.chat(body, headers={SIZE_HEADER: "reasoning=50,content=70"}).events()[:-1]
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert sum(1 for d in deltas if d.get("reasoning_content")) == 50
    assert sum(1 for d in deltas if d.get("content")) == 70


def test_bad_size_header(raw: Any) -> None:
    response = raw.chat({"model": "kimi-k3", "messages": ask("hi")}, headers={SIZE_HEADER: "lots"})
    assert response.status == 400
    assert "X-Kimi-Emulator-Size must look like" in response.json()["error"]["message"]


# ---- the rule-based brain ----------------------------------------------------------------------
def test_brain_calls_named_tool_with_arguments_from_the_message(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="kimi-k3",
        messages=ask("Please call get_weather for 'Berlin' for 5 days"),
        tools=[WEATHER],  # type: ignore[list-item]
    )
    call = reply.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"city": "Berlin", "days": 5}  # type: ignore[union-attr]
    assert reply.choices[0].message.content == ""


def test_brain_answers_tool_results_by_quoting_them(client: openai.OpenAI) -> None:
    messages = [
        *ask("Use get_weather for Paris"),
        {
            "role": "assistant",
            "reasoning_content": "call it",
            "tool_calls": [
                {
                    "id": "get_weather_0",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "{}"},
                }
            ],
        },
        {
            "role": "tool",
            "tool_call_id": "get_weather_0",
            "name": "get_weather",
            "content": "18C and sunny",
        },
    ]
    reply = client.chat.completions.create(model="kimi-k2.6", messages=messages, tools=[WEATHER])  # type: ignore[arg-type, list-item]
    assert "18C and sunny" in (reply.choices[0].message.content or "")


def test_brain_does_not_call_tools_with_tool_choice_none(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="kimi-k3",
        messages=ask("Use get_weather"),
        tools=[WEATHER],
        tool_choice="none",  # type: ignore[list-item]
    )
    assert reply.choices[0].message.tool_calls is None


def test_brain_json_schema_output_fits_the_schema(client: openai.OpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {
            "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]},
            "ok": {"type": "boolean"},
            "mood": {"type": "string", "enum": ["happy", "sad"]},
        },
        "required": ["pair", "ok", "mood"],
    }
    reply = client.chat.completions.create(
        model="kimi-k3",
        messages=ask('Give the pair "age" and 42, I am sad'),
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "p", "schema": schema, "strict": True},
        },
    )
    assert json.loads(reply.choices[0].message.content or "") == {
        "pair": ["age", 42],
        "ok": True,
        "mood": "sad",
    }


def test_brain_json_object_output(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="kimi-k3",
        messages=ask("Return a JSON object"),
        response_format={"type": "json_object"},
    )
    assert isinstance(json.loads(reply.choices[0].message.content or ""), dict)


def test_brain_continues_a_partial_prefix_without_repeating_it(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="kimi-k3",
        messages=[
            *ask("What is 6*7? Reply with exactly The answer is 42"),
            {"role": "assistant", "content": "The answer", "partial": True},  # type: ignore[typeddict-unknown-key]
        ],
    )
    assert reply.choices[0].message.content == " is 42"


def test_brain_does_arithmetic(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="kimi-k3", messages=ask("17*19, answer with the number only")
    )
    assert reply.choices[0].message.content == "323"


# ---- $web_search rounds (section 4) ------------------------------------------------------------
def search_round(client: openai.OpenAI) -> tuple[list[dict[str, Any]], Any]:
    messages: list[dict[str, Any]] = ask("Search the web for the Eiffel Tower height")
    reply = client.chat.completions.create(
        model="kimi-k2.6",
        messages=messages,
        tools=[WEB_SEARCH],
        extra_body={"thinking": {"type": "disabled"}},  # type: ignore[arg-type, list-item]
    )
    return messages, reply


def test_web_search_call_shape(client: openai.OpenAI) -> None:
    _, reply = search_round(client)
    assert reply.choices[0].finish_reason == "tool_calls"
    call = reply.choices[0].message.tool_calls[0]
    assert call.type == "builtin_function"
    assert call.function.name == "$web_search"
    arguments = json.loads(call.function.arguments)
    assert set(arguments) == {"search_result", "usage"}
    assert arguments["search_result"]["search_id"]
    assert arguments["usage"]["total_tokens"] == 1200


def echo_messages(
    messages: list[dict[str, Any]], reply: Any, **tool_overrides: Any
) -> list[dict[str, Any]]:
    call = reply.choices[0].message.tool_calls[0]
    tool = {
        "role": "tool",
        "tool_call_id": call.id,
        "name": "$web_search",
        "content": call.function.arguments,
    }
    tool.update(tool_overrides)
    assistant = {
        "role": "assistant",
        "tool_calls": [
            {
                "id": call.id,
                "type": call.type,
                "function": {"name": call.function.name, "arguments": call.function.arguments},
            }
        ],
    }
    return [*messages, assistant, tool]


def test_web_search_echo_is_answered_and_billed(
    client: openai.OpenAI, kimi_emulator: KimiEmulator
) -> None:
    messages, reply = search_round(client)
    follow = echo_messages(messages, reply)
    plain = client.chat.completions.create(
        model="kimi-k2.6",
        messages=follow[:1],
        extra_body={"thinking": {"type": "disabled"}},  # type: ignore[arg-type]
    )
    answer = client.chat.completions.create(
        model="kimi-k2.6",
        messages=follow,
        tools=[WEB_SEARCH],
        extra_body={"thinking": {"type": "disabled"}},  # type: ignore[arg-type, list-item]
    )
    assert answer.choices[0].finish_reason == "stop"
    assert "330 metres" in (answer.choices[0].message.content or "")
    assert answer.usage is not None
    assert plain.usage is not None
    assert answer.usage.prompt_tokens >= plain.usage.prompt_tokens + 1200
    assert kimi_emulator.chat_requests[-1]["messages"][-1]["name"] == "$web_search"


@pytest.mark.parametrize(
    "override",
    [
        {"content": '{"search_result": {"search_id": "other"}}'},
        {"name": "web_search"},
        {"content": "not json"},
    ],
)
def test_web_search_echo_must_be_verbatim(client: openai.OpenAI, override: dict[str, Any]) -> None:
    messages, reply = search_round(client)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="kimi-k2.6",
            messages=echo_messages(messages, reply, **override),
            tools=[WEB_SEARCH],  # type: ignore[arg-type, list-item]
            extra_body={"thinking": {"type": "disabled"}},
        )
    assert caught.value.body == {  # type: ignore[comparison-overlap]
        "message": "Invalid request: the tool message at position 2 must echo the $web_search "
        "arguments verbatim with name '$web_search'",
        "type": "invalid_request_error",
    }


def test_web_search_echo_may_be_reserialised(client: openai.OpenAI) -> None:
    messages, reply = search_round(client)
    arguments = json.dumps(
        json.loads(reply.choices[0].message.tool_calls[0].function.arguments), indent=2
    )
    answer = client.chat.completions.create(
        model="kimi-k2.6",
        messages=echo_messages(messages, reply, content=arguments),
        tools=[WEB_SEARCH],  # type: ignore[arg-type, list-item]
        extra_body={"thinking": {"type": "disabled"}},
    )
    assert answer.choices[0].finish_reason == "stop"


def test_web_search_call_without_echo_is_rejected(client: openai.OpenAI) -> None:
    messages, reply = search_round(client)
    follow = echo_messages(messages, reply)[:-1] + ask("and?")
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="kimi-k2.6",
            messages=follow,
            tools=[WEB_SEARCH],
            extra_body={"thinking": {"type": "disabled"}},  # type: ignore[arg-type, list-item]
        )
    assert "has no echoing tool message" in caught.value.body["message"]  # type: ignore[index]


# ---- scripting ---------------------------------------------------------------------------------
def test_scripted_replies_in_order_and_matched(
    client: openai.OpenAI, kimi_emulator: KimiEmulator
) -> None:
    kimi_emulator.script(Reply(content="first"))
    kimi_emulator.script(Reply(content="for weather"), when="weather")
    kimi_emulator.script(Reply(content="second"))
    texts = [
        client.chat.completions.create(model="kimi-k3", messages=ask(q)).choices[0].message.content
        for q in ("a", "what weather?", "b", "c")
    ]
    assert texts[:3] == ["first", "for weather", "second"]
    assert texts[3] != "second"


def test_scripted_reply_controls_every_field(raw: Any, kimi_emulator: KimiEmulator) -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    kimi_emulator.script(
        Reply(
            content="hello world",
            reasoning="abc",
            tool_calls=[ScriptedToolCall(name="f", arguments={"x": 1})],
            finish_reason="stop",
            usage=usage,
            reasoning_chunks=["a", "bc"],
            content_chunks=3,
        )
    )
    chunks = raw.chat({"model": "kimi-k3", "messages": ask("hi"), "stream": True}).events()[:-1]
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert [d["reasoning_content"] for d in deltas if "reasoning_content" in d] == ["a", "bc", ""]
    assert [d["content"] for d in deltas[1:] if "content" in d] == ["hell", "o wo", "rld"]
    fragments = [d["tool_calls"][0]["function"]["arguments"] for d in deltas if "tool_calls" in d]
    assert "".join(fragments) == '{"x": 1}'

    assert chunks[-1]["choices"][0]["usage"] == usage
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_scripted_chunk_size(raw: Any, kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Reply(content="abcdefg", chunk_size=3))
    body = {"model": "kimi-k2.6", "messages": ask("x"), "stream": True}
    body["thinking"] = {"type": "disabled"}
    chunks = raw.chat(body).events()[:-1]
    assert [c["choices"][0]["delta"].get("content") for c in chunks[1:-1]] == ["abc", "def", "g"]


def test_scripted_web_search_round(client: openai.OpenAI, kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Reply.web_search(query="python 3.11 speed", total_tokens=77))
    messages: list[dict[str, Any]] = ask("anything")
    reply = client.chat.completions.create(model="kimi-k3", messages=messages, tools=[WEB_SEARCH])  # type: ignore[arg-type, list-item]
    arguments = json.loads(reply.choices[0].message.tool_calls[0].function.arguments)  # type: ignore[index]
    assert arguments["usage"] == {"total_tokens": 77}
    answer = client.chat.completions.create(
        model="kimi-k3",
        messages=echo_messages(messages, reply),
        tools=[WEB_SEARCH],  # type: ignore[arg-type, list-item]
    )
    assert "Python 3.11" in (answer.choices[0].message.content or "")


def test_scripted_reply_waits_for_a_valid_request(
    rejects: Any, client: openai.OpenAI, kimi_emulator: KimiEmulator
) -> None:
    kimi_emulator.script(Reply(content="kept"))
    rejects(
        400,
        "invalid_request_error",
        "invalid top_p: only 0.95 is allowed for this model",
        top_p=0.1,
    )
    reply = client.chat.completions.create(model="kimi-k2.6", messages=ask("hi"))
    assert reply.choices[0].message.content == "kept"


def test_reset_clears_script_and_log(client: openai.OpenAI, kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Reply(content="never used"))
    client.models.list()
    kimi_emulator.reset()
    assert kimi_emulator.requests == []
    reply = client.chat.completions.create(model="kimi-k2.6", messages=ask("hi"))
    assert reply.choices[0].message.content != "never used"


def test_script_rejects_other_types(kimi_emulator: KimiEmulator) -> None:
    with pytest.raises(TypeError, match="script\\(\\) takes a Reply or a Fault"):
        kimi_emulator.script("hello")  # type: ignore[arg-type]


# ---- request log ---------------------------------------------------------------------------------
def test_request_log_records_everything_but_the_key(raw: Any, kimi_emulator: KimiEmulator) -> None:
    raw.request("GET", "/v1/files?purpose=image")
    raw.chat({"model": "kimi-k3", "messages": ask("hi")})
    logged = kimi_emulator.requests
    assert [(r.method, r.path) for r in logged] == [
        ("GET", "/v1/files"),
        ("POST", "/v1/chat/completions"),
    ]
    assert logged[0].query == {"purpose": "image"}
    assert logged[0].body is None
    assert logged[1].body == {"model": "kimi-k3", "messages": ask("hi")}
    assert logged[1].headers["Authorization"] == "Bearer [REDACTED]"
    assert kimi_emulator.api_key not in repr(logged)
    assert kimi_emulator.api_key not in repr(kimi_emulator)
    assert kimi_emulator.api_key not in repr(kimi_emulator.config)


def test_server_logs_never_show_the_key(
    raw: Any, kimi_emulator: KimiEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    raw.chat({"model": "kimi-k3", "messages": ask("hi"), "stream": True})
    raw.chat({"model": "nope", "messages": ask("hi")})
    raw.request("GET", "/v1/models", auth="Bearer sk-someone-else")
    assert kimi_emulator.api_key not in caplog.text
    assert "sk-someone-else" not in caplog.text


def test_scripted_reply_without_any_reasoning(raw: Any, kimi_emulator: KimiEmulator) -> None:
    kimi_emulator.script(Reply(content="OK", no_reasoning=True))
    body = raw.chat({"model": "kimi-k3", "messages": ask("hi")}).json()
    assert set(body["choices"][0]["message"]) == {"role", "content"}
    assert "completion_tokens_details" not in body["usage"]
