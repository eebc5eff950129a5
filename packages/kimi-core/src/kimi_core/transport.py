"""Shared connection pools and error translation on top of the openai SDK's transport.

The SDK provides HTTP, auth headers and status errors; kimi-core parses bodies itself and owns the
only retry layer (the SDK's ``max_retries`` is 0). Clients with the same base URL, key and transport
settings share one SDK client, hence one connection pool (sync), or one per event loop (async).
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from kimi_core.errors import (
    APIConnectionError,
    APITimeoutError,
    KimiError,
    error_from_body,
)

if TYPE_CHECKING:
    import asyncio

    import openai

__all__ = [
    "CN_BASE_URL",
    "DEFAULT_BASE_URL",
    "PoolKey",
    "resolve_credentials",
    "shared_async_sdk",
    "shared_sync_sdk",
    "translate_error",
]

DEFAULT_BASE_URL = "https://api.moonshot.ai/v1"
CN_BASE_URL = "https://api.moonshot.cn/v1"
_REGIONS = {"global": DEFAULT_BASE_URL, "cn": CN_BASE_URL}
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
_sync_pools: dict[PoolKey, openai.OpenAI] = {}
_async_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[PoolKey, Any]] = (
    weakref.WeakKeyDictionary()
)


def _sdk_options(
    api_key: str, base_url: str, timeout: float, headers: Mapping[str, str] | None
) -> dict[str, Any]:
    import openai

    return {
        "api_key": api_key,
        "base_url": base_url,
        "timeout": openai.Timeout(timeout, connect=min(timeout, 10.0)),
        "max_retries": 0,  # kimi-core's retry layer is the only one
        "default_headers": dict(headers or {}),
    }


def _forget_openai_environment(client: Any, headers: Mapping[str, str] | None) -> None:
    # The SDK reads OPENAI_ORG_ID / OPENAI_PROJECT_ID / OPENAI_ADMIN_KEY / OPENAI_CUSTOM_HEADERS at
    # construction; a Kimi client must not send any of them to Moonshot.
    client.organization = None
    client.project = None
    client.admin_api_key = None
    client.webhook_secret = None
    client._custom_headers = dict(headers or {})
    client._ambient_authorizations = frozenset()


def shared_sync_sdk(
    api_key: str, base_url: str, timeout: float, headers: Mapping[str, str] | None
) -> openai.OpenAI:
    """The process-wide sync SDK client for these settings (created on first use)."""
    key = PoolKey.make(base_url, api_key, timeout, headers)
    with _lock:
        client = _sync_pools.get(key)
        if client is None:
            import openai

            client = openai.OpenAI(**_sdk_options(api_key, base_url, timeout, headers))
            _forget_openai_environment(client, headers)
            _sync_pools[key] = client
        return client


def shared_async_sdk(
    api_key: str, base_url: str, timeout: float, headers: Mapping[str, str] | None
) -> openai.AsyncOpenAI:
    """The async SDK client for these settings in the running event loop.

    Async connections belong to one event loop, so pools are shared per loop.
    """
    import asyncio

    loop = asyncio.get_running_loop()
    key = PoolKey.make(base_url, api_key, timeout, headers)
    with _lock:
        pools = _async_pools.setdefault(loop, {})
        client = pools.get(key)
        if client is None:
            import openai

            client = openai.AsyncOpenAI(**_sdk_options(api_key, base_url, timeout, headers))
            _forget_openai_environment(client, headers)
            pools[key] = client
        return client


def translate_error(exc: Exception, *, model: str | None = None) -> KimiError:
    """Turn an openai SDK (or httpx) exception into the matching typed :class:`KimiError`."""
    import httpx2
    import openai

    if isinstance(exc, KimiError):
        return exc
    if isinstance(exc, openai.APIStatusError):
        response = exc.response
        try:
            body: object = response.json()
        except ValueError:
            body = response.text
        return error_from_body(response.status_code, body, headers=response.headers, model=model)
    if isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException):
        return APITimeoutError(f"the request timed out ({type(exc).__name__})")
    cause = exc.__cause__ or exc
    if isinstance(exc, openai.APIConnectionError | httpx2.TransportError):
        return APIConnectionError(f"connection failed: {type(cause).__name__}: {cause}")
    return KimiError(f"{type(exc).__name__}: {exc}")
