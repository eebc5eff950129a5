"""Measure every fault class through ChatKimi and Kimi in all four modes; print a Markdown table.

``uv run python tests/reliability/measure_faults.py`` (a script, not a test: it reports wall-clock
figures, which tests never assert). Real default backoff, ``max_retries=2``; the slow faults use
``timeout=1.0``. For each fault: injected once (then a normal answer), and persistently.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from kimi_emulator import Fault, KimiEmulator
from rel_helpers import ANSWER, FRAMEWORKS, MODES, STREAM_MODES, drive, reply

TIMEOUT = 1.0

FAULTS: dict[str, tuple[Callable[[], Fault], bool]] = {
    # name: (fault factory, streams only)
    "429 engine_overloaded, no Retry-After": (Fault.overloaded, False),
    "429 engine_overloaded, Retry-After: 0.2": (lambda: Fault.overloaded(retry_after=0.2), False),
    "429 rate_limit_reached, no Retry-After": (lambda: Fault.rate_limit("tpm"), False),
    "429 rate_limit_reached, Retry-After: 0.2": (
        lambda: Fault.rate_limit("rpm", retry_after=0.2),
        False,
    ),
    "429 exceeded_current_quota": (Fault.quota, False),
    "500 server_error": (lambda: Fault.server_error(500), False),
    "503 server_unavailable": (lambda: Fault.server_error(503), False),
    "504 HTML body": (Fault.gateway_timeout_html, False),
    "connection reset before any byte": (Fault.reset, False),
    "disconnect mid-body (invoke) / before 1st chunk (stream)": (
        lambda: Fault.disconnect_after(0),
        False,
    ),
    "disconnect mid-stream after chunks": (lambda: Fault.disconnect_after(6), True),
    "malformed SSE line after chunks": (lambda: Fault.malformed_sse(after=6), True),
    "error event mid-stream": (lambda: Fault.stream_error(after=6), True),
    "slow first byte (3 s > timeout 1 s)": (lambda: Fault.delay_first_byte(3.0), False),
    "slow chunks (0.05 s apart, timeout 1 s)": (lambda: Fault.slow_chunks(0.05), True),
    "stream stalls 3 s after chunks (timeout 1 s)": (lambda: Fault.stall_after(6, 3.0), True),
}


def _outcome(out: object) -> str:
    error = getattr(out, "error", None)
    if error is None:
        # The retry of a cut attempt gets the server's next answer, not the scripted one.
        return "complete" if getattr(out, "text", None) == ANSWER else "complete (the retry's)"
    return type(error).__name__.removeprefix("Kimi")


def measure(name: str, factory: Callable[[], Fault], streams_only: bool, times: int) -> str:
    """One table row: outcomes, attempts and the slowest call over every framework and mode."""
    outcomes: Counter[str] = Counter()
    attempts: Counter[int] = Counter()
    slowest = 0.0
    modes = STREAM_MODES if streams_only else MODES
    for framework in FRAMEWORKS:
        for mode in modes:
            # A fresh server per call: a handler still sleeping on a slow fault cannot interfere.
            with KimiEmulator() as emu:
                for _ in range(times):
                    emu.script(factory())
                emu.script(reply())
                started = time.monotonic()
                out = drive(framework, mode, emu, timeout=TIMEOUT, max_retries=2)
                slowest = max(slowest, time.monotonic() - started)
                outcomes[_outcome(out)] += 1
                attempts[len(emu.chat_requests)] += 1
    shown = ", ".join(f"{k} x{v}" for k, v in sorted(outcomes.items()))
    tries = "/".join(str(a) for a in sorted(attempts))
    return f"| {name} | {'once' if times == 1 else 'always'} | {tries} | {shown} | {slowest:.2f} |"


def main() -> None:
    """Print the table."""
    print("| fault | injected | attempts sent | outcome (per framework x mode) | slowest s |")
    print("|---|---|---|---|---|")
    for name, (factory, streams_only) in FAULTS.items():
        for times in (1, 3):
            print(measure(name, factory, streams_only, times), flush=True)


if __name__ == "__main__":
    main()
