"""Models, Files, token estimate, balance and the official tools (formulas)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import openai
import pytest
from kimi_emulator import KimiEmulator


def test_models_list_has_capability_fields(client: openai.OpenAI, raw: Any) -> None:
    data = {m["id"]: m for m in raw.request("GET", "/v1/models").json()["data"]}
    assert set(data) == {
        "kimi-k2.6",
        "kimi-k2.7-code",
        "kimi-k2.7-code-highspeed",
        "kimi-k3",
        "kimi-k3.1-pro",
        "kimi-k3.1-pro-highspeed",
    }
    assert data["kimi-k3"] == {
        "id": "kimi-k3",
        "object": "model",
        "created": data["kimi-k3"]["created"],
        "owned_by": "moonshot",
        "context_length": 1_048_576,
        "supports_image_in": True,
        "supports_video_in": True,
        "supports_reasoning": True,
    }
    assert [m.id for m in client.models.list()] == list(data)


def test_models_list_follows_the_clock(august: Any) -> None:
    _, sdk = august
    models = {m.id: m for m in sdk.models.list()}
    assert "kimi-k2.5" in models
    assert "kimi-k2-thinking" not in models
    vision = models["moonshot-v1-8k-vision-preview"].model_dump()
    assert vision["supports_image_in"] is True
    assert vision["supports_video_in"] is False
    assert vision["supports_reasoning"] is False


# ---- files ---------------------------------------------------------------------------------------
def test_file_lifecycle(client: openai.OpenAI, kimi_emulator: KimiEmulator) -> None:
    uploaded = client.files.create(file=("notes.txt", b"Kimi notes"), purpose="file-extract")  # type: ignore[arg-type]
    assert uploaded.id.startswith("file_")
    assert uploaded.bytes == 10
    assert uploaded.status == "ready"
    assert kimi_emulator.requests[-1].body is None  # multipart, not JSON
    assert [f.id for f in client.files.list()] == [uploaded.id]
    assert client.files.retrieve(uploaded.id).filename == "notes.txt"
    content = json.loads(client.files.content(uploaded.id).content)
    assert content["content"] == "Kimi notes"
    assert content["filename"] == "notes.txt"
    deleted = client.files.delete(uploaded.id)
    assert deleted.deleted is True
    with pytest.raises(openai.NotFoundError) as caught:
        client.files.retrieve(uploaded.id)
    assert caught.value.body == {
        "message": f"file {uploaded.id} not found",
        "type": "resource_not_found_error",
    }


def test_same_name_uploads_are_renamed(client: openai.OpenAI) -> None:
    first = client.files.create(file=("a.txt", b"1"), purpose="file-extract")  # type: ignore[arg-type]
    second = client.files.create(file=("a.txt", b"2"), purpose="file-extract")  # type: ignore[arg-type]
    assert (first.filename, second.filename) == ("a.txt", "a(1).txt")


def test_non_extract_content_is_raw(client: openai.OpenAI) -> None:
    uploaded = client.files.create(file=("v.mp4", b"\x00\x01video"), purpose="video")  # type: ignore[arg-type]
    assert client.files.content(uploaded.id).content == b"\x00\x01video"


@pytest.mark.parametrize(
    ("name", "data", "purpose", "message"),
    [
        (
            "empty.txt",
            b"",
            "file-extract",
            "File size is zero, please confirm and re-upload the file",
        ),
        (
            "a.txt",
            b"x",
            "fine-tune",
            "Invalid request: invalid purpose 'fine-tune', must be one of batch, file-extract, "
            "image, video",
        ),
        (
            "logo.svg",
            b"<svg ></svg>",
            "image",
            "Invalid request: unsupported image format: text/plain; charset=utf-8",
        ),
    ],
)
def test_upload_errors(
    client: openai.OpenAI, name: str, data: bytes, purpose: str, message: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.files.create(file=(name, data), purpose=purpose)  # type: ignore[arg-type]
    assert caught.value.body == {"message": message, "type": "invalid_request_error"}


def test_upload_too_large(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.files.create(file=("big.bin", b"x" * (100 * 1024 * 1024 + 1)), purpose="batch")  # type: ignore[arg-type]
    assert caught.value.body["message"] == (  # type: ignore[index]
        "File size is too large, max file size is 100MB, please confirm and re-upload the file"
    )


# ---- estimate and balance ------------------------------------------------------------------------
def test_estimate_token_count(raw: Any) -> None:
    short = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}]}
    long = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi " * 100}]}
    image = {
        "model": "kimi-k2.6",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}
                ],
            }
        ],
    }
    counts = [
        raw.request("POST", "/v1/tokenizers/estimate-token-count", b).json()
        for b in (short, long, image)
    ]
    assert counts[0]["data"]["total_tokens"] < counts[1]["data"]["total_tokens"]
    assert counts[2]["data"]["total_tokens"] > counts[0]["data"]["total_tokens"]


def test_estimate_unknown_model(raw: Any) -> None:
    response = raw.request(
        "POST", "/v1/tokenizers/estimate-token-count", {"model": "x", "messages": []}
    )
    assert response.status == 404
    assert response.json()["error"]["message"] == "Not found the model x or Permission denied"


def test_balance(raw: Any) -> None:
    assert raw.request("GET", "/v1/users/me/balance").json() == {
        "code": 0,
        "data": {
            "available_balance": 49.58894,
            "voucher_balance": 46.58893,
            "cash_balance": 3.00001,
        },
        "scode": "0x0",
        "status": True,
    }


def test_unknown_route_is_a_json_404(raw: Any) -> None:
    response = raw.request("GET", "/v1/nothing")
    assert response.status == 404
    assert response.json()["error"]["type"] == "resource_not_found_error"
    assert "Msh-Request-Id" in response.headers


# ---- formulas ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("uri", "name"),
    [
        ("moonshot/web-search:latest", "web_search"),
        ("moonshot/fetch:latest", "fetch"),
        ("moonshot/date:latest", "date"),
        ("moonshot/quickjs:latest", "quickjs"),
        ("moonshot/base64:latest", "base64"),
    ],
)
def test_formula_tools(raw: Any, uri: str, name: str) -> None:
    body = raw.request("GET", f"/v1/formulas/{uri}/tools").json()
    assert body["object"] == "list"
    assert body["tools"][0]["type"] == "function"
    assert body["tools"][0]["function"]["name"] == name
    assert body["tools"][0]["function"]["parameters"]["type"] == "object"


def test_web_search_tool_schema(raw: Any) -> None:
    tool = raw.request("GET", "/v1/formulas/moonshot/web-search:latest/tools").json()["tools"][0]
    properties = tool["function"]["parameters"]["properties"]
    assert set(properties) == {"query", "classes"}
    assert properties["classes"]["items"]["enum"] == [
        "all",
        "academic",
        "social",
        "library",
        "finance",
        "code",
        "ecommerce",
        "medical",
    ]


def fiber(raw: Any, uri: str, name: str, arguments: dict[str, Any]) -> Any:
    body = {"name": name, "arguments": json.dumps(arguments)}
    return raw.request("POST", f"/v1/formulas/{uri}/fibers", body).json()


def test_fiber_shape_and_web_search(raw: Any) -> None:
    result = fiber(
        raw, "moonshot/web-search:latest", "web_search", {"query": "Eiffel Tower height"}
    )
    assert result["id"].startswith("fiber-")
    assert result["object"] == "fiber"
    assert result["status"] == "succeeded"
    assert result["formula"] == "moonshot/web-search:latest"
    assert {"created_at", "lambda_id", "organization_id", "project_id"} <= set(result)
    assert result["context"]["input"] == json.dumps({"query": "Eiffel Tower height"})
    output = json.loads(result["context"]["output"])
    assert output["results"][0]["title"] == "The Eiffel Tower"


def test_fetch_fiber(raw: Any) -> None:
    found = fiber(raw, "moonshot/fetch:latest", "fetch", {"url": "https://example.com/"})
    assert "Example Domain" in json.loads(found["context"]["output"])["content"]
    missing = fiber(raw, "moonshot/fetch:latest", "fetch", {"url": "https://nowhere.test/"})
    assert missing["status"] == "failed"
    assert missing["context"]["error"] == "page not found: https://nowhere.test/"


def test_date_fiber_uses_the_fixed_clock(make_emulator: Any, raw_for: Any) -> None:
    emulator, _ = make_emulator(clock=datetime(2026, 8, 25, 12, 0, tzinfo=UTC))
    result = fiber(raw_for(emulator), "moonshot/date:latest", "date", {"utc_offset_hours": 8})
    output = json.loads(result["context"]["output"])
    assert output["datetime"] == "2026-08-25T20:00:00+08:00"
    assert output["weekday"] == "Tuesday"


@pytest.mark.parametrize(
    ("code", "expected"),
    [("1 + 2 * 3", 7), ("console.log(Math.sqrt(16) + 2 ** 3);", 12), ("10 / 4", 2.5)],
)
def test_quickjs_fiber_evaluates_arithmetic(raw: Any, code: str, expected: float) -> None:
    result = fiber(raw, "moonshot/quickjs:latest", "quickjs", {"code": code})
    assert json.loads(result["context"]["output"]) == {"result": expected}


@pytest.mark.parametrize(
    "code", ["require('fs')", "__import__('os').system('ls')", "while(true){}", "2 ** 99999"]
)
def test_quickjs_fiber_refuses_code(raw: Any, code: str) -> None:
    result = fiber(raw, "moonshot/quickjs:latest", "quickjs", {"code": code})
    assert result["status"] == "failed"
    assert "output" not in result["context"]


def test_base64_fiber(raw: Any) -> None:
    encoded = fiber(raw, "moonshot/base64:latest", "base64", {"data": "kimi"})
    assert json.loads(encoded["context"]["output"]) == {"result": "a2ltaQ=="}


def test_unknown_formula_and_wrong_name(raw: Any) -> None:
    response = raw.request("GET", "/v1/formulas/moonshot/mew:latest/tools")
    assert response.status == 404
    assert response.json()["error"]["message"] == "formula moonshot/mew:latest not found"
    wrong = raw.request(
        "POST",
        "/v1/formulas/moonshot/fetch:latest/fibers",
        {"name": "web_search", "arguments": "{}"},
    )
    assert wrong.status == 400
    assert wrong.json()["error"]["message"] == (
        "Invalid request: name must be 'fetch' for formula moonshot/fetch:latest"
    )


# ---- request signing (section 9) -----------------------------------------------------------------
@pytest.mark.parametrize("stream", [False, True])
def test_signed_response_verifies(raw: Any, stream: bool) -> None:
    body = {"model": "kimi-k3", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    response = raw.chat(body, headers={"X-Msh-Request-Nonce": "nonce-1"})
    timestamp = response.headers["Msh-Request-Timestamp"]
    signature = response.headers["Msh-Request-Signature"]
    assert signature.startswith("reqsigv1_")
    assert timestamp.isdigit()
    claim = {"nonce": "nonce-1", "timestamp": timestamp, "model": "kimi-k3", "signature": signature}
    for _ in range(2):  # no nonce store: a replay still verifies
        assert raw.request("POST", "/v1/signatures/verify", claim).json() == {"valid": True}
    forged = {**claim, "model": "kimi-k2.6"}
    assert raw.request("POST", "/v1/signatures/verify", forged).json() == {"valid": False}


@pytest.mark.parametrize("nonce", [None, " "])
def test_missing_or_empty_nonce_is_ignored(raw: Any, nonce: str | None) -> None:
    headers = {} if nonce is None else {"X-Msh-Request-Nonce": nonce}
    response = raw.chat(
        {"model": "kimi-k3", "messages": [{"role": "user", "content": "hi"}]}, headers=headers
    )
    assert response.status == 200
    assert "Msh-Request-Signature" not in response.headers


@pytest.mark.parametrize(
    ("uri", "name", "arguments"),
    [
        ("moonshot/date:latest", "date", {"utc_offset_hours": [1]}),
        ("moonshot/date:latest", "date", {"utc_offset_hours": 99}),
        ("moonshot/quickjs:latest", "quickjs", {"code": "1/0"}),
        ("moonshot/web-search:latest", "web_search", ["not", "an", "object"]),
    ],
)
def test_bad_fiber_arguments_fail_the_fiber(raw: Any, uri: str, name: str, arguments: Any) -> None:
    result = fiber(raw, uri, name, arguments)
    assert result["status"] == "failed"
    assert result["context"]["error"]
