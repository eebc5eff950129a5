"""S9: how each adapter path's CPU grows with the answer, from 10,000 to 100,000 events.

Issue 17 asks for a growth exponent (CPU ~ events^k) of at most 1.05 on every adapter path:
streamed chunk by chunk (merged per network read, and one piece per event) and taken as one
message. Loopback, so a read holds many events; the per-event rows are what every path costs when
each event arrives in its own read, as over a network (the paced scenarios show that nothing is
merged then). Each client runs both sizes back to back in every repetition and k is the median
of those pairs, as for S3.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from bench_answer import Expected
from bench_clients import Client
from bench_measure import Series
from bench_report import HEADERS, paired_exponents
from bench_scenarios import run_in_process

__all__ = ["GROWTH_PATHS", "growth_table", "run_growth"]

# (path, the client call, the clients that take it); the floors show what the framework costs.
GROWTH_PATHS: dict[str, tuple[str, tuple[str, ...]]] = {
    "stream": (
        "stream",
        (
            "httpx",
            "chatkimi",
            "chatkimi-per-event",
            "lc-floor",
            "kimi",
            "kimi-per-event",
            "li-floor",
        ),
    ),
    # ChatKimi's invoke accumulates in kimi-core whatever coalesce_stream says: no per-event twin.
    "one message": (
        "invoke_streaming",
        ("httpx", "chatkimi", "lc-floor", "kimi", "kimi-per-event", "li-floor"),
    ),
}


def _events(size: Expected) -> int:
    return size.reasoning + size.content


def _per_event_us(series: Series, events: int) -> float:
    return series.median("cpu") / events * 1e6


def run_growth(
    classes: list[type[Client]],
    server: Any,
    sizes: tuple[Expected, Expected],
    samples: int,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Per path and client: CPU per event at both sizes, and the growth exponent between them."""
    small, large = sizes
    paths: dict[str, dict[str, Any]] = {}
    for path, (call, keys) in GROWTH_PATHS.items():
        log(f"  S9 {path}")
        chosen = [cls for cls in classes if cls.key in keys]
        per_size = run_in_process(
            call, chosen, server, [small, large], calls=1, samples=samples, log=log
        )
        exponents = paired_exponents(per_size[0], per_size[1], _events(small), _events(large))
        rows = {}
        for cls in chosen:
            a, b = per_size[0][cls.key], per_size[1][cls.key]
            rows[cls.key] = {
                "small_us": _per_event_us(a, _events(small)),
                "large_us": _per_event_us(b, _events(large)),
                "exponent": exponents.get(cls.key, math.nan),
                "missing": sorted(a.missing | b.missing),
                "error": a.error or b.error,
                "pieces": [
                    max(a.chunks, default=0),
                    max(b.chunks, default=0),
                ],
            }
        paths[path] = rows
    return {
        "title": (
            f"S9 growth of CPU with the answer, {small.reasoning:,} -> {large.reasoning:,} "
            f"reasoning + {large.content:,} content events, loopback"
        ),
        "samples": samples,
        "events": [_events(small), _events(large)],
        "paths": paths,
    }


def growth_table(result: dict[str, Any]) -> str:
    """The S9 rows as Markdown."""
    small, large = result["events"]
    lines = [
        f"### {result['title']}, median of {result['samples']}",
        "",
        f"| path | client | us/event at {small:,} | us/event at {large:,} | pieces | "
        "growth exponent | complete |",
        "|---|---|---|---|---|---|---|",
    ]
    for path, rows in result["paths"].items():
        for key, row in rows.items():
            name = HEADERS.get(key, key)
            if row["error"]:
                lines.append(f"| {path} | {name} | error: {row['error'][:60]} |||||")
                continue
            pieces = " / ".join(f"{p:,}" if p else "-" for p in row["pieces"])
            complete = "yes" if not row["missing"] else "no " + ", ".join(row["missing"])
            lines.append(
                f"| {path} | {name} | {row['small_us']:.1f} | {row['large_us']:.1f} | {pieces} | "
                f"{row['exponent']:.2f} | {complete} |"
            )
    return "\n".join(lines)
