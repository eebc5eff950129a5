"""Typed errors for every way a Kimi call can fail.

Each error carries the HTTP status, Moonshot's error ``type``, the message, the request id and
whether a retry can help, so callers (and the framework adapters) never parse message strings.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

__all__ = [
    "APIConnectionError",
    "APITimeoutError",
    "AuthenticationError",
    "ContentFilterError",
    "ContextOverflowError",
    "DeadlineExceededError",
    "EmptyAnswerError",
    "EngineOverloadedError",
    "IncompleteStreamError",
    "InvalidRequestError",
    "KimiError",
    "MalformedResponseError",
    "NotFoundError",
    "PermissionDeniedError",
    "QuotaExhaustedError",
    "RateLimitError",
    "RedirectError",
    "ResponseTooLargeError",
    "ServerError",
    "WebSearchLoopError",
    "error_from_body",
    "parse_retry_after",
    "request_id_of",
]

# Moonshot sends balance exhaustion as a 429 too; kimi-code recognises it by type or by wording.
_QUOTA_WORDING = re.compile(
    r"exceeded your current (token )?quota|check your account balance|insufficient balance"
    r"|recharge your account|account in arrears|is suspended",
    re.IGNORECASE,
)
_OVERFLOW_WORDING = re.compile(
    r"exceeded model token limit|input token length too long|exceeds the model specification"
    r"|context length",
    re.IGNORECASE,
)
_MISSING_MODEL = re.compile(r"Not found the model (\S+)")
_TRY_AGAIN = re.compile(r"try again after (\d+(?:\.\d+)?) seconds?", re.IGNORECASE)


class KimiError(Exception):
    """Base class of every error raised by kimi-core.

    Attributes:
        message: The server's (or our) explanation.
        status: HTTP status code, or None for transport and client-side failures.
        error_type: Moonshot's ``error.type`` (e.g. ``engine_overloaded_error``), when known.
        request_id: The ``Msh-Request-Id`` (or trace id) of the failed call, when known.
        retryable: Whether the same request may succeed if sent again later.
        retry_after: Seconds the server asked us to wait (``Retry-After``), when given.
        body: The decoded error body, for diagnostics.
    """

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_type: str | None = None,
        request_id: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        body: object = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_type = error_type
        self.request_id = request_id
        if retryable is not None:
            self.retryable = retryable
        self.retry_after = retry_after
        self.body = body

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None or self.error_type:
            parts.append(f"(status={self.status}, type={self.error_type})")
        if self.request_id:
            parts.append(f"[request_id={self.request_id}]")
        return " ".join(parts)


class AuthenticationError(KimiError):
    """401: the key is missing, wrong, or belongs to the other region (.ai vs .cn)."""


class PermissionDeniedError(KimiError):
    """403: the model or feature is not available to this account or tier."""


class NotFoundError(KimiError):
    """404: unknown or retired model (the message names the replacement when known), or resource."""


class InvalidRequestError(KimiError):
    """400 ``invalid_request_error``: the server rejected the request body."""


class ContextOverflowError(InvalidRequestError):
    """400: prompt plus ``max_tokens`` exceed the model's context window."""


class ContentFilterError(KimiError):
    """400 ``content_filter``: the input or output was considered high risk."""


class RateLimitError(KimiError):
    """429 ``rate_limit_reached_error``: concurrency/RPM/TPM/TPD exceeded; retry after a wait."""

    retryable = True


class EngineOverloadedError(RateLimitError):
    """429 ``engine_overloaded_error``: the service is busy; retry with backoff."""


class QuotaExhaustedError(KimiError):
    """429 ``exceeded_current_quota_error``: no balance left or account suspended; never retried."""


class ServerError(KimiError):
    """5xx (or an in-stream ``server_error``): a server-side failure; retryable."""

    retryable = True


class APITimeoutError(KimiError):
    """The request did not complete within the configured timeout."""

    retryable = True


class APIConnectionError(KimiError):
    """The connection failed or broke (reset, refused, DNS, TLS, dropped mid-stream)."""

    retryable = True


class DeadlineExceededError(APITimeoutError):
    """The call's whole-call ``deadline`` passed (retries and stream reading included).

    Never retried: the time the caller allowed is spent.
    """

    retryable = False


class ResponseTooLargeError(KimiError):
    """A response body or one server-sent-events line exceeded its cap (a broken or hostile server).

    The caps are ``KimiClient(max_response_bytes=..., max_sse_line_bytes=...)``.
    """


class RedirectError(KimiError):
    """The API answered with a redirect to another origin, which is never followed.

    Following it would send the request body and ``default_headers`` to a host the app never
    configured. The message names the target (credentials and query removed); point ``base_url``
    at the final address instead.
    """


class IncompleteStreamError(KimiError):
    """A stream ended without a ``finish_reason`` and ``[DONE]``: the answer is truncated.

    Never retried automatically: chunks were already delivered to the caller.
    """


class MalformedResponseError(KimiError):
    """The server sent something that does not follow the protocol (bad JSON, bad tool index)."""


class WebSearchLoopError(KimiError):
    """The ``$web_search`` loop hit its round limit before the model produced an answer."""


class EmptyAnswerError(KimiError):
    """The model reasoned but gave no answer and no tool call (MoonshotAI/Kimi-K2#128).

    Raised on endpoints whose profile marks it (open-weight serving), instead of returning an
    empty message; retryable, since the same request usually succeeds when sent again.

    Attributes:
        result: The answer as received (a ``ChatResult`` with the reasoning), for inspection.
    """

    retryable = True

    def __init__(self, message: str, *, result: Any = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.result = result


def request_id_of(headers: Mapping[str, str]) -> str | None:
    """The request id Moonshot (``Msh-Request-Id``) or a proxy (trace ids) put in the headers."""
    return (
        headers.get("msh-request-id")
        or headers.get("x-msh-trace-id")
        or headers.get("x-trace-id")
        or headers.get("x-request-id")
    )


def parse_retry_after(value: str | None) -> float | None:
    """Read a ``Retry-After`` header: delta-seconds or an HTTP date. None when absent or invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        import email.utils

        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return max(0.0, seconds)


def _class_for(status: int | None, error_type: str | None, message: str) -> type[KimiError]:
    etype = error_type or ""
    if etype == "exceeded_current_quota_error" or (
        status == 429 and _QUOTA_WORDING.search(message)
    ):
        return QuotaExhaustedError
    if etype == "engine_overloaded_error":
        return EngineOverloadedError
    if etype == "rate_limit_reached_error" or status == 429:
        return RateLimitError
    if etype == "content_filter":
        return ContentFilterError
    if status == 401 or etype in ("invalid_authentication_error", "incorrect_api_key_error"):
        return AuthenticationError
    if status == 403 or etype == "permission_denied_error":
        return PermissionDeniedError
    if status == 404 or etype == "resource_not_found_error":
        return NotFoundError
    if status is not None and status >= 500:
        return ServerError
    if etype in ("server_error", "unexpected_output", "server_unavailable"):
        return ServerError
    if status == 400 or etype == "invalid_request_error":
        return ContextOverflowError if _OVERFLOW_WORDING.search(message) else InvalidRequestError
    return KimiError


def _retired_hint(message: str, model: str | None) -> str:
    # Imported here to keep errors.py free of the profile table at import time.
    from kimi_core.profiles import get_profile

    match = _MISSING_MODEL.search(message)
    model_id = match.group(1) if match else model
    if not model_id:
        return message
    profile = get_profile(model_id)
    if profile.retired_on is None:
        return message
    hint = f"{model_id} was retired on {profile.retired_on.isoformat()}"
    if profile.replacement:
        hint += f"; use {profile.replacement!r} instead"
    return f"{message} ({hint})"


def error_from_body(
    status: int | None,
    body: object,
    *,
    headers: Mapping[str, str] | None = None,
    model: str | None = None,
) -> KimiError:
    """Build the typed error for an HTTP error response or an in-stream ``{"error": ...}`` event.

    Args:
        status: HTTP status, or None for an error event inside a 200 stream.
        body: The decoded JSON body (``{"error": {"type", "message", "code"?}}``), or raw text.
        headers: Response headers, for the request id and ``Retry-After``.
        model: The requested model, used to name a replacement when it was retired.

    Returns:
        The matching :class:`KimiError` subclass instance (not raised).
    """
    error: Mapping[str, Any] = {}
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping):
            error = inner
    message = error.get("message")
    if not isinstance(message, str) or not message:
        message = body.strip()[:500] if isinstance(body, str) else ""
        if not message:
            message = f"HTTP {status}" if status else "Unknown error"
    etype = error.get("type") if isinstance(error.get("type"), str) else None
    request_id = retry_after = None
    if headers is not None:
        request_id = request_id_of(headers)
        retry_after = parse_retry_after(headers.get("retry-after"))
    cls = _class_for(status, etype, message)
    if retry_after is None and issubclass(cls, RateLimitError):
        # Rate-limit messages say "please try again after {time} seconds" when no header does.
        found = _TRY_AGAIN.search(message)
        retry_after = float(found.group(1)) if found else None
    if status is None and cls is KimiError:
        # An error event inside a stream with no type: the server failed mid-answer.
        cls = ServerError
    if cls is NotFoundError:
        message = _retired_hint(message, model)
    return cls(
        message,
        status=status,
        error_type=etype,
        request_id=request_id,
        retry_after=retry_after,
        body=body,
    )
