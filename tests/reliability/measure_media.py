"""Measure what happens to hostile media URLs through ChatKimi and Kimi; print Markdown tables.

``uv run python tests/reliability/measure_media.py`` (a script, not a test: it reports wall-clock
figures, which tests never assert). Nothing leaves loopback: every connection is recorded and one
aimed elsewhere fails the run. Per refused address class: the outcome of ``invoke`` / ``chat``
with the default policy, the connections made besides the emulator's, and the chat requests the
emulator received. Then the limits: a trickling server under ``MediaPolicy(timeout=2)``, and eight
19 MB URLs against the 100 MB request limit.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1]))

from kimi_core import MediaPolicy
from kimi_emulator import KimiEmulator
from langchain_core.messages import HumanMessage
from langchain_kimi import ChatKimi
from llama_index.core.base.llms.types import ChatMessage, ImageBlock, TextBlock
from llama_index.llms.kimi import Kimi
from media_servers import REFUSED, MediaServer, Route, guard_connections, running_media_server

MIB = 2**20
TRUST_LOOPBACK = {"127.0.0.1"}


def _call(framework: str, emu: KimiEmulator, urls: list[str], policy: MediaPolicy) -> None:
    if framework == "ChatKimi":
        model = ChatKimi(api_key=emu.api_key, base_url=emu.base_url, media=policy)
        blocks: list[Any] = [{"type": "image", "url": url} for url in urls]
        model.invoke([HumanMessage([*blocks, {"type": "text", "text": "Describe."}])])
    else:
        llm = Kimi(api_key=emu.api_key, base_url=emu.base_url, media=policy)
        images: list[Any] = [ImageBlock(url=url) for url in urls]
        llm.chat([ChatMessage(role="user", blocks=[*images, TextBlock(text="Describe.")])])


def _outcome(call: Any) -> str:
    try:
        call()
    except ValueError as error:
        return "ValueError: " + str(error).split(". ", 1)[0]
    return "sent"


def classes(emu: KimiEmulator, server: MediaServer) -> None:
    print("| class | URL | outcome (both frameworks) | dials | chat requests |")
    print("|---|---|---|---|---|")
    for name, case in REFUSED.items():
        url = case.url.format(port=server.port)
        policy = MediaPolicy(resolver=case.resolver())
        outcomes = set()
        emu.reset()
        with guard_connections() as seen:
            for framework in ("ChatKimi", "Kimi"):
                outcomes.add(_outcome(lambda f=framework, u=url, p=policy: _call(f, emu, [u], p)))
        shown = url.replace(str(server.port), "PORT")
        dns = f" (DNS: {', '.join(case.answers)})" if case.answers else ""
        dials = len(seen.other_than(emu.port)) + len(server.requests)
        print(
            f"| {name} | `{shown}`{dns} | {' / '.join(sorted(outcomes))} | {dials} "
            f"| {len(emu.chat_requests)} |"
        )


def limits(emu: KimiEmulator) -> None:
    print("\n| limit | framework | outcome | seconds | bytes served |")
    print("|---|---|---|---|---|")
    for framework in ("ChatKimi", "Kimi"):
        with running_media_server() as server:
            # 40 bytes, one every 0.5 s: each read is quick, the whole body would take 20 s.
            server.routes["/slow.png"] = Route(body=b"\x89PNG" + b"\x00" * 36, trickle=0.5)
            policy = MediaPolicy(allowed_hosts=TRUST_LOOPBACK, timeout=2)
            start = time.perf_counter()
            url = server.url("/slow.png")
            outcome = _outcome(lambda f=framework, u=url, p=policy: _call(f, emu, [u], p))
            took = time.perf_counter() - start
            print(
                f"| trickle, 1 byte / 0.5 s, timeout=2 | {framework} | {outcome} | {took:.2f} "
                f"| {server.bytes_sent} of 40 |"
            )
    for chunked in (False, True):
        for framework in ("ChatKimi", "Kimi"):
            with running_media_server() as server:
                for i in range(8):
                    server.routes[f"/p{i}.png"] = Route(
                        body=b"\x89PNG" + b"\x00" * (19 * MIB), chunked=chunked
                    )
                urls = [server.url(f"/p{i}.png") for i in range(8)]
                policy = MediaPolicy(allowed_hosts=TRUST_LOOPBACK)
                start = time.perf_counter()
                outcome = _outcome(lambda f=framework, u=urls, p=policy: _call(f, emu, u, p))
                took = time.perf_counter() - start
                kind = "chunked" if chunked else "Content-Length"
                print(
                    f"| 8 x 19 MB URLs ({kind}) | {framework} | {outcome} "
                    f"(GETs: {len(server.requests)}) | {took:.2f} "
                    f"| {server.bytes_sent / MIB:.1f} MiB |"
                )


def main() -> None:
    with KimiEmulator() as emu, running_media_server() as server:
        server.routes["/cat.png"] = Route()
        classes(emu, server)
        limits(emu)


if __name__ == "__main__":
    main()
