"""One measurement in a fresh interpreter; prints one JSON line.

``bench_child.py import MODULE``: wall and CPU seconds of ``import MODULE`` (S5).
``bench_child.py rss CLIENT BASE_URL API_KEY REASONING CONTENT``: peak RSS growth while CLIENT
consumes one whole streamed answer of that size (S6). The client makes one small call first, so
lazy imports and the connection pool are not counted as growth; then the kernel's peak-RSS mark is
reset (``/proc/self/clear_refs``) and the big answer is read.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def _cold_import(module: str) -> dict[str, float]:
    import importlib

    wall0 = time.perf_counter()
    cpu0 = time.process_time()
    importlib.import_module(module)
    return {"wall": time.perf_counter() - wall0, "cpu": time.process_time() - cpu0}


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def _peak_rss(
    key: str, base_url: str, api_key: str, reasoning: int, content: int
) -> dict[str, object]:
    import ctypes
    import gc

    from bench_answer import Expected, missing_parts
    from bench_clients import CLIENTS, reference_answer
    from bench_floors import FLOORS

    classes = {cls.key: cls for cls in [*CLIENTS, *FLOORS]}
    warm = classes[key](base_url, api_key, Expected(16, 16))
    warm.invoke_streaming()
    expected = Expected(reasoning, content)
    reference = reference_answer(base_url, api_key, expected)
    client = classes[key](base_url, api_key, expected)
    gc.collect()
    # Hand freed heap pages back first, so the growth counts the pages this answer needed and
    # not whatever the warm-up happened to leave free.
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before = _status_kib("VmRSS")
    answer = client.invoke_streaming()
    peak = _status_kib("VmHWM")
    return {
        "before_kib": before,
        "peak_kib": peak,
        "growth": (peak - before) * 1024,
        "missing": missing_parts(answer, reference),
    }


def main(argv: list[str]) -> int:
    if argv[0] == "import":
        result: dict[str, object] = dict(_cold_import(argv[1]))
    elif argv[0] == "rss":
        key, base_url, api_key, reasoning, content = argv[1:6]
        result = _peak_rss(key, base_url, api_key, int(reasoning), int(content))
    else:
        raise SystemExit(f"unknown mode {argv[0]!r}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
