"""The retry attempt loop: one call's budget of attempts and time, and the loop that spends it.

:class:`~kimi_core.retry.RetryPolicy` says when and how long to wait; this module counts the
attempts against it and against the call's deadline, for plain requests (:func:`retry`,
:func:`aretry`) and for stream rounds, which the stream loop drives itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from kimi_core.errors import APITimeoutError, DeadlineExceededError, KimiError
from kimi_core.retry import RetryPolicy
from kimi_core.transport import translate_error

__all__ = ["Attempts", "aretry", "deadline_error", "retry"]

_T = TypeVar("_T")
logger = logging.getLogger("kimi_core")


def deadline_error(what: str) -> DeadlineExceededError:
    """The error of a call whose ``deadline`` passed ``what`` (e.g. "before the stream started")."""
    return DeadlineExceededError(
        f"the call's deadline passed {what}; raise deadline=... (seconds for the whole call, "
        "retries and streaming included) or leave it None"
    )


class Attempts:
    """The retry budget of one call (or of one stream round): attempt count and elapsed time.

    Args:
        policy: When and how long to wait.
        until: The monotonic time the whole call must end by (None: no deadline).
    """

    __slots__ = ("count", "policy", "started", "until")

    def __init__(self, policy: RetryPolicy, until: float | None = None) -> None:
        self.policy = policy
        self.count = 0
        self.started = time.monotonic()
        self.until = until

    def budget(self, timeout: float) -> float | None:
        """The timeout of the next attempt when a deadline applies (None: the client's own).

        Raises:
            DeadlineExceededError: The deadline has passed.
        """
        if self.until is None:
            return None
        left = self.until - time.monotonic()
        if left <= 0:
            raise deadline_error("before the request could be sent")
        return min(timeout, left)

    def _expired(self, error: KimiError) -> None:
        if self.until is not None and time.monotonic() >= self.until:
            if isinstance(error, DeadlineExceededError):
                raise error
            raise deadline_error(f"({type(error).__name__}: {error})") from error

    def reset(self) -> None:
        """A round succeeded: the next one gets the full budget again."""
        self.count = 0
        self.started = time.monotonic()

    def next_delay(self, error: KimiError) -> float | None:
        """Seconds to wait before the next attempt, or None when ``error`` must be raised.

        Raises:
            DeadlineExceededError: The call's deadline has passed.
        """
        self._expired(error)
        elapsed = time.monotonic() - self.started
        if not self.policy.should_retry(error, self.count, elapsed):
            return None
        delay = self.policy.delay(error, self.count, elapsed)
        if self.until is not None and time.monotonic() + delay >= self.until:
            return None  # no time left for another attempt: the failure itself is the answer
        self.count += 1
        logger.info(
            "retrying in %.2fs (retry %d of %d) after %s: %s",
            delay,
            self.count,
            self.policy.max_retries,
            type(error).__name__,
            error,
        )
        return delay

    def next_round_delay(self, error: KimiError, delivered: bool) -> float | None:
        """Like :meth:`next_delay`, but never once the round ``delivered`` a delta to the caller."""
        self._expired(error)
        if delivered:
            # Chunks are in the caller's hands: a retry would duplicate them.
            error.retryable = False
            return None
        return self.next_delay(error)


def retry(
    send: Callable[[float | None], _T], attempts: Attempts, *, timeout: float, model: str | None
) -> _T:
    """Call ``send(budget)`` until it succeeds or ``attempts`` run out; failures become typed.

    Args:
        send: One attempt; gets the attempt's timeout when a deadline applies, else None.
        attempts: The call's budget (policy and deadline).
        timeout: The client's per-request timeout, capped by the deadline.
        model: The model of a chat call, to name a replacement in a 404.

    Raises:
        KimiError: The typed error of the last attempt.
    """
    while True:
        try:
            return send(attempts.budget(timeout))
        except Exception as exc:
            error = translate_error(exc, model=model)
            delay = attempts.next_delay(error)
            if delay is None:
                raise error from exc
        time.sleep(delay)


async def aretry(
    send: Callable[[float | None], Awaitable[_T]],
    attempts: Attempts,
    *,
    timeout: float,
    model: str | None,
) -> _T:
    """Async :func:`retry`; an attempt running past its budget is cancelled."""
    import asyncio

    while True:
        try:
            budget = attempts.budget(timeout)
            if budget is None:
                return await send(None)
            try:
                async with asyncio.timeout(budget):
                    return await send(budget)
            except TimeoutError as exc:
                raise APITimeoutError(f"the request timed out after {budget:.3g}s") from exc
        except Exception as exc:
            error = translate_error(exc, model=model)
            delay = attempts.next_delay(error)
            if delay is None:
                raise error from exc
        await asyncio.sleep(delay)
