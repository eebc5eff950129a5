"""Shared helpers for kimi-core tests (a uniquely named module: test dirs share sys.path)."""

from __future__ import annotations

from pathlib import Path

from kimi_core import RetryPolicy

# Fast, deterministic backoff for retry tests (the policy itself is tested separately).
FAST_RETRIES = RetryPolicy(max_retries=2, initial_delay=0.01, max_delay=0.02, max_retry_after=0.05)


def sse_body(path: Path, *, done: bool = True) -> bytes:
    """A recording's chunk lines as an SSE body (the recordings omit ``data: `` and [DONE])."""
    lines = [f"data: {line}\n\n" for line in path.read_text().splitlines() if line.strip()]
    if done:
        lines.append("data: [DONE]\n\n")
    return "".join(lines).encode()
