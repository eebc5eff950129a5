"""kimi-core errors re-raised as members of langchain-core's `ModelError` family.

Each class inherits from both the kimi-core error and the matching langchain-core error (the
pattern langchain-openai uses), so `except kimi_core.RateLimitError` and
`except langchain_core.exceptions.ModelRateLimitError` both keep working, and LangChain's
`ModelRetryMiddleware` / `SummarizationMiddleware` see the conditions they look for.
`is_retryable` follows kimi-core's per-error decision: a quota-exhausted 429 is a rate-limit
error that is *not* retryable.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import kimi_core
from langchain_core import exceptions as lc

__all__ = [
    "KimiAPIConnectionError",
    "KimiAPIError",
    "KimiAPITimeoutError",
    "KimiAuthenticationError",
    "KimiContentFilterError",
    "KimiContextOverflowError",
    "KimiEmptyAnswerError",
    "KimiEngineOverloadedError",
    "KimiIncompleteStreamError",
    "KimiInvalidRequestError",
    "KimiMalformedResponseError",
    "KimiModelError",
    "KimiNotFoundError",
    "KimiPermissionDeniedError",
    "KimiQuotaExhaustedError",
    "KimiRateLimitError",
    "KimiWebSearchLoopError",
    "mapped_errors",
    "to_langchain_error",
]


class KimiModelError(kimi_core.KimiError, lc.ModelError):
    """Any other Kimi failure."""


class KimiAuthenticationError(kimi_core.AuthenticationError, lc.ModelAuthenticationError):
    """401: the key is missing, wrong, or from the other region."""


class KimiPermissionDeniedError(kimi_core.PermissionDeniedError, lc.ModelPermissionDeniedError):
    """403: the model or feature is not available to the account."""


class KimiNotFoundError(kimi_core.NotFoundError, lc.ModelNotFoundError):
    """404: unknown or retired model (the message names the replacement)."""


class KimiInvalidRequestError(kimi_core.InvalidRequestError, lc.ModelInvalidRequestError):
    """400: the server rejected the request."""


class KimiContextOverflowError(kimi_core.ContextOverflowError, lc.ContextOverflowError):
    """400: the prompt plus `max_tokens` exceed the context window."""


class KimiContentFilterError(kimi_core.ContentFilterError, lc.ModelInvalidRequestError):
    """400 `content_filter`: input or output judged high risk (a request error on Kimi)."""


class KimiRateLimitError(kimi_core.RateLimitError, lc.ModelRateLimitError):
    """429 rate limit or engine overload: retryable after a wait."""


class KimiEngineOverloadedError(kimi_core.EngineOverloadedError, lc.ModelRateLimitError):
    """429 engine overloaded: retryable with backoff."""


class KimiQuotaExhaustedError(kimi_core.QuotaExhaustedError, lc.ModelRateLimitError):
    """429 `exceeded_current_quota_error`: balance exhausted; retrying cannot help."""

    is_retryable = False


class KimiAPIError(kimi_core.ServerError, lc.ModelAPIError):
    """5xx or an in-stream server error."""


class KimiAPITimeoutError(kimi_core.APITimeoutError, lc.ModelTimeoutError):
    """The request timed out."""


class KimiAPIConnectionError(kimi_core.APIConnectionError, lc.ModelConnectionError):
    """The connection failed or broke."""


class KimiIncompleteStreamError(kimi_core.IncompleteStreamError, lc.ModelAPIError):
    """The stream ended before the answer was complete."""


class KimiMalformedResponseError(kimi_core.MalformedResponseError, lc.ModelAPIError):
    """The server sent something that does not follow the protocol."""


class KimiWebSearchLoopError(kimi_core.WebSearchLoopError, lc.ModelError):
    """The model kept calling `$web_search` past the round limit."""


class KimiEmptyAnswerError(kimi_core.EmptyAnswerError, lc.ModelAPIError):
    """Reasoning but no answer and no tool call (open-weight serving, Kimi-K2#128): retryable."""


# One dual class per kimi-core class, so the raised error is still an instance of its own class.
_MAPPING: dict[type[kimi_core.KimiError], type[kimi_core.KimiError]] = {
    kimi_core.AuthenticationError: KimiAuthenticationError,
    kimi_core.PermissionDeniedError: KimiPermissionDeniedError,
    kimi_core.NotFoundError: KimiNotFoundError,
    kimi_core.ContextOverflowError: KimiContextOverflowError,
    kimi_core.InvalidRequestError: KimiInvalidRequestError,
    kimi_core.ContentFilterError: KimiContentFilterError,
    kimi_core.EngineOverloadedError: KimiEngineOverloadedError,
    kimi_core.RateLimitError: KimiRateLimitError,
    kimi_core.QuotaExhaustedError: KimiQuotaExhaustedError,
    kimi_core.ServerError: KimiAPIError,
    kimi_core.APITimeoutError: KimiAPITimeoutError,
    kimi_core.APIConnectionError: KimiAPIConnectionError,
    kimi_core.IncompleteStreamError: KimiIncompleteStreamError,
    kimi_core.MalformedResponseError: KimiMalformedResponseError,
    kimi_core.WebSearchLoopError: KimiWebSearchLoopError,
    kimi_core.EmptyAnswerError: KimiEmptyAnswerError,
    kimi_core.KimiError: KimiModelError,
}


def to_langchain_error(error: kimi_core.KimiError) -> kimi_core.KimiError:
    """Return `error` as the dual-inheriting class for its kind (unchanged if already mapped).

    Args:
        error: An error raised by kimi-core.

    Returns:
        An instance that is both the original kimi-core error class's kind and a
        `langchain_core.exceptions.ModelError`, with every attribute copied.
    """
    if isinstance(error, lc.ModelError):
        return error
    target = _MAPPING.get(type(error))
    if target is None:
        # A kimi-core error class this table does not list yet: keep it catchable as itself.
        base = next(_MAPPING[cls] for cls in type(error).__mro__ if cls in _MAPPING)
        target = _MAPPING[type(error)] = type(
            f"Kimi{type(error).__name__}", (type(error), *base.__bases__[1:]), {}
        )
    mapped = target(
        error.message,
        status=error.status,
        error_type=error.error_type,
        request_id=error.request_id,
        retryable=error.retryable,
        retry_after=error.retry_after,
        body=error.body,
    )
    # Class-specific attributes (EmptyAnswerError.result, UnsupportedFeatureError.feature) too.
    vars(mapped).update(vars(error))
    # kimi-core decides retryability per error (e.g. an in-stream failure after chunks went out).
    mapped.is_retryable = error.retryable  # type: ignore[attr-defined]
    return mapped


@contextmanager
def mapped_errors() -> Iterator[None]:
    """Re-raise kimi-core errors from the block as langchain-core `ModelError`s.

    A plain (sync) context manager: it also wraps awaits and `async for` loops.
    """
    try:
        yield
    except kimi_core.KimiError as error:
        mapped = to_langchain_error(error)
        if mapped is error:
            raise
        raise mapped.with_traceback(error.__traceback__) from None
