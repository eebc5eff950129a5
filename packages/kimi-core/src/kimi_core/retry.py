"""The one retry layer: exponential backoff with full jitter, honouring ``Retry-After``."""

from __future__ import annotations

import random
from dataclasses import dataclass

from kimi_core.errors import KimiError

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how long to wait before sending a failed request again.

    Attributes:
        max_retries: Retries after the first attempt (0 disables retrying).
        initial_delay: Base delay of the first retry, in seconds.
        max_delay: Cap on a computed delay.
        max_retry_after: Cap on a server-requested ``Retry-After`` wait.
        max_elapsed: No retry starts later than this many seconds after the first attempt (None:
            no bound), so a call ends within about ``max_elapsed`` plus one request timeout.
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    max_elapsed: float | None = None

    def should_retry(self, error: KimiError, attempt: int, elapsed: float = 0.0) -> bool:
        """Whether to retry after ``attempt`` (0-based) failed with ``error``."""
        within = self.max_elapsed is None or elapsed < self.max_elapsed
        return error.retryable and attempt < self.max_retries and within

    def delay(self, error: KimiError, attempt: int, elapsed: float = 0.0) -> float:
        """Seconds to wait before retry number ``attempt + 1``."""
        if error.retry_after is not None:
            wait = min(error.retry_after, self.max_retry_after)
        else:
            ceiling = min(self.max_delay, self.initial_delay * (2**attempt))
            # Full jitter spreads many clients that failed together over the whole window.
            wait = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not cryptography
        if self.max_elapsed is not None:
            wait = min(wait, max(0.0, self.max_elapsed - elapsed))
        return wait
