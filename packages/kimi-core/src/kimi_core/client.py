"""``KimiClient``: send chat requests (sync, async, streaming) and call the utility endpoints."""

from __future__ import annotations

import contextlib
import json
import time
import warnings
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from kimi_core.attempts import Attempts, aretry, deadline_error, retry
from kimi_core.chat_stream import AsyncChatStream, ChatStream, StreamRound, aread_round, read_round
from kimi_core.endpoint_wire import check_answer
from kimi_core.endpoints import EndpointProfile, resolve_endpoint
from kimi_core.errors import KimiError, MalformedResponseError, request_id_of
from kimi_core.media import (
    ainline_remote_media,
    check_inline_total,
    inline_remote_media,
    large_inline_media,
)
from kimi_core.request import ChatRequest
from kimi_core.response import ChatResult, parse_completion
from kimi_core.retry import RetryPolicy
from kimi_core.sse import DEFAULT_MAX_LINE
from kimi_core.stream import StreamDelta
from kimi_core.tokens import ESTIMATE_PATH, estimate_body, total_tokens
from kimi_core.transport import (
    DEFAULT_MAX_RESPONSE_BYTES,
    Pool,
    PoolKey,
    acheck_response,
    aread_capped,
    check_response,
    read_capped,
    resolve_credentials,
    set_timeout,
    shared_async_pool,
    shared_sync_pool,
    translate_error,
)
from kimi_core.web_search import WebSearchLoop

if TYPE_CHECKING:
    import asyncio

    import httpx2
    import openai

    from kimi_core.batch import AsyncBatches, Batches
    from kimi_core.files import AsyncFiles, Files
    from kimi_core.formulas import AsyncFormulas, Formulas

__all__ = ["DEFAULT_TIMEOUT", "KimiClient"]

DEFAULT_TIMEOUT = 600.0
"""Seconds per request (thinking answers can take minutes; Moonshot's gateway gives up at ~900s)."""

_CHAT = "/chat/completions"
# The SDK encodes the body as multipart (boundary included) when the content type says so.
_MULTIPART: Any = {"headers": {"Content-Type": "multipart/form-data"}}


def _chat_body(request: ChatRequest, stream: bool) -> dict[str, Any]:
    body = request.body
    if stream == bool(body.get("stream")):
        return body
    body = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
    if stream:
        body["stream"] = True
        if request.settings.stream_usage:
            body["stream_options"] = {"include_usage": True}
    return body


class _CachedPool(NamedTuple):
    """The pool a client uses, and the settings (and event loop) it was chosen for.

    Held weakly: kimi-core's registry owns pools, and drops an event loop's pools with the loop.
    """

    pool: Callable[[], Pool | None]
    base_url: str
    timeout: float
    headers: dict[str, str]
    loop: Callable[[], asyncio.AbstractEventLoop | None] = lambda: None


class _Secret:
    """Holds the API key so that repr, vars() and tracebacks show a mask instead."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "'**********'"

    def __reduce__(self) -> Any:
        raise TypeError(
            "a Kimi API key is not serialized; pass it again when rebuilding the client"
        )


class KimiClient:
    """A Kimi API client. Cheap to create: instances with equal settings share one pool.

    Args:
        api_key: The key; default ``MOONSHOT_API_KEY``, then ``KIMI_API_KEY`` (never ``OPENAI_*``).
        base_url: Default ``MOONSHOT_BASE_URL``, then ``KIMI_BASE_URL``, then
            ``https://api.moonshot.ai/v1``.
        region: ``"global"`` or ``"cn"`` (``https://api.moonshot.cn/v1``) instead of ``base_url``.
        timeout: Seconds allowed per request, and between two stream chunks (connect is capped at
            10s); None means :data:`DEFAULT_TIMEOUT`. Each retry gets its own timeout.
        max_retries: Retries of retryable failures (429 overloaded/rate limit, 5xx, connection,
            timeout), with exponential backoff and jitter, honouring ``Retry-After``. Quota
            exhaustion and streams that already delivered chunks are never retried.
        default_headers: Extra headers on every request.
        retry_policy: Full control of backoff (overrides ``max_retries``).
        deadline: Seconds one whole call may take (every attempt, retry wait, ``$web_search``
            round and the reading of a stream), ending in :class:`DeadlineExceededError`. None
            (the default) sets no bound, so long thinking streams are never cut.
        max_response_bytes: Cap on a non-streamed response body (64 MiB); beyond it the call
            ends in :class:`ResponseTooLargeError`.
        max_sse_line_bytes: Cap on one server-sent-events line of a stream (16 MiB).
        endpoint: The server kind: ``"moonshot"``, ``"vllm"``, ``"sglang"`` or
            ``"openai-compatible"`` (see :mod:`kimi_core.endpoints`). None detects Moonshot's own
            hosts and otherwise assumes the platform, with an ``EndpointAssumedWarning``.

    Raises:
        ValueError: No API key could be found, or the endpoint is unknown.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        region: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        default_headers: Mapping[str, str] | None = None,
        retry_policy: RetryPolicy | None = None,
        deadline: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_sse_line_bytes: int = DEFAULT_MAX_LINE,
        endpoint: str | EndpointProfile | None = None,
    ) -> None:
        key, self.base_url = resolve_credentials(api_key, base_url, region)
        self.endpoint = resolve_endpoint(endpoint, self.base_url)
        self._key = _Secret(key)
        self.timeout = DEFAULT_TIMEOUT if timeout is None else float(timeout)
        if self.timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if deadline is not None and not deadline > 0:
            raise ValueError(
                f"deadline must be a positive number of seconds or None, got {deadline!r}"
            )
        if max_response_bytes < 1 or max_sse_line_bytes < 1:
            raise ValueError("max_response_bytes and max_sse_line_bytes must be positive")
        self.deadline = None if deadline is None else float(deadline)
        self.max_response_bytes = max_response_bytes
        self.max_sse_line_bytes = max_sse_line_bytes
        self.retry_policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self.default_headers = dict(default_headers or {})
        self._sync_pool: _CachedPool | None = None
        self._async_pool: _CachedPool | None = None
        _warn_if_plain_http(self.base_url)

    def __repr__(self) -> str:
        return f"KimiClient(base_url={self.base_url!r}, api_key='**********')"

    @property
    def account(self) -> tuple[str, str]:
        """Whom this client acts for, without its key: ``(base_url, SHA-256 of the key)``.

        What is scoped to one account (an uploaded file id) is cached under this.
        """
        return self.base_url, PoolKey.make(self.base_url, self._key.value, 0, None).key_digest

    # -- transport -------------------------------------------------------------------------

    def _chose(self, cached: _CachedPool) -> bool:
        # The pool was chosen by these public attributes; a caller may have changed them since.
        return (
            cached.base_url == self.base_url
            and cached.timeout == self.timeout
            and cached.headers == self.default_headers
        )

    def _pool(self) -> Pool:
        cached = self._sync_pool
        pool = cached.pool() if cached is not None else None
        if pool is None or cached is None or not self._chose(cached):
            pool = shared_sync_pool(
                self._key.value, self.base_url, self.timeout, self.default_headers
            )
            self._sync_pool = _CachedPool(
                weakref.ref(pool), self.base_url, self.timeout, dict(self.default_headers)
            )
        return pool

    def _apool(self) -> Pool:
        import asyncio

        loop = asyncio.get_running_loop()
        cached = self._async_pool
        pool = cached.pool() if cached is not None else None
        if pool is None or cached is None or cached.loop() is not loop or not self._chose(cached):
            pool = shared_async_pool(
                self._key.value, self.base_url, self.timeout, self.default_headers
            )
            # Weak references only: the pool (and so its loop) lives as long as the loop runs.
            self._async_pool = _CachedPool(
                weakref.ref(pool),
                self.base_url,
                self.timeout,
                dict(self.default_headers),
                weakref.ref(loop),
            )
        return pool

    @property
    def sdk(self) -> openai.OpenAI:
        """The shared sync openai SDK client (``max_retries=0``), on this client's pool."""
        sdk: openai.OpenAI = self._pool().sdk
        return sdk

    @property
    def async_sdk(self) -> openai.AsyncOpenAI:
        """The shared async openai SDK client of the running event loop, on this client's pool."""
        sdk: openai.AsyncOpenAI = self._apool().sdk
        return sdk

    def _until(self) -> float | None:
        """The monotonic time a call starting now must end by (None: no deadline)."""
        return None if self.deadline is None else time.monotonic() + self.deadline

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        files: Any = None,
        stream: bool = False,
        model: str | None = None,
    ) -> httpx2.Response:
        """Send one request with retries and typed errors; returns the raw HTTP response.

        Args:
            method: ``GET``, ``POST`` or ``DELETE``.
            path: Path under the base URL, e.g. ``/models``.
            body: JSON body.
            files: Multipart files (``POST`` only).
            stream: Leave the body unread (caller must close the response).
            model: The model of a chat call, to name a replacement in a 404.

        Raises:
            KimiError: The typed error after retries were exhausted or not allowed.
        """
        return self._request(
            method, path, body=body, files=files, stream=stream, model=model, until=self._until()
        )

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None,
        files: Any,
        stream: bool,
        model: str | None,
        until: float | None,
    ) -> httpx2.Response:
        import httpx2

        pool = self._pool()
        if files:
            sdk = pool.sdk

            def upload(_: float | None) -> httpx2.Response:
                response: httpx2.Response = sdk.post(
                    path, cast_to=httpx2.Response, body=body, files=files, options=_MULTIPART
                )
                return response

            return retry(
                upload, Attempts(self.retry_policy, until), timeout=self.timeout, model=model
            )
        built = pool.build(method, path, body)  # encoded once, outside the retry loop
        limit = self.max_response_bytes

        def send(budget: float | None) -> httpx2.Response:
            response = check_response(
                pool.http.send(set_timeout(built, budget), stream=True), model, limit
            )
            return response if stream else read_capped(response, limit)

        return retry(send, Attempts(self.retry_policy, until), timeout=self.timeout, model=model)

    async def arequest(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        files: Any = None,
        stream: bool = False,
        model: str | None = None,
    ) -> httpx2.Response:
        """Async :meth:`request`."""
        return await self._arequest(
            method, path, body=body, files=files, stream=stream, model=model, until=self._until()
        )

    async def _arequest(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None,
        files: Any,
        stream: bool,
        model: str | None,
        until: float | None,
    ) -> httpx2.Response:
        import httpx2

        pool = self._apool()
        if files:
            sdk = pool.sdk

            async def upload(_: float | None) -> httpx2.Response:
                response: httpx2.Response = await sdk.post(
                    path, cast_to=httpx2.Response, body=body, files=files, options=_MULTIPART
                )
                return response

            uploaded: httpx2.Response = await aretry(
                upload, Attempts(self.retry_policy, until), timeout=self.timeout, model=model
            )
            return uploaded
        built = pool.build(method, path, body)  # encoded once, outside the retry loop
        limit = self.max_response_bytes

        async def send(budget: float | None) -> httpx2.Response:
            sent = await pool.http.send(set_timeout(built, budget), stream=True)
            response = await acheck_response(sent, model, limit)
            return response if stream else await aread_capped(response, limit)

        response: httpx2.Response = await aretry(
            send, Attempts(self.retry_policy, until), timeout=self.timeout, model=model
        )
        return response

    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """:meth:`request` and decode the JSON body."""
        response = self.request(method, path, **kwargs)
        return _json_body(response)

    async def arequest_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Async :meth:`request_json`."""
        response = await self.arequest(method, path, **kwargs)
        return _json_body(response)

    # -- chat ------------------------------------------------------------------------------

    def _prepare_media(self, request: ChatRequest) -> None:
        """Download http(s) media and upload large inline media, as the media policy says."""
        messages, policy = request.body["messages"], request.settings.media
        inline_remote_media(messages, policy)
        if policy.upload_over is not None:
            for ref, kind, data, mime in large_inline_media(messages, policy.upload_over):
                part = self.files.upload_media(data, kind=kind, mime_type=mime)
                ref["url"] = f"ms://{part.file_id}"
        check_inline_total(messages)  # downloads can add up past the cap too
        request.remote_media = False

    async def _aprepare_media(self, request: ChatRequest) -> None:
        """Async :meth:`_prepare_media`."""
        messages, policy = request.body["messages"], request.settings.media
        await ainline_remote_media(messages, policy)
        if policy.upload_over is not None:
            for ref, kind, data, mime in large_inline_media(messages, policy.upload_over):
                part = await self.afiles.upload_media(data, kind=kind, mime_type=mime)
                ref["url"] = f"ms://{part.file_id}"
        check_inline_total(messages)  # downloads can add up past the cap too
        request.remote_media = False

    def _complete_round(self, body: dict[str, Any], model: str, until: float | None) -> ChatResult:
        response = self._request(
            "POST",
            "/chat/completions",
            body=body,
            files=None,
            stream=False,
            model=model,
            until=until,
        )
        return parse_completion(
            _json_body(response), request_id=request_id_of(response.headers), endpoint=self.endpoint
        )

    async def _acomplete_round(
        self, body: dict[str, Any], model: str, until: float | None
    ) -> ChatResult:
        response = await self._arequest(
            "POST",
            "/chat/completions",
            body=body,
            files=None,
            stream=False,
            model=model,
            until=until,
        )
        return parse_completion(
            _json_body(response), request_id=request_id_of(response.headers), endpoint=self.endpoint
        )

    def _check_endpoint(self, request: ChatRequest) -> None:
        if request.endpoint != self.endpoint:
            raise ValueError(
                f"the request was built for endpoint={request.endpoint.id!r} but this client talks "
                f"to endpoint={self.endpoint.id!r}; pass the same endpoint to ChatSettings and "
                "KimiClient."
            )

    def complete(self, request: ChatRequest) -> ChatResult:
        """Send a chat request and return the complete answer.

        Runs the ``$web_search`` loop when the request declares it: builtin calls are echoed and the
        model asked again; each search is in ``result.web_searches`` and usage is summed.

        Raises:
            KimiError: Typed API, transport or protocol errors.
        """
        self._check_endpoint(request)
        until = self._until()
        if request.remote_media:
            self._prepare_media(request)
        loop = WebSearchLoop(request)
        loop.body = _chat_body(request, stream=False)
        model = str(request.body.get("model"))
        while True:
            result = self._complete_round(loop.body, model, until)
            if not loop.advance(result):
                return check_answer(loop.finish(result), self.endpoint)

    async def acomplete(self, request: ChatRequest) -> ChatResult:
        """Async :meth:`complete`."""
        self._check_endpoint(request)
        until = self._until()
        if request.remote_media:
            await self._aprepare_media(request)
        loop = WebSearchLoop(request)
        loop.body = _chat_body(request, stream=False)
        model = str(request.body.get("model"))
        while True:
            result = await self._acomplete_round(loop.body, model, until)
            if not loop.advance(result):
                return check_answer(loop.finish(result), self.endpoint)

    def stream(self, request: ChatRequest, *, coalesce: bool = False) -> ChatStream:
        """Stream a chat request.

        Yields text/reasoning/tool-call deltas as they arrive, a delta with ``event`` for each
        ``$web_search`` the loop echoed, and finally one delta with ``finish_reason``, the summed
        ``usage`` and the complete ``result``.

        Args:
            request: The chat request.
            coalesce: Merge consecutive text (or reasoning) events that arrived in the same network
                read into one delta. Nothing waits for more bytes, so this adds no latency; it
                saves per-delta work for consumers that rebuild state on every delta.

        Raises:
            KimiError: Typed errors; a stream that ends early raises ``IncompleteStreamError``
                (or ``APIConnectionError``) after the chunks already yielded, never retried.
        """
        return ChatStream(self._stream_gen(request, coalesce))

    def astream(self, request: ChatRequest, *, coalesce: bool = False) -> AsyncChatStream:
        """Async :meth:`stream`."""
        return AsyncChatStream(self._astream_gen(request, coalesce))

    def _open_stream(
        self, body: dict[str, Any], model: str, budget: float | None
    ) -> httpx2.Response:
        # One attempt: the stream loop owns retries, so that attempts never multiply.
        pool = self._pool()
        request = set_timeout(pool.build("POST", "/chat/completions", body), budget)
        try:
            sent = pool.http.send(request, stream=True)
            return check_response(sent, model, self.max_response_bytes)
        except Exception as exc:
            raise translate_error(exc, model=model) from exc

    async def _aopen_stream(
        self, body: dict[str, Any], model: str, budget: float | None
    ) -> httpx2.Response:
        import asyncio

        pool = self._apool()
        request = set_timeout(pool.build("POST", "/chat/completions", body), budget)
        try:
            async with asyncio.timeout(budget):
                sent = await pool.http.send(request, stream=True)
            return await acheck_response(sent, model, self.max_response_bytes)
        except TimeoutError as exc:
            raise deadline_error("before the stream started") from exc
        except Exception as exc:
            raise translate_error(exc, model=model) from exc

    def _stream_gen(self, request: ChatRequest, coalesce: bool) -> Iterator[StreamDelta]:
        import httpx2

        self._check_endpoint(request)
        attempts = Attempts(self.retry_policy, self._until())
        if request.remote_media:
            self._prepare_media(request)
        loop = WebSearchLoop(request)
        loop.body = _chat_body(request, stream=True)
        model = str(request.body.get("model"))
        max_line = self.max_sse_line_bytes
        while True:
            round_ = None
            try:
                response = self._open_stream(loop.body, model, attempts.budget(self.timeout))
                round_ = StreamRound(response, self.endpoint)
                try:
                    yield from read_round(response, round_, coalesce, max_line, attempts.until)
                    tail, again = round_.end(loop)
                except httpx2.HTTPError as exc:
                    raise round_.broken(exc) from exc
                finally:
                    response.close()
            except KimiError as error:
                delay = attempts.next_round_delay(error, round_ is not None and round_.yielded > 0)
                if delay is None:
                    raise
                time.sleep(delay)
                continue
            attempts.reset()
            yield from StreamRound.checked(tail, self.endpoint)
            if not again:
                return

    async def _astream_gen(
        self, request: ChatRequest, coalesce: bool
    ) -> AsyncIterator[StreamDelta]:
        import asyncio

        import httpx2

        self._check_endpoint(request)
        attempts = Attempts(self.retry_policy, self._until())
        if request.remote_media:
            await self._aprepare_media(request)
        loop = WebSearchLoop(request)
        loop.body = _chat_body(request, stream=True)
        model = str(request.body.get("model"))
        max_line = self.max_sse_line_bytes
        while True:
            round_ = None
            try:
                budget = attempts.budget(self.timeout)
                response = await self._aopen_stream(loop.body, model, budget)
                round_ = StreamRound(response, self.endpoint)
                reader = aread_round(response, round_, coalesce, max_line, attempts.until)
                try:
                    # aclosing: a consumer that stops early closes the reader with the response.
                    async with contextlib.aclosing(reader) as it:
                        async for delta in it:
                            yield delta
                    tail, again = round_.end(loop)
                except httpx2.HTTPError as exc:
                    raise round_.broken(exc) from exc
                finally:
                    await response.aclose()
            except KimiError as error:
                delay = attempts.next_round_delay(error, round_ is not None and round_.yielded > 0)
                if delay is None:
                    raise
                await asyncio.sleep(delay)
                continue
            attempts.reset()
            for delta in StreamRound.checked(tail, self.endpoint):
                yield delta
            if not again:
                return

    # -- utility endpoints -----------------------------------------------------------------

    def estimate_tokens(self, request: ChatRequest) -> int:
        """Count a request's prompt tokens with ``POST /v1/tokenizers/estimate-token-count``.

        Uses the request's own wire messages, i.e. exactly the chat conversion.

        Raises:
            UnsupportedFeatureError: The endpoint has no token-estimate route.
        """
        self.endpoint.require("token_estimate")
        if request.remote_media:
            self._prepare_media(request)
        return total_tokens(self.request_json("POST", ESTIMATE_PATH, body=estimate_body(request)))

    async def aestimate_tokens(self, request: ChatRequest) -> int:
        """Async :meth:`estimate_tokens`."""
        self.endpoint.require("token_estimate")
        if request.remote_media:
            await self._aprepare_media(request)
        data = await self.arequest_json("POST", ESTIMATE_PATH, body=estimate_body(request))
        return total_tokens(data)

    def list_models(self) -> list[dict[str, Any]]:
        """``GET /v1/models``: the served models with their capability fields."""
        return _model_list(self.request_json("GET", "/models"))

    async def alist_models(self) -> list[dict[str, Any]]:
        """Async :meth:`list_models`."""
        return _model_list(await self.arequest_json("GET", "/models"))

    def balance(self) -> dict[str, Any]:
        """``GET /v1/users/me/balance``: available, voucher and cash balance."""
        return _balance(self.request_json("GET", "/users/me/balance"))

    async def abalance(self) -> dict[str, Any]:
        """Async :meth:`balance`."""
        return _balance(await self.arequest_json("GET", "/users/me/balance"))

    @property
    def files(self) -> Files:
        """The Files API (sync)."""
        from kimi_core.files import Files

        self.endpoint.require("files")
        return Files(self)

    @property
    def afiles(self) -> AsyncFiles:
        """The Files API (async)."""
        from kimi_core.files import AsyncFiles

        self.endpoint.require("files")
        return AsyncFiles(self)

    @property
    def batches(self) -> Batches:
        """The Batch API (sync)."""
        from kimi_core.batch import Batches

        return Batches(self)

    @property
    def abatches(self) -> AsyncBatches:
        """The Batch API (async)."""
        from kimi_core.batch import AsyncBatches

        return AsyncBatches(self)

    @property
    def formulas(self) -> Formulas:
        """Official tools (Formulas), sync."""
        from kimi_core.formulas import Formulas

        self.endpoint.require("formulas")
        return Formulas(self)

    @property
    def aformulas(self) -> AsyncFormulas:
        """Official tools (Formulas), async."""
        from kimi_core.formulas import AsyncFormulas

        self.endpoint.require("formulas")
        return AsyncFormulas(self)


_LOOPBACK = ("localhost", "127.0.0.1", "::1")


def _warn_if_plain_http(base_url: str) -> None:
    parsed = urlsplit(base_url)
    host = parsed.hostname or ""
    if parsed.scheme == "http" and not (host in _LOOPBACK or host.startswith("127.")):
        warnings.warn(
            f"base_url {base_url} uses plain http to a non-loopback host: the API key would "
            "travel unencrypted. Use https.",
            UserWarning,
            stacklevel=3,
        )


def _json_body(response: httpx2.Response) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError) as exc:
        raise MalformedResponseError(
            f"response body is not JSON: {response.content[:200]!r}",
            status=response.status_code,
            request_id=request_id_of(response.headers),
        ) from exc


def _model_list(data: Any) -> list[dict[str, Any]]:
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise MalformedResponseError("model list response has no data list", body=data)
    return [item for item in items if isinstance(item, dict)]


def _balance(data: Any) -> dict[str, Any]:
    inner = data.get("data") if isinstance(data, dict) else None
    if not isinstance(inner, dict):
        raise MalformedResponseError("balance response has no data object", body=data)
    return inner
