"""``kimi-emulator`` command: serve until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence

from kimi_emulator.config import EmulatorConfig
from kimi_emulator.dialects import DIALECTS
from kimi_emulator.server import KimiEmulator

__all__ = ["main"]


async def _serve(emulator: KimiEmulator) -> None:
    async with emulator:
        print(f"Kimi emulator listening: base URL {emulator.base_url}", flush=True)
        if emulator.config.dialect != "moonshot":
            print(f"Dialect: {emulator.config.dialect} (endpoint={emulator.config.dialect!r})")
        print(f"API key: {emulator.api_key}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        await asyncio.Event().wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator from the shell; returns the exit code."""
    parser = argparse.ArgumentParser(prog="kimi-emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8765, help="TCP port, 0 for any free one (default 8765)"
    )
    parser.add_argument("--api-key", help="the key clients must send (default: a random one)")
    parser.add_argument(
        "--dialect",
        choices=sorted(DIALECTS),
        default="moonshot",
        help="wire dialect: the Moonshot platform (default) or a self-hosted vLLM / SGLang",
    )
    args = parser.parse_args(argv)
    config = EmulatorConfig(dialect=args.dialect)
    if args.api_key:
        config.api_key = args.api_key
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(KimiEmulator(host=args.host, port=args.port, config=config)))
    print("Kimi emulator stopped.", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
