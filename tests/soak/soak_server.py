"""The soak's server: a kimi-emulator in its own process, injecting faults of every kind.

Run as ``python soak_server.py <fault_rate> <seed> <stall_seconds>``; it prints its base URL and
key, then answers ``stats`` on stdin with one JSON line (faults injected, chat requests served) and
stops at end of input. Its own process keeps its sockets and memory out of the client's figures.
"""

from __future__ import annotations

import asyncio
import json
import sys

from kimi_emulator import Fault, KimiEmulator


def fault_kinds(stall: float) -> list[Fault]:
    """One of every fault class of issue 7 (and the in-stream error event)."""
    return [
        Fault.overloaded(),
        Fault.overloaded(retry_after=0.05),
        Fault.rate_limit("rpm", retry_after=0.05),
        Fault.rate_limit("tpm"),
        Fault.quota(),
        Fault.server_error(500),
        Fault.server_error(503),
        Fault.gateway_timeout_html(),
        Fault.reset(),
        Fault.disconnect_after(3),
        Fault.malformed_sse(after=3),
        Fault.stream_error(after=3),
        Fault.delay_first_byte(stall),
        Fault.slow_chunks(0.01),
        Fault.stall_after(3, stall),
    ]


async def serve(rate: float, seed: int, stall: float) -> None:
    """Serve until stdin closes."""
    async with KimiEmulator() as emulator:
        kinds = fault_kinds(stall)
        for offset, fault in enumerate(kinds):
            # Independent seeded draws per kind: about `rate` of all requests get some fault.
            emulator.faults.probability(rate / len(kinds), fault, seed=seed + offset)
        print(f"base_url {emulator.base_url}", flush=True)
        print(f"api_key {emulator.api_key}", flush=True)
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            if line.strip() == "stats":
                stats = {
                    "faults": emulator.faults.fired(),
                    "chat_requests": len(emulator.chat_requests),
                }
                print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    asyncio.run(serve(float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])))
