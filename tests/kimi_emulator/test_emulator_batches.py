"""/v1/batches through the plain openai SDK: the status machine, line shapes, limits, paging."""

from __future__ import annotations

import json
import time
from typing import Any

import openai
import pytest


def _line(custom_id: str, text: str, **body: Any) -> dict[str, Any]:
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {
            "model": "kimi-k2.6",
            "messages": [{"role": "user", "content": text}],
            "thinking": {"type": "disabled"},
            **body,
        },
    }


def _upload(sdk: openai.OpenAI, lines: list[Any], purpose: str = "batch") -> str:
    content = "".join(json.dumps(line) + "\n" for line in lines).encode()
    return sdk.files.create(file=("in.jsonl", content), purpose=purpose).id  # type: ignore[arg-type]


def _wait(sdk: openai.OpenAI, batch_id: str) -> tuple[Any, list[str]]:
    seen: list[str] = []
    for _ in range(3000):
        batch = sdk.batches.retrieve(batch_id)
        if not seen or seen[-1] != batch.status:
            seen.append(batch.status)
        if batch.status in ("completed", "failed", "expired", "cancelled"):
            return batch, seen
        time.sleep(0.005)
    raise AssertionError(f"batch still {seen[-1]}")


@pytest.fixture
def batch_sdk(make_emulator):
    # Stages of 30 emulated seconds, 1 per request, at 100 emulated seconds per real millisecond.
    return make_emulator(batch_time_scale=100_000, batch_request_seconds=500.0)


def test_a_batch_walks_the_status_machine_and_writes_the_line_shapes(batch_sdk):
    emulator, sdk = batch_sdk
    lines = [_line("a", "Say exactly: one"), _line("b", "Say exactly: two")]
    created = sdk.batches.create(
        input_file_id=_upload(sdk, lines),
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"run": "1"},
    )
    assert created.status == "validating"
    assert created.metadata == {"run": "1"}
    batch, seen = _wait(sdk, created.id)
    assert seen[-1] == "completed"
    assert set(seen) <= {"validating", "in_progress", "finalizing", "completed"}
    assert batch.request_counts is not None
    assert (batch.request_counts.total, batch.request_counts.completed) == (2, 2)
    assert batch.error_file_id is None
    assert batch.completed_at is not None
    assert batch.in_progress_at is not None
    assert batch.created_at <= batch.in_progress_at <= batch.completed_at
    assert batch.output_file_id is not None
    output = [json.loads(x) for x in sdk.files.content(batch.output_file_id).text.splitlines()]
    assert [o["custom_id"] for o in output] == ["a", "b"]
    for item in output:
        assert set(item) == {"id", "custom_id", "response", "error"}
        assert item["error"] is None
        assert item["response"]["status_code"] == 200
        assert item["response"]["body"]["object"] == "chat.completion"
    assert [o["response"]["body"]["choices"][0]["message"]["content"] for o in output] == [
        "one",
        "two",
    ]
    # The lines were answered without going through /v1/chat/completions.
    assert emulator.chat_requests == []


def test_an_invalid_file_fails_the_batch_with_line_errors(batch_sdk):
    _, sdk = batch_sdk
    lines: list[Any] = [
        _line("a", "hi"),
        _line("a", "again"),
        _line("t", "hi", temperature=0.6),
        {"custom_id": "x", "method": "GET", "url": "/v1/models", "body": {}},
    ]
    created = sdk.batches.create(
        input_file_id=_upload(sdk, lines),
        endpoint="/v1/chat/completions",
        completion_window="24h",
    )
    batch, _ = _wait(sdk, created.id)
    assert batch.status == "failed"
    assert batch.failed_at is not None
    assert batch.errors is not None
    errors = [(e.line, e.message) for e in batch.errors.data or []]
    assert errors == [
        (2, "custom_id 'a' is duplicated"),
        (3, "body must not set temperature in a batch"),
        (4, "method must be POST and url /v1/chat/completions"),
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"completion_window": "1h"}, "completion_window must be between 12h and 7d"),
        ({"endpoint": "/v1/embeddings"}, "endpoint must be /v1/chat/completions"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "at most 16"),
    ],
)
def test_create_rejects_bad_options(batch_sdk, overrides, message):
    _, sdk = batch_sdk
    kwargs = {
        "input_file_id": _upload(sdk, [_line("a", "hi")]),
        "endpoint": "/v1/chat/completions",
        "completion_window": "24h",
        **overrides,
    }
    with pytest.raises(openai.BadRequestError, match=message):
        sdk.batches.create(**kwargs)


def test_create_needs_a_batch_file(batch_sdk):
    _, sdk = batch_sdk
    file_id = _upload(sdk, [_line("a", "hi")], purpose="file-extract")
    with pytest.raises(openai.BadRequestError, match="not 'batch'"):
        sdk.batches.create(
            input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h"
        )
    with pytest.raises(openai.NotFoundError):
        sdk.batches.create(
            input_file_id="file_missing", endpoint="/v1/chat/completions", completion_window="24h"
        )


def test_cancel_moves_through_cancelling_and_a_final_batch_cannot_be_cancelled(batch_sdk):
    emulator, sdk = batch_sdk
    emulator.config.batch_request_seconds = 1e9  # never gets past the first line by itself
    created = sdk.batches.create(
        input_file_id=_upload(sdk, [_line("a", "hi"), _line("b", "hi")]),
        endpoint="/v1/chat/completions",
        completion_window="24h",
    )
    assert sdk.batches.cancel(created.id).status == "cancelling"
    batch, _ = _wait(sdk, created.id)
    assert batch.status == "cancelled"
    assert batch.cancelled_at is not None
    with pytest.raises(openai.BadRequestError, match="cannot be cancelled"):
        sdk.batches.cancel(created.id)


def test_list_is_newest_first_with_has_more(batch_sdk):
    _, sdk = batch_sdk
    file_id = _upload(sdk, [_line("a", "hi")])
    ids = [
        sdk.batches.create(
            input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="7d"
        ).id
        for _ in range(3)
    ]
    page = sdk.batches.list(limit=2)
    assert [b.id for b in page.data] == ids[::-1][:2]
    assert page.has_more is True
    # The SDK's own iterator follows after= until has_more is false.
    assert [b.id for b in sdk.batches.list(limit=2)] == ids[::-1]
