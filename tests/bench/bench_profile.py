"""Sampling profiles (pyinstrument) of every client in S1-S3, written as text and HTML.

A sampling profiler, not cProfile: cProfile's per-call hook inflates code made of many small calls
(the SDK's pydantic models, LangChain's callbacks) and would misplace the hot spots.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bench_answer import Expected
from bench_clients import Client

__all__ = ["profile_clients"]


async def _gather(client: Client, calls: int, profiler: Any) -> None:
    await client.ainvoke()  # this loop's client and pool, outside the profile
    profiler.start()
    await asyncio.gather(*(client.ainvoke() for _ in range(calls)))
    profiler.stop()


def profile_clients(
    classes: list[type[Client]],
    server: Any,
    scenarios: dict[str, tuple[str, Expected, int]],
    out_dir: Path,
    log: Any = print,
) -> list[Path]:
    """Profile ``call`` x ``repeat`` per scenario and client; returns the written text files."""
    from pyinstrument import Profiler

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (call, expected, repeat) in scenarios.items():
        for cls in classes:
            try:
                client = cls(server.base_url, server.api_key, expected)
                if call != "ainvoke":
                    getattr(client, call)()  # warm-up outside the profile
            except Exception as exc:
                log(f"    {name} {cls.key}: skipped ({type(exc).__name__}: {exc})")
                continue
            profiler = Profiler(interval=0.0005)
            if call == "ainvoke":
                asyncio.run(_gather(client, repeat, profiler))
            else:
                profiler.start()
                for _ in range(repeat):
                    getattr(client, call)()
                profiler.stop()
            stem = f"{name.replace(' ', '_')}-{cls.key}"
            text = out_dir / f"{stem}.txt"
            # Wall-clock samples: waits on the socket show as recv/select frames in the tree; the
            # flat listing (self time per function) is what ranks the CPU hot spots.
            text.write_text(
                profiler.output_text(unicode=True, color=False, show_all=False)
                + "\n\nFlat (self time):\n"
                + profiler.output_text(unicode=True, color=False, flat=True)
            )
            (out_dir / f"{stem}.html").write_text(profiler.output_html())
            written.append(text)
            log(f"    {name} {cls.key}: {text}")
    return written
