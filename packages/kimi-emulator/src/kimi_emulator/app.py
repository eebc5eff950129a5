"""The aiohttp application: routes, auth, request log, fault injection and response writing."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from kimi_emulator.answer import answer
from kimi_emulator.batches import add_batch_routes
from kimi_emulator.completion import Completion, dumps, to_json
from kimi_emulator.dialects import dialect
from kimi_emulator.errors import ApiError, error_body
from kimi_emulator.formulas import run_fiber, tools_of
from kimi_emulator.models import MODELS
from kimi_emulator.script import FAULT_HEADER, Fault, FaultKind
from kimi_emulator.signing import NONCE_HEADER
from kimi_emulator.sse import StreamOptions, frames
from kimi_emulator.state import EmulatorState, RecordedRequest
from kimi_emulator.tokens import count_messages
from kimi_emulator.validate import message_text

__all__ = ["SIZE_HEADER", "STATE_KEY", "build_app"]

SIZE_HEADER = "X-Kimi-Emulator-Size"
STATE_KEY = web.AppKey("kimi_emulator_state", EmulatorState)
_REQUEST_ID_KEY = web.RequestKey("kimi_emulator_request_id", str)
_FAULTS_KEY = web.RequestKey("kimi_emulator_faults", tuple[Fault, ...])
_BATCH_BYTES = 64 * 1024
_GATEWAY_TIMEOUT_HTML = (
    "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
    "<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n"
)
_EVENT_FAULT_ORDER: tuple[FaultKind, ...] = ("disconnect", "stream_error", "malformed_sse")
_PER_EVENT = frozenset({"disconnect", "malformed_sse", "slow_chunks", "stall", "stream_error"})
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _state(request: web.Request) -> EmulatorState:
    return request.app[STATE_KEY]


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=dumps(body), status=status, content_type="application/json", headers=headers
    )


def _redacted(headers: Any) -> dict[str, str]:
    redacted: dict[str, str] = {}
    for key, value in headers.items():
        if key.lower() == "authorization":
            scheme = value.split(" ", 1)[0] if value else ""
            redacted[key] = f"{scheme} [REDACTED]".strip()
        else:
            redacted[key] = value
    return redacted


async def _parse_json(request: web.Request) -> Any:
    if not request.body_exists or not (request.content_type or "").endswith("json"):
        return None
    raw = await request.read()
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # nested past the parser's budget is unparsable too
        return None


@web.middleware
async def _middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """Request id, request log, auth, header faults and the JSON error envelope for every route."""
    state = _state(request)
    request_id = secrets.token_hex(16)
    request[_REQUEST_ID_KEY] = request_id
    try:
        _authenticate(request, state)
    except ApiError as error:
        # Answered from the headers alone: an unauthenticated body is never read, and the
        # connection is closed rather than drained, so junk of any size costs nothing.
        state.record(_recorded(request, None))
        denied = _json(error.body(), error.status, error.headers)
        denied.headers["Msh-Request-Id"] = request_id
        denied.force_close()
        await denied.prepare(request)
        await denied.write_eof()
        request.protocol.force_close()
        return denied
    state.record(_recorded(request, await _parse_json(request)))
    try:
        try:
            faults = Fault.parse_header(request.headers.get(FAULT_HEADER, ""))
        except ValueError as error:  # the test's own mistake: say so in a 400
            raise ApiError.invalid(f"Invalid request: {error}") from error
        request[_FAULTS_KEY] = tuple(faults)
        handled = False
        if request.path != "/v1/chat/completions":
            fault_response, handled = await _apply_faults(request, faults)
            response = fault_response or _aborted()
        if not handled:
            response = await handler(request)
    except ApiError as error:
        response = _json(error.body(), error.status, error.headers)
    except web.HTTPException as error:
        message = "Not found" if error.status == 404 else error.reason
        error_type = "resource_not_found_error" if error.status == 404 else "invalid_request_error"
        response = _json(error_body(message, error_type), error.status)
    if not response.prepared:
        response.headers["Msh-Request-Id"] = request_id
    return response


def _recorded(request: web.Request, body: Any) -> RecordedRequest:
    return RecordedRequest(
        method=request.method,
        path=request.path,
        headers=_redacted(request.headers),
        body=body,
        query=dict(request.query),
    )


def _authenticate(request: web.Request, state: EmulatorState) -> None:
    """401 in both flavours (kimi-api.md 11): no usable header, or a key that is not ours."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(401, "invalid_authentication_error", "Invalid Authentication")
    if not secrets.compare_digest(key.strip().encode(), state.config.api_key.encode()):
        raise ApiError(401, "incorrect_api_key_error", "Incorrect API key provided")


def _fault_response(fault: Fault, request: web.Request) -> web.StreamResponse | None:
    """The response of a fault that replaces the answer (None for reset: the connection is gone)."""
    if fault.kind == "reset":
        transport = request.transport
        if transport is not None:
            transport.abort()
        return None
    if fault.kind == "html":
        return web.Response(
            text=_GATEWAY_TIMEOUT_HTML, status=fault.http_status, content_type="text/html"
        )
    headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
    return _json(
        error_body(fault.message or "", fault.error_type, fault.code), fault.http_status, headers
    )


async def _apply_faults(
    request: web.Request, faults: list[Fault]
) -> tuple[web.StreamResponse | None, bool]:
    """Run delays and answer-replacing faults: (response, handled?)."""
    for fault in faults:
        if fault.kind == "delay_first_byte":
            await asyncio.sleep(fault.seconds)
    for fault in faults:
        if fault.replaces_response:
            return _fault_response(fault, request), True
    return None, False


def _aborted() -> web.StreamResponse:
    # The transport is already closed; aiohttp discards whatever is returned here.
    return web.Response(status=499)


def _size(request: web.Request) -> tuple[int | None, int | None]:
    """``X-Kimi-Emulator-Size: reasoning=N,content=M`` (either part optional)."""
    header = request.headers.get(SIZE_HEADER)
    if not header:
        return None, None
    values: dict[str, int] = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key not in ("reasoning", "content") or not value.strip().isdigit():
            raise ApiError.invalid(
                f"Invalid request: {SIZE_HEADER} must look like 'reasoning=N,content=M', "
                f"got {header!r}"
            )
        values[key] = int(value)
    return values.get("reasoning"), values.get("content")


def _last_text(body: Any) -> str:
    messages = body.get("messages") if isinstance(body, dict) else None
    if isinstance(messages, list) and messages and isinstance(messages[-1], dict):
        return message_text(messages[-1].get("content"))
    return ""


async def chat_completions(request: web.Request) -> web.StreamResponse:
    """``POST /v1/chat/completions``."""
    state = _state(request)
    body = await _parse_json(request)
    if body is None:
        raise ApiError.invalid("Invalid request: the body must be a JSON object")
    size = _size(request)
    header_faults: tuple[Fault, ...] = request[_FAULTS_KEY]
    faults = [*header_faults, *state.faults.draw()]
    scripted_fault = state.take(_last_text(body), faults=True)
    if isinstance(scripted_fault, Fault):
        faults.append(scripted_fault)
    response, handled = await _apply_faults(request, faults)
    if handled:
        return response or _aborted()
    chat, completion = answer(state, body, _last_text(body), size=size)
    signature = state.signer.headers(
        request.headers.getall(NONCE_HEADER, []),
        chat.model,
        int(state.config.now().timestamp() * 1000),
    )
    if chat.stream:
        return await _stream(request, completion, chat.include_usage, faults, signature)
    return await _non_stream(request, completion, faults, signature)


async def _non_stream(
    request: web.Request, completion: Completion, faults: list[Fault], headers: dict[str, str]
) -> web.StreamResponse:
    body = dumps(dialect(_state(request).config.dialect).completion(to_json(completion)))
    if any(f.kind == "disconnect" for f in faults):
        response = web.StreamResponse(headers={"Content-Type": "application/json", **headers})
        response.headers["Msh-Request-Id"] = request[_REQUEST_ID_KEY]
        response.content_length = len(body)
        await response.prepare(request)
        await response.write(body[: len(body) // 2])
        if request.transport is not None:
            request.transport.abort()
        return response
    return web.Response(body=body, content_type="application/json", headers=headers)


async def _stream(
    request: web.Request,
    completion: Completion,
    include_usage: bool,
    faults: list[Fault],
    headers: dict[str, str],
) -> web.StreamResponse:
    config = _state(request).config
    options = StreamOptions(
        include_usage=include_usage,
        null_usage=config.null_usage_on_chunks,
        finish_usage=config.finish_usage,
    )
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "Msh-Request-Id": request[_REQUEST_ID_KEY],
            **headers,
        }
    )
    await response.prepare(request)
    events = dialect(config.dialect).frames(frames(completion, options))
    per_event = {f.kind: f for f in faults if f.kind in _PER_EVENT}
    if not per_event:
        batch: list[bytes] = []
        size = 0
        for frame in events:
            batch.append(frame)
            size += len(frame)
            if size >= _BATCH_BYTES:
                await response.write(b"".join(batch))
                batch, size = [], 0
        await response.write(b"".join(batch))
        await response.write_eof()
        return response
    await _stream_with_faults(request, response, events, per_event)
    return response


async def _stream_with_faults(
    request: web.Request,
    response: web.StreamResponse,
    events: Any,
    faults: dict[FaultKind, Fault],
) -> None:
    slow = faults.get("slow_chunks")
    stall = faults.get("stall")
    for sent, frame in enumerate(events):
        for kind in _EVENT_FAULT_ORDER:
            fault = faults.get(kind)
            if fault is None or sent != fault.after:
                continue
            if kind == "disconnect":
                if request.transport is not None:
                    request.transport.abort()
                return
            if kind == "stream_error":
                error = error_body(fault.message or "", fault.error_type, fault.code)
                await response.write(b"data: " + dumps(error) + b"\n\n")
                await response.write_eof()
                return
            await response.write(b'data: {"id": "chatcmpl-broken", "choices": [\n\n')
        if slow is not None and sent:
            await asyncio.sleep(slow.seconds)
        if stall is not None and sent == stall.after:
            await asyncio.sleep(stall.seconds)
        await response.write(frame)
    await response.write_eof()


async def list_models(request: web.Request) -> web.StreamResponse:
    """``GET /v1/models`` with the capability fields (kimi-api.md 1.3)."""
    now = _state(request).config.now()
    data = [
        {
            "id": spec.id,
            "object": "model",
            "created": spec.created,
            "owned_by": "moonshot",
            "context_length": spec.context_length,
            "supports_image_in": spec.image_in,
            "supports_video_in": spec.video_in,
            "supports_reasoning": spec.supports_reasoning,
        }
        for spec in MODELS.values()
        if spec.available_at(now)
    ]
    return _json({"object": "list", "data": data})


async def upload_file(request: web.Request) -> web.StreamResponse:
    """``POST /v1/files`` (multipart: ``file`` and ``purpose``)."""
    state = _state(request)
    if not (request.content_type or "").startswith("multipart/"):
        raise ApiError.invalid(
            "Invalid request: upload must be multipart/form-data with file and purpose"
        )
    form = await request.post()
    upload = form.get("file")
    purpose = form.get("purpose")
    if not isinstance(upload, web.FileField) or not isinstance(purpose, str):
        raise ApiError.invalid("Invalid request: upload needs a 'file' part and a 'purpose' field")
    record = state.files.add(
        upload.filename or "upload",
        purpose,
        upload.file.read(),
        int(state.config.now().timestamp()),
    )
    return _json(record.to_wire())


async def list_files(request: web.Request) -> web.StreamResponse:
    """``GET /v1/files``."""
    return _json(_state(request).files.listing(request.query.get("after")))


async def get_file(request: web.Request) -> web.StreamResponse:
    """``GET /v1/files/{id}``."""
    return _json(_state(request).files.get(request.match_info["file_id"]).to_wire())


async def delete_file(request: web.Request) -> web.StreamResponse:
    """``DELETE /v1/files/{id}``."""
    return _json(_state(request).files.delete(request.match_info["file_id"]))


async def file_content(request: web.Request) -> web.StreamResponse:
    """``GET /v1/files/{id}/content``: extracted text (JSON) or the raw bytes."""
    record = _state(request).files.get(request.match_info["file_id"])
    if record.purpose == "file-extract":
        return _json(record.extracted())
    return web.Response(body=record.data, content_type="application/octet-stream")


async def estimate_tokens(request: web.Request) -> web.StreamResponse:
    """``POST /v1/tokenizers/estimate-token-count`` (kimi-api.md 10)."""
    state = _state(request)
    body = await _parse_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        raise ApiError.invalid("Invalid request: body needs 'model' and 'messages'")
    model = str(body.get("model", ""))
    if MODELS.get(model) is None or not MODELS[model].available_at(state.config.now()):
        raise ApiError.model_not_found(model)
    return _json({"data": {"total_tokens": count_messages(body["messages"])}})


async def balance(request: web.Request) -> web.StreamResponse:
    """``GET /v1/users/me/balance``."""
    available, voucher, cash = _state(request).config.balance
    data = {"available_balance": available, "voucher_balance": voucher, "cash_balance": cash}
    return _json({"code": 0, "data": data, "scode": "0x0", "status": True})


async def verify_signature(request: web.Request) -> web.StreamResponse:
    """``POST /v1/signatures/verify`` (kimi-api.md 9)."""
    return _json({"valid": _state(request).signer.verify(await _parse_json(request))})


def _formula_uri(request: web.Request) -> str:
    return f"{request.match_info['owner']}/{request.match_info['name']}"


async def formula_tools(request: web.Request) -> web.StreamResponse:
    """``GET /v1/formulas/{uri}/tools``."""
    return _json(tools_of(_formula_uri(request)))


async def formula_fiber(request: web.Request) -> web.StreamResponse:
    """``POST /v1/formulas/{uri}/fibers``."""
    body = await _parse_json(request)
    return _json(run_fiber(_formula_uri(request), body, _state(request).config.now()))


async def _not_found(request: web.Request) -> web.StreamResponse:
    raise ApiError.not_found(f"Not found: {request.method} {request.path}")


def build_app(state: EmulatorState) -> web.Application:
    """The application serving ``state``."""
    app = web.Application(middlewares=[_middleware], client_max_size=110 * 1024 * 1024)
    app[STATE_KEY] = state
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/v1/models", list_models)
    if dialect(state.config.dialect).platform_routes:
        _add_platform_routes(app)
    app.router.add_route("*", "/{tail:.*}", _not_found)
    return app


def _add_platform_routes(app: web.Application) -> None:
    """Routes only the Moonshot platform has (self-hosted servers answer them with 404)."""
    app.router.add_post("/v1/files", upload_file)
    app.router.add_get("/v1/files", list_files)
    app.router.add_get("/v1/files/{file_id}", get_file)
    app.router.add_delete("/v1/files/{file_id}", delete_file)
    app.router.add_get("/v1/files/{file_id}/content", file_content)
    app.router.add_post("/v1/tokenizers/estimate-token-count", estimate_tokens)
    app.router.add_get("/v1/users/me/balance", balance)
    app.router.add_post("/v1/signatures/verify", verify_signature)
    app.router.add_get("/v1/formulas/{owner}/{name}/tools", formula_tools)
    app.router.add_post("/v1/formulas/{owner}/{name}/fibers", formula_fiber)
    add_batch_routes(app, app[STATE_KEY])
