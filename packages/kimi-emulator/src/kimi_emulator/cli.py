"""``kimi-emulator`` command: serve until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import typing
from collections.abc import Sequence
from dataclasses import fields

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


def _switches(pairs: list[str]) -> dict[str, str]:
    """``NAME=VALUE`` pairs for the string-valued switches of ``EmulatorConfig``."""
    hints = typing.get_type_hints(EmulatorConfig)
    choices = {
        f.name: typing.get_args(hints[f.name])
        for f in fields(EmulatorConfig)
        if typing.get_origin(hints[f.name]) is typing.Literal
    }
    switches: dict[str, str] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in choices:
            raise SystemExit(f"--set: unknown switch {name!r}; one of {', '.join(sorted(choices))}")
        if value not in choices[name]:
            raise SystemExit(f"--set {name}: {value!r} is not one of {', '.join(choices[name])}")
        switches[name] = value
    return switches


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator from the shell; returns the exit code."""
    parser = argparse.ArgumentParser(prog="kimi-emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8765, help="TCP port, 0 for any free one (default 8765)"
    )
    parser.add_argument("--api-key", help="the key clients must send (default: a random one)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SWITCH=VALUE",
        help="an EmulatorConfig switch, e.g. --set finish_usage=both (repeatable)",
    )
    parser.add_argument(
        "--request-log-size",
        type=int,
        default=EmulatorConfig.request_log_size,
        help="most requests kept in the request log, oldest dropped first (default %(default)s)",
    )
    parser.add_argument(
        "--dialect",
        choices=sorted(DIALECTS),
        default="moonshot",
        help="wire dialect: the Moonshot platform (default) or a self-hosted vLLM / SGLang",
    )
    args = parser.parse_args(argv)
    switches: dict[str, typing.Any] = _switches(args.set)
    switches.setdefault("request_log_size", args.request_log_size)
    switches.setdefault("dialect", args.dialect)
    if args.api_key:
        switches["api_key"] = args.api_key
    config = EmulatorConfig(**switches)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(KimiEmulator(host=args.host, port=args.port, config=config)))
    print("Kimi emulator stopped.", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
