"""Shared connection pools, the direct request path and error translation.

Each pool is one ``httpx2`` client (the openai SDK's default client, with its limits and redirect
handling) shared by an openai SDK client and kimi-core's direct path. The SDK provides the auth and
default headers and sends multipart uploads; JSON requests are built and sent directly, bodies are
parsed by kimi-core, and kimi-core owns the only retry layer (the SDK's ``max_retries`` is 0).
Clients with the same base URL, key and transport settings share one pool (sync), or one per event
loop (async). An event loop's pools are closed while the loop shuts down and forgotten with it, so
``asyncio.run(...)`` once per job leaves no loop or socket behind.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import threading
import weakref
from collections.abc import AsyncGenerator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from kimi_core.errors import (
    APIConnectionError,
    APITimeoutError,
    KimiError,
    RedirectError,
    ResponseTooLargeError,
    error_from_body,
    request_id_of,
)

if TYPE_CHECKING:
    import asyncio

    import httpx2

__all__ = [
    "CN_BASE_URL",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "Pool",
    "PoolKey",
    "acheck_response",
    "aread_capped",
    "check_response",
    "encode_json",
    "read_capped",
    "resolve_credentials",
    "set_timeout",
    "shared_async_pool",
    "shared_sync_pool",
    "translate_error",
]

DEFAULT_BASE_URL = "https://api.moonshot.ai/v1"
CN_BASE_URL = "https://api.moonshot.cn/v1"
_REGIONS = {"global": DEFAULT_BASE_URL, "cn": CN_BASE_URL}
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
"""Bytes a non-streamed response body may take. The largest legitimate ones (a 98k-token answer, a
file's extracted text) are a few MiB; 64 MiB leaves ten times that and still bounds a server that
never stops sending."""
_KEY_VARS = ("MOONSHOT_API_KEY", "KIMI_API_KEY")
_URL_VARS = ("MOONSHOT_BASE_URL", "KIMI_BASE_URL")


def resolve_credentials(
    api_key: str | None, base_url: str | None, region: str | None
) -> tuple[str, str]:
    """Find the key and base URL: arguments, then ``MOONSHOT_*``, then ``KIMI_*`` variables.

    ``OPENAI_*`` variables are never read.

    Raises:
        ValueError: No key was found, or the region is unknown, or region and base_url conflict.
    """
    key = api_key or next((os.environ[v] for v in _KEY_VARS if os.environ.get(v)), None)
    if not key:
        raise ValueError(
            "no Kimi API key: pass api_key=... or set MOONSHOT_API_KEY (or KIMI_API_KEY). Keys "
            "from platform.kimi.ai work with the global endpoint, keys from platform.kimi.com "
            "with region='cn'."
        )
    if region is not None:
        if region not in _REGIONS:
            raise ValueError(f"region must be 'global' or 'cn', got {region!r}.")
        if base_url is not None:
            raise ValueError("pass either region or base_url, not both.")
        return key, _REGIONS[region]
    url = base_url or next((os.environ[v] for v in _URL_VARS if os.environ.get(v)), None)
    return key, (url or DEFAULT_BASE_URL).rstrip("/")


class PoolKey(NamedTuple):
    """What makes two clients share a pool. The key is kept only as a digest."""

    base_url: str
    key_digest: str
    timeout: float
    headers: tuple[tuple[str, str], ...]

    @classmethod
    def make(
        cls, base_url: str, api_key: str, timeout: float, headers: Mapping[str, str] | None
    ) -> PoolKey:
        """Build a key; the API key is hashed so it never sits in a dict key in clear."""
        import hashlib

        digest = hashlib.sha256(api_key.encode()).hexdigest()
        return cls(base_url, digest, float(timeout), tuple(sorted((headers or {}).items())))


_lock = threading.Lock()
_sync_pools: dict[PoolKey, Pool] = {}


class _LoopPools:
    """The pools of one event loop, and the async generator that closes them with the loop."""

    __slots__ = ("closer", "pools")

    def __init__(self) -> None:
        self.pools: dict[PoolKey, Pool] = {}
        self.closer: AsyncGenerator[None, None] | None = None


# Pool connections reference their loop, so an entry keeps its key alive: entries are removed when
# the loop shuts down (see _close_with_loop) or, for a loop closed without shutting down, by the
# next pool lookup. Either way the loop and its sockets are then only garbage the collector frees.
_async_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopPools] = (
    weakref.WeakKeyDictionary()
)


def _forget_openai_environment(client: Any, headers: Mapping[str, str] | None) -> None:
    # The SDK reads OPENAI_ORG_ID / OPENAI_PROJECT_ID / OPENAI_ADMIN_KEY / OPENAI_CUSTOM_HEADERS at
    # construction; a Kimi client must not send any of them to Moonshot.
    client.organization = None
    client.project = None
    client.admin_api_key = None
    client.webhook_secret = None
    client._custom_headers = dict(headers or {})
    client._ambient_authorizations = frozenset()


class Pool:
    """One connection pool: the openai SDK client and kimi-core's direct request path over it.

    Both send through the same ``httpx2`` client. Chat, token-estimate and other JSON calls take the
    direct path: a request built from headers and URLs prepared once per pool, with the JSON body
    encoded once, which skips the SDK's per-call option processing (about a third of a short call's
    CPU). Multipart uploads and callers of :attr:`sdk` go through the SDK.

    Attributes:
        sdk: The openai SDK client (``max_retries=0``), sharing this pool's connections.
        http: The ``httpx2`` client both paths send through.
    """

    __slots__ = ("__weakref__", "_extensions", "_headers", "_urls", "http", "sdk")

    def __init__(self, sdk: Any, http: Any, timeout: float) -> None:
        import openai

        self.sdk = sdk
        self.http = http
        headers = {**sdk.default_headers, **sdk.auth_headers}
        self._headers: dict[str, str] = {
            k: v for k, v in headers.items() if not isinstance(v, openai.Omit)
        }
        self._urls: dict[str, httpx2.URL] = {}
        self._extensions = {"timeout": _timeout(timeout).as_dict()}

    def __repr__(self) -> str:
        return f"Pool(base_url={str(self.sdk.base_url)!r})"

    def build(self, method: str, path: str, body: Mapping[str, Any] | None) -> httpx2.Request:
        """The HTTP request for ``method path`` with a JSON body.

        Raises:
            ValueError: The body holds a value JSON cannot represent (NaN, an object).
        """
        import httpx2

        url = self._urls.get(path)
        if url is None:
            base = self.sdk.base_url
            url = self._urls[path] = base.copy_with(
                raw_path=base.raw_path + path.lstrip("/").encode()
            )
        content = None if body is None else encode_json(body)
        return httpx2.Request(
            method, url, headers=self._headers, content=content, extensions=self._extensions
        )


def encode_json(body: Mapping[str, Any]) -> bytes:
    """The UTF-8 JSON of a request body.

    Raises:
        ValueError: A value has no JSON form (NaN or infinity, a set, an arbitrary object).
    """
    try:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(
            f"the request body cannot be sent as JSON ({exc}); pass plain str/int/float/bool/None, "
            "list and dict values (finite numbers only, nested a few hundred levels at most)"
        ) from exc


def set_timeout(request: httpx2.Request, seconds: float | None) -> httpx2.Request:
    """``request`` with its timeouts lowered to ``seconds`` (None: unchanged)."""
    if seconds is not None:
        request.extensions = {**request.extensions, "timeout": _timeout(seconds).as_dict()}
    return request


def _timeout(timeout: float) -> httpx2.Timeout:
    import httpx2

    return httpx2.Timeout(timeout, connect=min(timeout, 10.0))


def check_response(
    response: httpx2.Response, model: str | None, limit: int = DEFAULT_MAX_RESPONSE_BYTES
) -> httpx2.Response:
    """Return a successful response; raise the typed error of a failed one (body read and closed).

    Raises:
        KimiError: The status' typed error, from the body Kimi sent.
        ResponseTooLargeError: The error body is larger than ``limit`` bytes.
    """
    if response.status_code < 400:
        return response
    read_capped(response, limit)
    raise _status_error(response, model)


async def acheck_response(
    response: httpx2.Response, model: str | None, limit: int = DEFAULT_MAX_RESPONSE_BYTES
) -> httpx2.Response:
    """Async :func:`check_response`."""
    if response.status_code < 400:
        return response
    await aread_capped(response, limit)
    raise _status_error(response, model)


def read_capped(response: httpx2.Response, limit: int) -> httpx2.Response:
    """Read a streamed response's body, at most ``limit`` bytes (decoded), and close it.

    Raises:
        ResponseTooLargeError: ``Content-Length`` or the bytes received exceed ``limit``.
    """
    try:
        _check_length(response, limit)
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise _too_large(response, limit)
            chunks.append(chunk)
    finally:
        response.close()
    # What Response.read() itself stores: .content and .json() then work as usual.
    response._content = b"".join(chunks)
    return response


async def aread_capped(response: httpx2.Response, limit: int) -> httpx2.Response:
    """Async :func:`read_capped`."""
    try:
        _check_length(response, limit)
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise _too_large(response, limit)
            chunks.append(chunk)
    finally:
        await response.aclose()
    response._content = b"".join(chunks)
    return response


def _check_length(response: httpx2.Response, limit: int) -> None:
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise _too_large(response, limit)


def _too_large(response: httpx2.Response, limit: int) -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"the response body exceeded {limit} bytes and was not read further. Raise "
        "KimiClient(max_response_bytes=...) if the server really sends bodies this large.",
        status=response.status_code,
        request_id=request_id_of(response.headers),
    )


def shown_url(url: httpx2.URL) -> str:
    """A URL for a message: no user info, and the query (signatures, tokens) left out."""
    query = "?…" if url.query else ""
    return f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}{url.path}{query}"


def _refuse_cross_origin(response: httpx2.Response) -> None:
    """Stop a redirect to another origin before the client builds (let alone sends) it."""
    if not response.has_redirect_location:
        return
    source = response.request.url
    try:
        target = source.join(response.headers["location"])
    except Exception:  # an unparsable Location goes nowhere either
        target = None
    if target is not None and target.origin == source.origin:
        return  # same scheme, host and port: the keys and headers stay where they were sent
    shown = shown_url(target) if target is not None else "an unparsable location"
    raise RedirectError(
        f"the API at {shown_url(source.copy_with(path='/', query=None))} answered "
        f"{response.status_code} with a redirect to another origin, {shown}; it was not followed "
        "so that the request and its headers stay with the configured base_url. Set base_url to "
        "the final address.",
        status=response.status_code,
        request_id=request_id_of(response.headers),
    )


async def _arefuse_cross_origin(response: httpx2.Response) -> None:
    _refuse_cross_origin(response)


def _status_error(response: httpx2.Response, model: str | None) -> KimiError:
    try:
        body: object = response.json()
    except ValueError:
        body = response.text
    return error_from_body(response.status_code, body, headers=response.headers, model=model)


@functools.cache
def _http_classes() -> tuple[type[Any], type[Any]]:
    """The openai SDK's default httpx clients, closed when collected (as the SDK's own are).

    Defined on first use so that ``import kimi_core`` does not import openai.
    """
    import asyncio

    import openai

    class HttpClient(openai.DefaultHttpxClient):
        def __del__(self) -> None:
            if not self.is_closed:
                with contextlib.suppress(Exception):
                    self.close()

    class AsyncHttpClient(openai.DefaultAsyncHttpxClient):
        loop: weakref.ref[asyncio.AbstractEventLoop] | None = None

        def __del__(self) -> None:
            if not self.is_closed:
                # Best effort, and only in the loop that owns the connections: another loop must
                # never touch them (a dead loop's sockets are closed by their own finalizers).
                with contextlib.suppress(Exception):
                    loop = asyncio.get_running_loop()
                    if self.loop is not None and self.loop() is loop:
                        loop.create_task(self.aclose())  # noqa: RUF006 - the loop keeps it

    return HttpClient, AsyncHttpClient


def _sdk_options(
    api_key: str, base_url: str, timeout: float, headers: Mapping[str, str] | None
) -> dict[str, Any]:
    return {
        "api_key": api_key,
        "base_url": base_url,
        "timeout": _timeout(timeout),
        "max_retries": 0,  # kimi-core's retry layer is the only one
        "default_headers": dict(headers or {}),
    }


def shared_sync_pool(
    api_key: str, base_url: str, timeout: float, headers: Mapping[str, str] | None
) -> Pool:
    """The process-wide sync pool for these settings (created on first use)."""
    key = PoolKey.make(base_url, api_key, timeout, headers)
    with _lock:
        pool = _sync_pools.get(key)
        if pool is None:
            import openai

            http = _http_classes()[0](
                timeout=_timeout(timeout), event_hooks={"response": [_refuse_cross_origin]}
            )
            sdk = openai.OpenAI(
                **_sdk_options(api_key, base_url, timeout, headers), http_client=http
            )
            _forget_openai_environment(sdk, headers)
            pool = _sync_pools[key] = Pool(sdk, http, timeout)
        return pool


def shared_async_pool(
    api_key: str, base_url: str, timeout: float, headers: Mapping[str, str] | None
) -> Pool:
    """The async pool for these settings in the running event loop.

    Async connections belong to one event loop, so pools are shared per loop.
    """
    import asyncio

    loop = asyncio.get_running_loop()
    key = PoolKey.make(base_url, api_key, timeout, headers)
    with _lock:
        for other in [other for other in _async_pools if other.is_closed()]:
            del _async_pools[other]
        entry = _async_pools.get(loop)
        if entry is None:
            entry = _async_pools[loop] = _LoopPools()
            entry.closer = _close_with_loop(entry)
        pool = entry.pools.get(key)
        if pool is None:
            import openai

            http = _http_classes()[1](
                timeout=_timeout(timeout), event_hooks={"response": [_arefuse_cross_origin]}
            )
            http.loop = weakref.ref(loop)
            sdk = openai.AsyncOpenAI(
                **_sdk_options(api_key, base_url, timeout, headers), http_client=http
            )
            _forget_openai_environment(sdk, headers)
            pool = entry.pools[key] = Pool(sdk, http, timeout)
        return pool


def _close_with_loop(entry: _LoopPools) -> AsyncGenerator[None, None]:
    """Start an async generator that closes ``entry``'s pools when the running loop shuts down.

    A running loop tracks every started async generator and closes the unfinished ones in
    ``shutdown_asyncgens()``, which ``asyncio.run``, ``asyncio.Runner`` (pytest-asyncio,
    ``IsolatedAsyncioTestCase``) and ``uvloop.run`` await before closing the loop: the one shutdown
    hook asyncio offers. The generator is started here synchronously (it awaits nothing before its
    ``yield``) so that the loop registers it.
    """

    async def closer() -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            with _lock:
                for loop, found in list(_async_pools.items()):
                    if found is entry:
                        del _async_pools[loop]
            pools, entry.pools = list(entry.pools.values()), {}
            for pool in pools:
                with contextlib.suppress(Exception):
                    await pool.http.aclose()

    gen = closer()
    with contextlib.suppress(StopIteration):
        gen.asend(None).send(None)
    return gen


def translate_error(exc: Exception, *, model: str | None = None) -> KimiError:
    """Turn an openai SDK (or httpx) exception into the matching typed :class:`KimiError`."""
    import httpx2
    import openai

    if isinstance(exc, KimiError):
        return exc
    if isinstance(exc.__cause__, KimiError):  # the SDK wraps what a response hook raised
        return exc.__cause__
    if isinstance(exc, openai.APIStatusError):
        return _status_error(exc.response, model)
    if isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException):
        return APITimeoutError(f"the request timed out ({type(exc).__name__})")
    cause = exc.__cause__ or exc
    if isinstance(exc, openai.APIConnectionError | httpx2.TransportError):
        return APIConnectionError(f"connection failed: {type(cause).__name__}: {cause}")
    return KimiError(f"{type(exc).__name__}: {exc}")
