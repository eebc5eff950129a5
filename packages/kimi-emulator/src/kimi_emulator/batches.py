"""``/v1/batches``: create, get, list, cancel, and the runner that works through a batch.

A batch moves validating -> in_progress -> finalizing -> completed; an invalid input file makes it
``failed``; the end of its completion window makes it ``expired`` (answers so far are kept, the
rest are ``batch_expired`` lines in the error file); a cancel makes it ``cancelling`` then
``cancelled`` (likewise, ``batch_cancelled``). Each line gets exactly the answer the same request
gets online (:func:`kimi_emulator.answer.answer`); a line the service would reject goes to the
error file with its status and error body, and the batch goes on. Durations run on
``EmulatorConfig.batch_time_scale``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from typing import Any

from aiohttp import web

from kimi_emulator.answer import answer
from kimi_emulator.batch_store import BATCH_MODELS, MAX_METADATA_PAIRS, BatchRecord, window_seconds
from kimi_emulator.completion import dumps, to_json
from kimi_emulator.errors import ApiError
from kimi_emulator.state import EmulatorState
from kimi_emulator.validate import message_text

__all__ = ["add_batch_routes"]

_ENDPOINT = "/v1/chat/completions"
_SAMPLING = ("temperature", "top_p", "n", "presence_penalty", "frequency_penalty")
_YIELD_EVERY = 64
_TASKS_KEY: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("kimi_emulator_batch_tasks")
_STATE_KEY = web.AppKey("kimi_emulator_batch_state", EmulatorState)


def _state(request: web.Request) -> EmulatorState:
    return request.app[_STATE_KEY]


def _json(body: Any) -> web.Response:
    return web.Response(body=dumps(body), content_type="application/json")


def _metadata(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ApiError.invalid("Invalid request: metadata must map strings to strings")
    if len(value) > MAX_METADATA_PAIRS:
        raise ApiError.invalid(
            f"Invalid request: metadata can have at most {MAX_METADATA_PAIRS} key-value pairs"
        )
    return value


async def create_batch(request: web.Request) -> web.StreamResponse:
    """``POST /v1/batches``."""
    state = _state(request)
    try:
        body = json.loads(await request.read())
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ApiError.invalid("Invalid request: the body must be a JSON object")
    file_id = body.get("input_file_id")
    if not isinstance(file_id, str) or not file_id:
        raise ApiError.invalid("Invalid request: input_file_id is required")
    if body.get("endpoint") != _ENDPOINT:
        raise ApiError.invalid(f"Invalid request: endpoint must be {_ENDPOINT}")
    window = body.get("completion_window")
    window_seconds(window)
    assert isinstance(window, str)  # window_seconds accepts nothing else
    metadata = _metadata(body.get("metadata"))
    record_file = state.files.get(file_id)
    if record_file.purpose != "batch":
        raise ApiError.invalid(
            f"Invalid request: file {file_id} has purpose {record_file.purpose!r}, not 'batch'"
        )
    record = state.batches.add(
        file_id,
        window,
        metadata,
        int(state.config.now().timestamp()),
        state.config.batch_time_scale,
    )
    task = asyncio.get_running_loop().create_task(_run(state, record))
    tasks = request.app[_TASKS_KEY]
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return _json(record.to_wire())


async def get_batch(request: web.Request) -> web.StreamResponse:
    """``GET /v1/batches/{id}``."""
    return _json(_state(request).batches.get(request.match_info["batch_id"]).to_wire())


async def list_batches(request: web.Request) -> web.StreamResponse:
    """``GET /v1/batches?after=&limit=``."""
    query = request.query
    return _json(_state(request).batches.listing(query.get("after"), query.get("limit")))


async def cancel_batch(request: web.Request) -> web.StreamResponse:
    """``POST /v1/batches/{id}/cancel``."""
    record = _state(request).batches.get(request.match_info["batch_id"])
    if record.status not in ("validating", "in_progress", "finalizing", "cancelling"):
        raise ApiError.invalid(
            f"Invalid request: batch {record.id} is {record.status} and cannot be cancelled"
        )
    if record.status != "cancelling":
        record.cancel_requested = True
        record.move("cancelling")
    return _json(record.to_wire())


def _line_error(line: int, message: str, code: str = "invalid_request") -> dict[str, Any]:
    return {"code": code, "message": message, "param": None, "line": line}


def _parse_input(data: bytes) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The input lines, and the validation errors that fail the whole batch."""
    lines: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    models: set[str] = set()
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except ValueError:
            errors.append(_line_error(number, "line is not valid JSON"))
            continue
        problem = _line_problem(item, seen)
        if problem:
            errors.append(_line_error(number, problem))
            continue
        models.add(item["body"]["model"])
        lines.append(item)
    if not lines and not errors:
        errors.append(_line_error(0, "the input file has no requests"))
    if len(models) > 1:
        errors.append(
            _line_error(0, f"a batch file must use one model, found {', '.join(sorted(models))}")
        )
    unsupported = sorted(models - BATCH_MODELS)
    if unsupported:
        errors.append(
            _line_error(
                0, f"model {unsupported[0]} is not supported by the Batch API", "invalid_model"
            )
        )
    return lines, errors


def _line_problem(item: Any, seen: set[str]) -> str | None:
    if not isinstance(item, dict):
        return "line is not a JSON object"
    custom_id = item.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        return "custom_id is required"
    if custom_id in seen:
        return f"custom_id {custom_id!r} is duplicated"
    seen.add(custom_id)
    if item.get("method") != "POST" or item.get("url") != _ENDPOINT:
        return f"method must be POST and url {_ENDPOINT}"
    body = item.get("body")
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return "body must be an object with a model"
    sampling = [name for name in _SAMPLING if name in body]
    if sampling:
        return f"body must not set {', '.join(sampling)} in a batch"
    if body.get("stream"):
        return "body must not set stream in a batch"
    return None


def _result_line(custom_id: str, status: int, body: Any) -> bytes:
    line = {
        "id": f"batch_req_{secrets.token_hex(12)}",
        "custom_id": custom_id,
        "response": {"status_code": status, "request_id": secrets.token_hex(16), "body": body},
        "error": None,
    }
    return dumps(line) + b"\n"


def _unrun_line(custom_id: str, code: str, message: str) -> bytes:
    line = {
        "id": f"batch_req_{secrets.token_hex(12)}",
        "custom_id": custom_id,
        "response": None,
        "error": {"code": code, "message": message},
    }
    return dumps(line) + b"\n"


class _Pace:
    """Advance a batch's emulated clock and keep real time ``1/scale`` behind it."""

    def __init__(self, record: BatchRecord) -> None:
        self.record = record
        self.origin = time.monotonic() - record.elapsed / record.scale
        self.steps = 0

    async def advance(self, seconds: float) -> None:
        """Let ``seconds`` of emulated time pass (sleeping while ahead of real time)."""
        record = self.record
        record.elapsed = min(record.elapsed + seconds, float(record.window))
        self.steps += 1
        due = self.origin + record.elapsed / record.scale
        if due <= time.monotonic():
            if self.steps % _YIELD_EVERY == 0:
                await asyncio.sleep(0)  # let polls and other requests in
            return
        # In short sleeps, so that a cancel or a reset is seen promptly.
        while not (record.discarded or record.cancel_requested):
            left = due - time.monotonic()
            if left <= 0:
                return
            await asyncio.sleep(min(left, 0.05))

    async def stage(self, seconds: float) -> None:
        """An emulated stage; it ends early at the end of the window."""
        if not self.stopped():
            await self.advance(seconds)

    def stopped(self) -> bool:
        """Cancelled, discarded or out of time."""
        record = self.record
        return record.discarded or record.cancel_requested or record.past_window()


def _answer_line(state: EmulatorState, item: dict[str, Any]) -> tuple[bool, bytes]:
    body = item["body"]
    messages = body.get("messages")
    last = messages[-1] if isinstance(messages, list) and messages else None
    text = message_text(last.get("content")) if isinstance(last, dict) else ""
    try:
        _, completion = answer(state, {**body, "stream": False}, text)
    except ApiError as error:
        return False, _result_line(item["custom_id"], error.status, error.body())
    return True, _result_line(item["custom_id"], 200, to_json(completion))


def _discarded(record: BatchRecord) -> bool:
    # A call, not an attribute test: a reset from another thread can set it during any await.
    return record.discarded


async def _run(state: EmulatorState, record: BatchRecord) -> None:
    config = state.config
    pace = _Pace(record)
    await pace.stage(config.batch_stage_seconds)
    if _discarded(record):
        return
    if pace.stopped():
        _finish(state, record, [], [], [])
        return
    lines, errors = _parse_input(state.files.get(record.input_file_id).data)
    if errors:
        record.errors = errors
        record.move("failed")
        return
    record.total = len(lines)
    record.move("in_progress")
    output: list[bytes] = []
    failures: list[bytes] = []
    done = 0
    for item in lines:
        if pace.stopped():
            break
        ok, line = _answer_line(state, item)
        (output if ok else failures).append(line)
        record.completed += ok
        record.failed += not ok
        done += 1
        await pace.advance(config.batch_request_seconds)
    if _discarded(record):
        return
    if not pace.stopped():
        record.move("finalizing")
        await pace.stage(config.batch_stage_seconds)
        if _discarded(record):
            return
    _finish(state, record, output, failures, lines[done:])


def _finish(
    state: EmulatorState,
    record: BatchRecord,
    output: list[bytes],
    failures: list[bytes],
    unrun: list[dict[str, Any]],
) -> None:
    if record.cancel_requested:
        final, code, why = "cancelled", "batch_cancelled", "the batch was cancelled"
    elif record.past_window():
        final, code = "expired", "batch_expired"
        why = "This request could not be executed before the completion window expired."
    else:
        final, code, why = "completed", "", ""
    failures = failures + [_unrun_line(item["custom_id"], code, why) for item in unrun]
    record.failed += len(unrun)
    now = record.now()
    if output:
        name = f"{record.id}_output.jsonl"
        record.output_file_id = state.files.add_result(
            name, "batch_output", b"".join(output), now
        ).id
    if failures:
        name = f"{record.id}_error.jsonl"
        record.error_file_id = state.files.add_result(
            name, "batch_output", b"".join(failures), now
        ).id
    record.move(final)


async def _stop_runners(app: web.Application) -> None:
    running: set[asyncio.Task[None]] = app[_TASKS_KEY]
    tasks = list(running)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def add_batch_routes(app: web.Application, state: EmulatorState) -> None:
    """Serve ``/v1/batches`` from ``state`` on ``app``."""
    app[_STATE_KEY] = state
    tasks: set[asyncio.Task[None]] = set()
    app[_TASKS_KEY] = tasks
    app.on_cleanup.append(_stop_runners)
    app.router.add_post("/v1/batches", create_batch)
    app.router.add_get("/v1/batches", list_batches)
    app.router.add_get("/v1/batches/{batch_id}", get_batch)
    app.router.add_post("/v1/batches/{batch_id}/cancel", cancel_batch)
