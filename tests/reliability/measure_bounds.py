"""CPU to assemble one SSE line of 8/16/32 MiB in 64 KiB reads (a figure, so a script, not a test).

Usage: ``uv run python tests/reliability/measure_bounds.py``. Linear assembly keeps the cost
proportional to the line; the cap (16 MiB by default) is lifted here to time the assembly itself.
"""

from __future__ import annotations

import time

from kimi_core.sse import iter_sse_batches

READ = 65536


def main() -> None:
    """Print the CPU seconds per line size."""
    for mib in (8, 16, 32):
        chunks = [b"data: " + b"x" * (READ - 6)] + [b"x" * READ] * (mib * 16 - 1) + [b"\n"]
        start = time.process_time()
        for _ in iter_sse_batches(iter(chunks), max_line=1 << 40):
            pass
        print(f"one {mib} MiB SSE line: {time.process_time() - start:.2f} s CPU")


if __name__ == "__main__":
    main()
