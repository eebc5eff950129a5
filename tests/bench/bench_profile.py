"""Sampling profiles (pyinstrument) of every client in S1-S3, written as text and HTML.

A sampling profiler, not cProfile: cProfile's per-call hook inflates code made of many small calls
(the SDK's pydantic models, LangChain's callbacks) and would misplace the hot spots.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench_answer import Expected
from bench_clients import Client

__all__ = ["profile_clients"]


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
                getattr(client, call)()  # warm-up outside the profile
            except Exception as exc:
                log(f"    {name} {cls.key}: skipped ({type(exc).__name__}: {exc})")
                continue
            profiler = Profiler(interval=0.0005)
            profiler.start()
            for _ in range(repeat):
                getattr(client, call)()
            profiler.stop()
            stem = f"{name.replace(' ', '_')}-{cls.key}"
            text = out_dir / f"{stem}.txt"
            text.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
            (out_dir / f"{stem}.html").write_text(profiler.output_html())
            written.append(text)
            log(f"    {name} {cls.key}: {text}")
    return written
