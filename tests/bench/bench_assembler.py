"""Why LlamaIndex's per-event stream cannot be linear: ``StreamAssembler.feed`` against its floor.

LlamaIndex's contract is that every streamed ``ChatResponse`` carries the whole message so far,
and a caller may keep any of them (``list(llm.stream_chat(...))``; FunctionAgent keeps the last).
So each response needs its own ``str`` of the whole text: the sum of the prefix lengths is copied,
O(events^2) bytes, whatever the assembler does. This measures, in process and without a server,
the assembler next to that floor (one ``prev + piece`` per event while the previous string stays
referenced, as the previous response holds it) and the per-event cost left once the copy is
subtracted.

Run: ``.venv/bin/python tests/bench/bench_assembler.py [--piece 4] [--samples 3]``.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable

from kimi_core import StreamDelta
from llama_index.llms.kimi._stream import StreamAssembler

SIZES = (10_000, 30_000, 100_000)


def _assembler(deltas: list[StreamDelta]) -> None:
    assembler = StreamAssembler()
    response = None
    for delta in deltas:
        response = assembler.feed(delta)  # the previous response stays alive until here
    assert response is not None


def _copy_floor(deltas: list[StreamDelta]) -> None:
    kept = previous = ""
    for delta in deltas:
        # A new str per event: the previous one is still referenced, so it cannot grow in place.
        previous, kept = kept, kept + (delta.reasoning or "")
    assert len(previous) < len(kept)


def _cpu(fn: Callable[[list[StreamDelta]], None], deltas: list[StreamDelta], samples: int) -> float:
    values = []
    for _ in range(samples):
        start = time.process_time()
        fn(deltas)
        values.append(time.process_time() - start)
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--piece", type=int, default=4, help="characters per event")
    parser.add_argument("--samples", type=int, default=3)
    args = parser.parse_args()
    rows: dict[str, list[float]] = {"assembler": [], "copy floor": []}
    for size in SIZES:
        deltas = [StreamDelta(reasoning="x" * args.piece) for _ in range(size)]
        rows["assembler"].append(_cpu(_assembler, deltas, args.samples))
        rows["copy floor"].append(_cpu(_copy_floor, deltas, args.samples))
    rows["assembler - copy"] = [
        a - c for a, c in zip(rows["assembler"], rows["copy floor"], strict=True)
    ]
    print(f"{args.piece} characters per reasoning event, median of {args.samples} (CPU)")
    print("| path | " + " | ".join(f"{s:,} events us/event" for s in SIZES) + " | exponent |")
    print("|---|" + "---|" * (len(SIZES) + 1))
    for name, values in rows.items():
        per_event = [v / s * 1e6 for v, s in zip(values, SIZES, strict=True)]
        exponent = math.log(values[-1] / values[0]) / math.log(SIZES[-1] / SIZES[0])
        cells = " | ".join(f"{p:.2f}" for p in per_event)
        print(f"| {name} | {cells} | {exponent:.2f} |")


if __name__ == "__main__":
    main()
