"""One bounded, address-checked GET of a media URL (sync and async).

Each hop (the URL, then every redirect, followed here rather than by the HTTP client) is checked
against the media policy before any connection: scheme, denied and allowed hosts, the policy's
hook, then every address the host resolves to (:mod:`kimi_core.netguard`). The connection goes to
the address that was checked: a network backend that ignores the host name and dials the pinned
IP, while the URL keeps the name, so the ``Host`` header and TLS (SNI and certificate checks) are
those of the name. A second DNS answer (rebinding) is never consulted.

The policy's ``timeout`` is a deadline over the whole fetch, redirects included: every connect,
TLS handshake, read and write waits at most the time left, so a server trickling one byte at a
time is cut off when the deadline passes. Bodies are counted as they arrive (after a
``Content-Length`` check) and refused past the limit. No proxy, ``.netrc`` or decompression is
involved: what is checked is what is fetched.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import functools
import ipaddress
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kimi_core.netguard import (
    IPAddress,
    address_refusal,
    literal_address,
    name_refusal,
    normalize_host,
    parse_host_rules,
    system_resolver,
)
from kimi_core.urls import redact_url

if TYPE_CHECKING:
    import ssl

    import httpcore2
    import httpx2

    from kimi_core.media import MediaPolicy

__all__ = ["Fetched", "LimitError", "afetch", "fetch"]

logger = logging.getLogger("kimi_core")

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_USER_AGENT = b"kimi-core-media"


LimitError = Callable[[str], ValueError]
"""Builds the error for a body over the byte limit from the URL shown (the caller knows which
limit it was)."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """A downloaded body.

    Attributes:
        data: The bytes.
        content_type: The ``Content-Type`` header ('' when absent).
    """

    data: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class _Hop:
    url: httpx2.URL
    shown: str
    host: str  # ASCII (IDNA) host, IPv6 without brackets
    port: int
    address: IPAddress


class _Deadline:
    __slots__ = ("end", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def clamp(self, timeout: float | None) -> float:
        import httpcore2

        left = self.left()
        if left <= 0:
            raise httpcore2.ReadTimeout("media download deadline passed")
        return left if timeout is None else min(timeout, left)


# -- the checks of one hop ----------------------------------------------------------------


def _refused(lead: str, why: str, host: str) -> ValueError:
    return ValueError(
        f"{lead}: {why}. Media URLs are fetched only from public internet addresses, so that "
        "content your users send cannot reach inside your network. If you trust this host, "
        f"allow it: MediaPolicy(allowed_hosts={{{host!r}}}) (an IP network such as "
        "'10.0.0.0/8' works too). Or send the bytes instead (a data: URL or base64 block), or "
        "upload the file with the Files API and pass its ms://<file_id>."
    )


@dataclass(frozen=True, slots=True)
class _Gate:
    """The checks of one hop before resolution, and of the addresses after it."""

    url: httpx2.URL
    shown: str
    host: str
    port: int
    literal: IPAddress | None
    trusted: bool
    lead: str  # how a refusal of this hop starts

    @classmethod
    def open(cls, url: str, policy: MediaPolicy, via: str | None) -> _Gate:
        import httpx2

        shown = redact_url(url)
        try:
            parsed = httpx2.URL(url)
        except (httpx2.InvalidURL, TypeError) as exc:
            raise ValueError(f"invalid media URL {shown}: {exc}") from None
        if parsed.scheme not in ("http", "https") or not parsed.raw_host:
            raise ValueError(
                f"cannot fetch media from {shown}: only http(s) URLs with a host are fetched."
            )
        lead = (
            f"refused to follow a redirect from {via} to {shown}"
            if via
            else f"refused to fetch media from {shown}"
        )
        host = normalize_host(parsed.raw_host.decode("ascii"))
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        literal = literal_address(host)
        denied = parse_host_rules(policy.denied_hosts, "denied_hosts")
        if denied.matches_name(host) or (literal is not None and denied.matches_address(literal)):
            raise ValueError(f"{lead}: the host is in MediaPolicy.denied_hosts.")
        verdict = policy.url_hook(url) if policy.url_hook is not None else None
        if verdict is False:
            raise ValueError(f"{lead}: MediaPolicy.url_hook said no.")
        trusted = verdict is True or parse_host_rules(
            policy.allowed_hosts, "allowed_hosts"
        ).matches_name(host)
        if not trusted and literal is None and (reason := name_refusal(host)):
            raise _refused(lead, f"{host} is {reason}", host)
        return cls(parsed, shown, host, port, literal, trusted, lead)

    def pin(self, policy: MediaPolicy, answers: Iterable[str]) -> _Hop:
        """Check every resolved address; the hop connects to the first one."""
        addresses: list[IPAddress] = []
        for answer in answers:
            try:
                addresses.append(ipaddress.ip_address(str(answer).split("%", 1)[0]))
            except ValueError:
                raise ValueError(
                    f"cannot fetch media from {self.shown}: the resolver returned {answer!r}, "
                    "not an IP address."
                ) from None
        if not addresses:
            raise ValueError(f"cannot fetch media from {self.shown}: {self.host} did not resolve.")
        allowed = parse_host_rules(policy.allowed_hosts, "allowed_hosts")
        denied = parse_host_rules(policy.denied_hosts, "denied_hosts")
        for ip in addresses:
            if denied.matches_address(ip):
                raise ValueError(f"{self.lead}: {ip} is in MediaPolicy.denied_hosts.")
            if self.trusted or allowed.matches_address(ip):
                continue
            reason = address_refusal(ip)
            if reason is not None:
                where = (
                    f"{ip} is {reason}"
                    if self.literal is not None
                    else f"{self.host} resolves to {ip}, {reason}"
                )
                raise _refused(self.lead, where, self.host)
        return _Hop(self.url, self.shown, self.host, self.port, addresses[0])


@functools.cache
def _resolver_threads() -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="kimi-dns")


def _resolve_now(gate: _Gate, policy: MediaPolicy, deadline: _Deadline) -> _Hop:
    if gate.literal is not None:
        return gate.pin(policy, [str(gate.literal)])
    resolver = policy.resolver or system_resolver
    # getaddrinfo cannot be interrupted; waiting for it in a thread keeps the deadline.
    future = _resolver_threads().submit(resolver, gate.host, gate.port)
    try:
        answers = future.result(timeout=max(deadline.left(), 0))
    except concurrent.futures.TimeoutError:
        raise _timed_out(gate.shown, deadline) from None
    except OSError as exc:
        raise ValueError(f"could not download media from {gate.shown}: {exc}") from None
    return gate.pin(policy, answers)


async def _aresolve_now(gate: _Gate, policy: MediaPolicy, deadline: _Deadline) -> _Hop:
    if gate.literal is not None:
        return gate.pin(policy, [str(gate.literal)])
    resolver = policy.resolver or system_resolver
    try:
        answers = await asyncio.wait_for(
            asyncio.to_thread(resolver, gate.host, gate.port), max(deadline.left(), 0)
        )
    except TimeoutError:
        raise _timed_out(gate.shown, deadline) from None
    except OSError as exc:
        raise ValueError(f"could not download media from {gate.shown}: {exc}") from None
    return gate.pin(policy, answers)


# -- the connection -------------------------------------------------------------------------


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    import httpx2

    return httpx2.create_ssl_context()


def _request_headers(hop: _Hop) -> list[tuple[bytes, bytes]]:
    netloc = hop.url.netloc
    headers = [
        (b"Host", netloc),
        (b"Accept", b"*/*"),
        # Identity only: the limits then count the bytes that are inlined, and no compression
        # bomb is ever expanded.
        (b"Accept-Encoding", b"identity"),
        (b"User-Agent", _USER_AGENT),
    ]
    if hop.url.userinfo:
        credentials = base64.b64encode(f"{hop.url.username}:{hop.url.password}".encode())
        headers.append((b"Authorization", b"Basic " + credentials))
    return headers


def _extensions(hop: _Hop, deadline: _Deadline) -> dict[str, Any]:
    left = max(deadline.left(), 0.001)
    return {
        "timeout": {"connect": left, "read": left, "write": left, "pool": left},
        "sni_hostname": hop.host,
    }


def _core_url(hop: _Hop) -> httpcore2.URL:
    import httpcore2

    return httpcore2.URL(
        scheme=hop.url.scheme.encode("ascii"),
        host=hop.url.raw_host,
        port=hop.port,
        target=hop.url.raw_path,
    )


def _network_backend(address: str, deadline: _Deadline) -> httpcore2.NetworkBackend:
    import httpcore2

    class Stream(httpcore2.NetworkStream):
        def __init__(self, inner: httpcore2.NetworkStream) -> None:
            self._inner = inner

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return self._inner.read(max_bytes, deadline.clamp(timeout))

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self._inner.write(buffer, deadline.clamp(timeout))

        def close(self) -> None:
            self._inner.close()

        def start_tls(
            self,
            ssl_context: ssl.SSLContext,
            server_hostname: str | None = None,
            timeout: float | None = None,
        ) -> httpcore2.NetworkStream:
            return Stream(
                self._inner.start_tls(ssl_context, server_hostname, deadline.clamp(timeout))
            )

        def get_extra_info(self, info: str) -> Any:
            return self._inner.get_extra_info(info)

    class Backend(httpcore2.NetworkBackend):
        # The pool serves one origin; whatever host it asks for, it gets the checked address.
        def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore2.NetworkStream:
            inner = httpcore2.SyncBackend().connect_tcp(
                address, port, deadline.clamp(timeout), local_address, socket_options
            )
            return Stream(inner)

    return Backend()


def _anetwork_backend(address: str, deadline: _Deadline) -> httpcore2.AsyncNetworkBackend:
    import httpcore2

    class Stream(httpcore2.AsyncNetworkStream):
        def __init__(self, inner: httpcore2.AsyncNetworkStream) -> None:
            self._inner = inner

        async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return await self._inner.read(max_bytes, deadline.clamp(timeout))

        async def write(self, buffer: bytes, timeout: float | None = None) -> None:
            await self._inner.write(buffer, deadline.clamp(timeout))

        async def aclose(self) -> None:
            await self._inner.aclose()

        async def start_tls(
            self,
            ssl_context: ssl.SSLContext,
            server_hostname: str | None = None,
            timeout: float | None = None,
        ) -> httpcore2.AsyncNetworkStream:
            inner = await self._inner.start_tls(
                ssl_context, server_hostname, deadline.clamp(timeout)
            )
            return Stream(inner)

        def get_extra_info(self, info: str) -> Any:
            return self._inner.get_extra_info(info)

    class Backend(httpcore2.AsyncNetworkBackend):
        def __init__(self) -> None:
            self._inner = httpcore2.AnyIOBackend()

        async def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore2.AsyncNetworkStream:
            inner = await self._inner.connect_tcp(
                address, port, deadline.clamp(timeout), local_address, socket_options
            )
            return Stream(inner)

        async def sleep(self, seconds: float) -> None:
            await self._inner.sleep(seconds)

    return Backend()


# -- responses ------------------------------------------------------------------------------


def _timed_out(shown: str, deadline: _Deadline) -> ValueError:
    return ValueError(
        f"could not download media from {shown}: it took longer than {deadline.seconds:g} s "
        "(MediaPolicy.timeout bounds the whole download, redirects included)."
    )


def _header(response: httpcore2.Response, name: bytes) -> str:
    for key, value in response.headers:
        if key.lower() == name:
            return value.decode("latin-1").strip()
    return ""


def _next_url(hop: _Hop, response: httpcore2.Response, hops: int, policy: MediaPolicy) -> str:
    location = _header(response, b"location")
    if not location:
        raise ValueError(
            f"could not download media from {hop.shown}: HTTP {response.status} without Location."
        )
    if hops >= policy.max_redirects:
        raise ValueError(
            f"could not download media from {hop.shown}: more than {policy.max_redirects} "
            "redirects (MediaPolicy.max_redirects)."
        )
    import httpx2

    try:
        return str(hop.url.join(location))
    except httpx2.InvalidURL as exc:
        msg = f"could not download media from {hop.shown}: bad redirect: {exc}"
        raise ValueError(msg) from None


class _Body:
    """The response of the final hop: its head checked, its bytes counted as they arrive."""

    def __init__(
        self, hop: _Hop, response: httpcore2.Response, limit: int, too_big: LimitError
    ) -> None:
        if not 200 <= response.status < 300:
            raise ValueError(f"could not download media from {hop.shown}: HTTP {response.status}.")
        encoding = _header(response, b"content-encoding").lower()
        if encoding not in ("", "identity"):
            raise ValueError(
                f"could not download media from {hop.shown}: the server sent it {encoding}-"
                "encoded although only identity was accepted."
            )
        length = _header(response, b"content-length")
        if length.isdigit() and int(length) > limit:
            raise too_big(hop.shown)
        self._content_type = _header(response, b"content-type")
        self._error = functools.partial(too_big, hop.shown)
        self._limit = limit
        self._chunks: list[bytes] = []
        self._size = 0

    def add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._limit:
            raise self._error()
        self._chunks.append(chunk)

    def result(self) -> Fetched:
        return Fetched(b"".join(self._chunks), self._content_type)


@contextlib.contextmanager
def _translated_errors(hop: _Hop, deadline: _Deadline) -> Iterator[None]:
    import httpcore2

    try:
        yield
    except httpcore2.TimeoutException:
        raise _timed_out(hop.shown, deadline) from None
    except (
        httpcore2.NetworkError,
        httpcore2.ProtocolError,
        httpcore2.UnsupportedProtocol,
        OSError,
    ) as exc:
        raise ValueError(f"could not download media from {hop.shown}: {exc!r}") from None


def _request_args(hop: _Hop, deadline: _Deadline) -> dict[str, Any]:
    logger.debug("downloading media from %s (%s)", hop.shown, hop.address)
    return {
        "method": "GET",
        "url": _core_url(hop),
        "headers": _request_headers(hop),
        "extensions": _extensions(hop, deadline),
    }


def fetch(url: str, policy: MediaPolicy, limit: int, too_big: LimitError) -> Fetched:
    """GET ``url`` under ``policy``: every hop checked and pinned, the whole fetch bounded.

    Args:
        url: An http(s) URL.
        policy: The media policy (hosts, hook, resolver, timeout, redirects).
        limit: Most bytes accepted.
        too_big: Builds the error for a body over ``limit``.

    Returns:
        The body and its content type.

    Raises:
        ValueError: Refused, failed, timed out or too large; URLs shown without secrets.
    """
    import httpcore2

    deadline = _Deadline(policy.timeout)
    via: str | None = None
    for hops in range(policy.max_redirects + 1):
        hop = _resolve_now(_Gate.open(url, policy, via), policy, deadline)
        backend = _network_backend(str(hop.address), deadline)
        with (
            _translated_errors(hop, deadline),
            httpcore2.ConnectionPool(ssl_context=_ssl_context(), network_backend=backend) as pool,
            pool.stream(**_request_args(hop, deadline)) as response,
        ):
            if response.status in _REDIRECTS:
                url, via = _next_url(hop, response, hops, policy), hop.shown
                continue
            body = _Body(hop, response, limit, too_big)
            for chunk in response.iter_stream():
                body.add(chunk)
            return body.result()
    raise AssertionError("unreachable: _next_url refuses one redirect too many")


async def afetch(url: str, policy: MediaPolicy, limit: int, too_big: LimitError) -> Fetched:
    """Async :func:`fetch`."""
    import httpcore2

    deadline = _Deadline(policy.timeout)
    via: str | None = None
    for hops in range(policy.max_redirects + 1):
        hop = await _aresolve_now(_Gate.open(url, policy, via), policy, deadline)
        backend = _anetwork_backend(str(hop.address), deadline)
        with _translated_errors(hop, deadline):
            async with (
                httpcore2.AsyncConnectionPool(
                    ssl_context=_ssl_context(), network_backend=backend
                ) as pool,
                pool.stream(**_request_args(hop, deadline)) as response,
            ):
                if response.status in _REDIRECTS:
                    url, via = _next_url(hop, response, hops, policy), hop.shown
                    continue
                body = _Body(hop, response, limit, too_big)
                async for chunk in response.aiter_stream():
                    body.add(chunk)
                return body.result()
    raise AssertionError("unreachable: _next_url refuses one redirect too many")
