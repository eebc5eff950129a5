"""Throughput of the emulator measured with the openai SDK as client (a script, not a test).

    python packages/kimi-emulator/benchmarks/bench_emulator.py [--requests 2000] [--chunks 200000]

Starts ``kimi-emulator`` as its own process (so client and server do not share one GIL) and
prints requests/s for short non-streaming calls (sequential, and concurrent with AsyncOpenAI),
chunks/s for one long stream sized with the ``X-Kimi-Emulator-Size`` header as the openai SDK
parses it, and the same stream read as raw bytes (what the server itself can push).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openai
from kimi_emulator import SIZE_HEADER

MESSAGES = [{"role": "user", "content": "Reply with exactly OK"}]


def sequential(emulator: Server, count: int) -> float:
    """Requests/s, one short non-streaming call after another."""
    with openai.OpenAI(base_url=emulator.base_url, api_key=emulator.api_key, max_retries=0) as sdk:
        sdk.chat.completions.create(model="kimi-k3", messages=MESSAGES)  # type: ignore[arg-type]
        start = time.perf_counter()
        for _ in range(count):
            sdk.chat.completions.create(model="kimi-k3", messages=MESSAGES)  # type: ignore[arg-type]
        return count / (time.perf_counter() - start)


async def concurrent(base_url: str, api_key: str, count: int, width: int) -> float:
    """Requests/s with ``width`` AsyncOpenAI calls in flight."""
    sdk = openai.AsyncOpenAI(base_url=base_url, api_key=api_key, max_retries=0)
    gate = asyncio.Semaphore(width)

    async def one() -> None:
        async with gate:
            await sdk.chat.completions.create(model="kimi-k3", messages=MESSAGES)  # type: ignore[arg-type]

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    elapsed = time.perf_counter() - start
    await sdk.close()
    return count / elapsed


def raw_sequential(emulator: Server, count: int) -> float:
    """Requests/s over one keep-alive connection without the SDK (the server's own cost)."""
    url = urllib.parse.urlsplit(emulator.base_url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port)
    headers = {"Authorization": f"Bearer {emulator.api_key}", "Content-Type": "application/json"}
    body = json.dumps({"model": "kimi-k3", "messages": MESSAGES})
    start = time.perf_counter()
    for _ in range(count):
        connection.request("POST", f"{url.path}/chat/completions", body, headers)
        connection.getresponse().read()
    elapsed = time.perf_counter() - start
    connection.close()
    return count / elapsed


def long_stream(emulator: Server, chunks: int) -> tuple[int, float]:
    """(chunks, chunks/s) of one long stream parsed by the openai SDK."""
    half = chunks // 2
    with openai.OpenAI(base_url=emulator.base_url, api_key=emulator.api_key, max_retries=0) as sdk:
        start = time.perf_counter()
        stream = sdk.chat.completions.create(
            model="kimi-k3",
            messages=MESSAGES,  # type: ignore[arg-type]
            stream=True,
            extra_headers={SIZE_HEADER: f"reasoning={half},content={chunks - half}"},
        )
        received = sum(1 for _ in stream)
        return received, received / (time.perf_counter() - start)


def raw_stream(emulator: Server, chunks: int) -> tuple[int, float]:
    """(events, events/s) of one long stream read as raw bytes."""
    half = chunks // 2
    request = urllib.request.Request(  # noqa: S310 - loopback only
        f"{emulator.base_url}/chat/completions",
        data=b'{"model":"kimi-k3","stream":true,"messages":[{"role":"user","content":"hi"}]}',
        headers={
            "Authorization": f"Bearer {emulator.api_key}",
            "Content-Type": "application/json",
            SIZE_HEADER: f"reasoning={half},content={chunks - half}",
        },
    )
    start = time.perf_counter()
    with urllib.request.urlopen(request) as response:  # noqa: S310
        events = response.read().count(b"\n\ndata: ") + 1
    return events, events / (time.perf_counter() - start)


@dataclass
class Server:
    """Where the child-process emulator listens."""

    base_url: str
    api_key: str


@contextlib.contextmanager
def server() -> Iterator[Server]:
    """``kimi-emulator --port 0`` in a child process; stopped with Ctrl-C (SIGINT)."""
    cli = Path(sys.executable).parent / "kimi-emulator"
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [str(cli), "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().rsplit(" ", 1)[1].strip()
        api_key = process.stdout.readline().split(": ", 1)[1].strip()
        yield Server(base_url, api_key)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def main() -> None:
    """Run every measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--chunks", type=int, default=200_000)
    parser.add_argument("--width", type=int, default=50, help="concurrent requests in flight")
    args = parser.parse_args()
    with server() as emulator:
        print(f"sequential non-streaming: {sequential(emulator, args.requests):,.0f} requests/s")
        raw_rate = raw_sequential(emulator, args.requests)
        print(f"sequential non-streaming, raw HTTP keep-alive: {raw_rate:,.0f} requests/s")
        rate = asyncio.run(
            concurrent(emulator.base_url, emulator.api_key, args.requests, args.width)
        )
        print(f"concurrent non-streaming ({args.width} in flight): {rate:,.0f} requests/s")
        received, chunk_rate = long_stream(emulator, args.chunks)
        print(
            f"long stream: {received:,} chunks at {chunk_rate:,.0f} chunks/s (openai SDK parsing)"
        )
        events, event_rate = raw_stream(emulator, args.chunks)
        print(f"long stream: {events:,} events at {event_rate:,.0f} chunks/s (raw HTTP read)")


if __name__ == "__main__":
    main()
